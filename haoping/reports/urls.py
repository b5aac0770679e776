from __future__ import annotations

from django.urls import path

from haoping.reports import views

urlpatterns = [
    path("", views.report_list, name="reports"),
    path("<int:report_id>/", views.report_detail, name="report-detail"),
    path("<int:report_id>/status", views.report_status, name="report-status"),
    path("<int:report_id>/report.xlsx", views.report_xlsx, name="report-xlsx"),
    path("<int:report_id>/report.pdf", views.report_pdf, name="report-pdf"),
]
