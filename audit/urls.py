"""Audit URLs. Each has its rule in config/access.py."""

from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.browser, name="browser"),
    path("export.csv", views.export, name="export"),
    path("verify/", views.verify, name="verify"),
]
