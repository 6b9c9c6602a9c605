"""Indicator URLs. Each has its rule in config/access.py."""

from django.urls import path

from . import views

app_name = "indicators"

urlpatterns = [
    path("", views.plan_list, name="plans"),
    path("plans/<int:pk>/", views.progress, name="progress"),
    path("plans/<int:pk>/export.<str:fmt>", views.progress_export, name="progress_export"),
    path("plans/<int:pk>/print/", views.progress_print, name="progress_print"),
    path("plans/<int:pk>/submit/", views.submit, name="submit"),
    path("plans/<int:plan_pk>/indicators/<int:pk>/", views.sheet, name="sheet"),
    path(
        "plans/<int:plan_pk>/indicators/<int:pk>/edit/", views.indicator_edit, name="indicator_edit"
    ),
    path("snapshots/<int:pk>/", views.snapshot_detail, name="snapshot"),
    path("metrics/<slug:key>/", views.metric_detail, name="metric"),
    path("metrics/<slug:key>/export.<str:fmt>", views.metric_export, name="metric_export"),
]
