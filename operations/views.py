"""The health check (operations.health). Access: config/access.py (public)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health as checks
from .outage import RETRY_AFTER_SECONDS


@require_GET
@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """`ok`, or 503 naming the failing dependency and nothing more."""
    failing = checks.failing_dependency()
    if failing is None:
        return HttpResponse("ok", content_type="text/plain")
    response = HttpResponse(f"unavailable: {failing}", status=503, content_type="text/plain")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Logged once per outage by the check itself (operations.outage): not again by Django
    # for every poll of the load balancer.
    response._has_been_logged = True
    return response
