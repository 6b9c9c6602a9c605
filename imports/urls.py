"""Import URLs. Each has its rule in config/access.py."""

from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("<uuid:pk>/mapping/", views.mapping, name="mapping"),
    path("<uuid:pk>/review/", views.review, name="review"),
    path("<uuid:pk>/cancel/", views.cancel, name="cancel"),
    path("batches/<uuid:pk>/", views.done, name="done"),
]
