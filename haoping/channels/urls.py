from __future__ import annotations

from django.urls import path

from haoping.channels import views

urlpatterns = [
    path("s/<str:code>/", views.short_link, name="short-link"),
    path("hooks/sms/<str:provider>/", views.sms_hook, name="sms-hook"),
    path("console/paper/", views.paper, name="console-paper"),
    path("console/paper/<int:form_id>/photo/", views.paper_photo, name="console-paper-photo"),
]
