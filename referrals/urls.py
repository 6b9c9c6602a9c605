"""Referral URLs. Each has its rule in config/access.py."""

from django.urls import path

from . import views

app_name = "referrals"

urlpatterns = [
    path("", views.referral_lists, name="lists"),
    path("new/<str:code>/", views.referral_new, name="new"),
    path("<uuid:pk>/", views.referral_detail, name="detail"),
    path("<uuid:pk>/shared/", views.shared_case, name="shared"),
    path("<uuid:pk>/consent-withdrawn/", views.consent_withdraw, name="consent_withdraw"),
    path("<uuid:pk>/<slug:action>/", views.referral_move, name="move"),
    path("transfer/<str:code>/", views.transfer_new, name="transfer"),
    path("transfers/<int:pk>/end-access/", views.transfer_end_access, name="transfer_end_access"),
]
