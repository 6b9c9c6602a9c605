"""Screens for a user's own API tokens: list, make (with a recent password), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.access import signed_in
from accounts.reauth import recent_auth_required
from audit.models import Action
from audit.services import record

from .forms import TokenForm
from .models import ApiToken


def _page(request: HttpRequest, form: TokenForm, *, raw: str = "", status: int = 200):
    tokens = ApiToken.objects.filter(user=signed_in(request))
    return render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": tokens, "raw": raw, "now": timezone.now()},
        status=status,
    )


@never_cache
def token_list(request: HttpRequest) -> HttpResponse:
    return _page(request, TokenForm())


@never_cache
@require_POST
@recent_auth_required
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    with transaction.atomic():
        token, raw = ApiToken.issue(
            signed_in(request), name=form.cleaned_data["name"], days=form.cleaned_data["days"]
        )
        record(
            Action.CREATE,
            obj=token,
            detail={"token": token.prefix, "expires": token.expires_at.date().isoformat()},
        )
    # Shown on this response only (201, not a redirect): the raw token is stored nowhere.
    return _page(request, TokenForm(), raw=raw, status=201)


@never_cache
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    with transaction.atomic():
        token = get_object_or_404(
            ApiToken.objects.select_for_update(), pk=pk, user=signed_in(request), revoked_at=None
        )
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(Action.UPDATE, obj=token, detail={"token": token.prefix, "revoked": True})
    messages.success(
        request, _("トークン %(prefix)s… を無効にしました。") % {"prefix": token.prefix}
    )
    return redirect("api_tokens:list")
