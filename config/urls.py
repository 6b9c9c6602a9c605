"""Root URL configuration. Every view here must have a rule in config/access.py."""

from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from casework import views as casework_views

urlpatterns = [
    path("", casework_views.dashboard, name="home"),
    path("healthz", account_views.health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("", include("casework.urls")),
    path("referrals/", include("referrals.urls")),
    path("outreach/", include("outreach.urls")),
    path("meetings/", include("meetings.urls")),
    path("indicators/", include("indicators.urls")),
    path("audit/", include("audit.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
