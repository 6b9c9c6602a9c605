"""Root URL configuration. Every view here must have a rule in config/access.py."""

from django.contrib import admin
from django.urls import include, path

from casework import views as casework_views
from operations import views as operations_views

# Unknown URLs under the API answer JSON like the rest of it.
handler404 = "accounts.views.page_not_found"
# A database outage answers 503 with Retry-After instead of the generic 500 (operations.outage).
handler500 = "operations.outage.server_error"
handler400 = "operations.outage.bad_request"

urlpatterns = [
    path("", casework_views.dashboard, name="home"),
    path("healthz", operations_views.health, name="health"),
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
