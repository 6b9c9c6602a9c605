"""Casework URLs. Each has its rule in config/access.py."""

from django.urls import path

from . import views

app_name = "casework"

urlpatterns = [
    path("contacts/new/", views.contact_new, name="contact_new"),
    path("drafts/save/", views.draft_save, name="draft_save"),
    path("drafts/discard/", views.draft_discard, name="draft_discard"),
    path("contacts/<uuid:pk>/follow-up-done/", views.follow_up_done, name="follow_up_done"),
    path("contacts/<uuid:pk>/correct/", views.contact_correct, name="contact_correct"),
    path("contacts/<uuid:pk>/link/", views.contact_link, name="contact_link"),
    path("contacts/<uuid:pk>/unlink/", views.contact_unlink, name="contact_unlink"),
    path("queue/", views.work_queue_page, name="work_queue"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/export.<str:fmt>", views.case_export, name="case_export"),
    path("contacts/export/", views.contact_export, name="contact_export"),
    path("exports/identity/", views.identity_export, name="identity_export"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/search/", views.case_search, name="case_search"),
    path("cases/break-glass/", views.break_glass, name="break_glass"),
    path("cases/break-glass/review/", views.break_glass_review, name="break_glass_review"),
    path("cases/access-review/", views.access_review, name="access_review"),
    path("cases/<str:code>/", views.case_detail, name="case_detail"),
    path("cases/<str:code>/print/", views.case_print, name="case_print"),
    path("cases/<str:code>/edit/", views.case_edit, name="case_edit"),
    path("cases/<str:code>/identity/", views.identity_reveal, name="identity_reveal"),
    path("cases/<str:code>/identity/edit/", views.identity_edit, name="identity_edit"),
    path("cases/<str:code>/close/", views.case_close, name="case_close"),
    path("cases/<str:code>/merge/", views.case_merge, name="case_merge"),
    path(
        "cases/<str:code>/link-anonymous/",
        views.case_link_anonymous,
        name="case_link_anonymous",
    ),
    path("cases/<str:code>/milestones/", views.milestone_new, name="milestone_new"),
]
