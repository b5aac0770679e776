from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from haoping import accessibility
from haoping.api import api
from haoping.disclosure import views as disclosure_views
from haoping.evaluations import views as evaluation_views
from haoping.exchange import views as exchange_views
from haoping.feedback import views as feedback_views
from haoping.indicators import views as dashboards
from haoping.ops import views as ops
from haoping.pads import views as pads
from haoping.rectification import views as console

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    # Browsers ask for it on every page; without it each page logs a 404.
    path("favicon.ico", RedirectView.as_view(url="/static/favicon.svg", permanent=True)),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
    path("r/<str:token>/", evaluation_views.rate, name="rate"),
    path("r/<str:token>/qr.svg", evaluation_views.rate_qr, {"kind": "svg"}, name="rate-qr"),
    path("r/<str:token>/qr.png", evaluation_views.rate_qr, {"kind": "png"}, name="rate-qr-png"),
    path("r/<str:token>/done/<str:receipt>/", evaluation_views.rate_done, name="rate-done"),
    path("v/<str:token>/", console.revisit, name="revisit"),
    path("text-size/", accessibility.text_size, name="text-size"),
    path("pad/", include("haoping.pads.urls")),
    path("h/<str:code>/", pads.hall_page, name="hall-rate"),
    path("h/<str:code>/qr.svg", pads.hall_qr, name="hall-qr"),
    path("", include("haoping.channels.urls")),
    path(
        "console/login/",
        auth_views.LoginView.as_view(template_name="console/login.html", redirect_authenticated_user=True),
        name="console-login",
    ),
    path("console/logout/", auth_views.LogoutView.as_view(next_page="/console/login/"), name="console-logout"),
    path("console/", console.queue, name="console"),
    path("console/exchange/", exchange_views.exchange, name="console-exchange"),
    path("console/cases/<int:case_id>/", console.case_detail, name="console-case"),
    path("console/cases/<int:case_id>/act/<str:action>/", console.case_action, name="console-case-action"),
    path("console/cases/<int:case_id>/reveal/", console.case_reveal, name="console-case-reveal"),
    path("console/cases/<int:case_id>/appeal/", console.case_appeal, name="console-case-appeal"),
    path("console/appeals/", console.appeals, name="console-appeals"),
    path("console/appeals/<int:appeal_id>/decide/", console.appeal_decision, name="console-appeal-decide"),
    path("console/evidence/<int:evidence_id>/", console.evidence_file, name="console-evidence"),
    path("console/blocked/", console.blocked, name="console-blocked"),
    path("console/spot-checks/", console.spot_checks, name="console-spot-checks"),
    path("console/spot-checks/<int:check_id>/", console.spot_check, name="console-spot-check"),
    path("console/messages/", console.inbox, name="console-inbox"),
    path("console/indicators/", dashboards.overview, name="indicators-overview"),
    path("console/indicators/institution/<str:code>/", dashboards.institution, name="indicators-institution"),
    path("console/indicators/staff/<str:staff_no>/", dashboards.staff_member, name="indicators-staff"),
    path("console/indicators/rankings/", dashboards.rankings, name="indicators-rankings"),
    path("console/indicators/problems/", dashboards.problems, name="indicators-problems"),
    path("console/indicators/<str:kind>/<str:code>/", dashboards.object_page, name="indicators-object"),
    path("console/my/", dashboards.my_ratings, name="indicators-my"),
    path("console/reports/", include("haoping.reports.urls")),
    path("console/health/", ops.health, name="console-health"),
    path("console/pads/", pads.console_pads, name="console-pads"),
    path("console/disclosure/", disclosure_views.console_page, name="console-disclosure"),
    path(
        "console/disclosure/rectification/",
        disclosure_views.console_rectification,
        name="console-disclosure-rectification",
    ),
    path("console/disclosure/cases/", disclosure_views.console_cases, name="console-disclosure-cases"),
    path("console/comments/", feedback_views.inbox, name="console-comments"),
    path("console/comments/new/", feedback_views.comment_key_in, name="console-comment-new"),
    path("console/comments/<int:comment_id>/", feedback_views.comment_detail, name="console-comment"),
    # R18: anyone may comment; before the published pages, whose first segment is a region code.
    path("gongkai/comment/", feedback_views.comment_form, name="gongkai-comment"),
    path("c/<str:token>/", feedback_views.comment_answer, name="comment-answer"),
    # R19: published results, open to anyone.
    path("gongkai/", include("haoping.disclosure.urls")),
]

# Chinese pages for applicants and for staff (haoping.error_pages); /api/ keeps its JSON errors.
handler400 = "haoping.error_pages.bad_request"
handler403 = "haoping.error_pages.permission_denied"
handler404 = "haoping.error_pages.page_not_found"
handler500 = "haoping.error_pages.server_error"

admin.site.site_header = "好差评 管理"
