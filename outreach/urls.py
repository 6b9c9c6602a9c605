"""Outreach URLs. Each has its rule in config/access.py."""

from django.urls import path

from . import views

app_name = "outreach"

urlpatterns = [
    path("visits/", views.schedule, name="schedule"),
    path("visits/new/", views.visit_new, name="visit_new"),
    path("visits/<uuid:pk>/", views.visit_detail, name="visit_detail"),
    path("visits/<uuid:pk>/start/", views.visit_start, name="visit_start"),
    path("visits/<uuid:pk>/check-in/", views.visit_checkin, name="visit_checkin"),
    path("visits/<uuid:pk>/cancel/", views.visit_cancel, name="visit_cancel"),
    path("programmes/", views.programme_list, name="programme_list"),
    path("programmes/<int:pk>/", views.programme_detail, name="programme_detail"),
    path("sessions/<int:pk>/attendance/", views.attendance, name="attendance"),
]
