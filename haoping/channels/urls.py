from __future__ import annotations

from django.urls import path

from haoping.channels import views

urlpatterns = [
    path("s/<str:code>/", views.short_link, name="short-link"),
    path("hooks/sms/<str:provider>/", views.sms_hook, name="sms-hook"),
]
