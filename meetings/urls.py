"""Meeting URLs. Each has its rule in config/access.py."""

from django.urls import path

from . import views

app_name = "meetings"

urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_new, name="new"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>/print/", views.meeting_print, name="print"),
    path("<int:pk>/agenda/", views.agenda_add, name="agenda_add"),
    path("<int:pk>/attendees/", views.attendees, name="attendees"),
    path("<int:pk>/external/", views.external_add, name="external_add"),
    path("<int:pk>/unregistered/", views.unregistered_cases, name="unregistered_cases"),
    path("items/<uuid:pk>/drop/", views.agenda_drop, name="agenda_drop"),
    path("items/<uuid:pk>/minutes/", views.minutes, name="minutes"),
    path("actions/<uuid:pk>/done/", views.action_done, name="action_done"),
]
