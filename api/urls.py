"""API version 1, under /api/v1/ (config/urls.py). A later incompatible version gets its
own module and prefix; version 1 stays as long as integrations use it."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("metrics/", views.MetricList.as_view(), name="metric_list"),
    path("metrics/<str:key>/", views.MetricDetail.as_view(), name="metric_detail"),
    path("plans/", views.PlanList.as_view(), name="plan_list"),
    path("plans/<int:pk>/progress/", views.PlanProgress.as_view(), name="plan_progress"),
    path("referrals/inbox/", views.ReferralInbox.as_view(), name="referral_inbox"),
    path("referrals/outbox/", views.ReferralOutbox.as_view(), name="referral_outbox"),
    path("referrals/<str:pk>/", views.ReferralDetail.as_view(), name="referral_detail"),
    path(
        "referrals/<str:pk>/transitions/",
        views.ReferralTransition.as_view(),
        name="referral_transition",
    ),
    path("contacts/", views.ContactCreate.as_view(), name="contact_create"),
]
