from __future__ import annotations

from django.urls import path

from haoping.pads import views

urlpatterns = [
    path("", views.pad_home, name="pad"),
    path("bind/", views.pad_bind_view, name="pad-bind"),
    path("rate/", views.pad_rate_view, name="pad-rate"),
    path("dismiss/", views.pad_dismiss_view, name="pad-dismiss"),
    path("state/", views.pad_state, name="pad-state"),
    path("events/", views.pad_events, name="pad-events"),
    path("hall/", views.pad_hall, name="pad-hall"),
    path("staff/<str:staff_no>/photo.jpg", views.staff_photo, name="pad-staff-photo"),
]
