from __future__ import annotations

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from haoping.api import api
from haoping.evaluations import views as evaluation_views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("r/<str:token>/", evaluation_views.rate, name="rate"),
    path("r/<str:token>/qr.svg", evaluation_views.rate_qr, name="rate-qr"),
    path("r/<str:token>/done/<str:receipt>/", evaluation_views.rate_done, name="rate-done"),
]

admin.site.site_header = "好差评 管理"
