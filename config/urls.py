"""Root URL configuration. Every view here must have a rule in config/access.py."""

from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from casework import views as casework_views

# Unknown URLs under the API answer JSON like the rest of it.
handler404 = "accounts.views.page_not_found"

urlpatterns = [
    path("", casework_views.dashboard, name="home"),
    path("healthz", account_views.health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("", include("casework.urls")),
    path("referrals/", include("referrals.urls")),
    path("imports/", include("imports.urls")),
    path("outreach/", include("outreach.urls")),
    path("meetings/", include("meetings.urls")),
    path("indicators/", include("indicators.urls")),
    path("audit/", include("audit.urls")),
    path("api/v1/", include("api.urls")),
    path("api-tokens/", include("api.token_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
