from __future__ import annotations

from django.urls import path

from haoping.disclosure import views

urlpatterns = [
    path("", views.index, name="gongkai"),
    path("receipt/", views.receipt, name="gongkai-receipt"),
    path("<str:code>/", views.region_page, name="gongkai-region"),
    # 案例库 and bulletins: before "<code>/<month>/", whose month they would otherwise be.
    path("<str:code>/cases/", views.cases_page, name="gongkai-cases"),
    path("<str:code>/bulletin/<str:period>/", views.bulletin_page, name="gongkai-bulletin"),
    path("<str:code>/bulletin/<str:period>.pdf", views.bulletin_pdf, name="gongkai-bulletin-pdf"),
    path("<str:code>/<str:month>/", views.region_page, name="gongkai-month"),
    path("<str:code>/<str:month>/rectification/", views.rectification_page, name="gongkai-rectification"),
    path(
        "<str:code>/<str:month>/rectification.<str:fmt>",
        views.rectification_download,
        name="gongkai-rectification-file",
    ),
    path("<str:code>/<str:month>/<str:table>.<str:fmt>", views.download, name="gongkai-download"),
    path("<str:code>/<str:month>/<str:table>/<str:object_code>/", views.object_page, name="gongkai-object"),
]
