"""The approvals screen: pending requests a person may decide, and the requests they made.
Decisions are POST only; the policy and every check live in accounts.approvals. Access:
config/access.py."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import approvals, reauth
from .middleware import bad_request
from .models import ApprovalRequest


@never_cache
@require_GET
def approval_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/approvals.html",
        {
            "pending": approvals.decidable(request.user),
            "mine": approvals.made_by(request.user),
        },
    )


@never_cache
@require_POST
def approval_decide(request: HttpRequest, pk: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "refuse"):
        return bad_request(request, _("承認または却下を選んでください。"))
    pending = ApprovalRequest.objects.select_related("target").filter(pk=pk).first()
    if pending is None or not approvals.may_decide(request.user, pending):
        raise Http404
    if decision == "approve" and approvals.needs_step_up(pending):
        return reauth.recent_auth_required(_decide)(request, pk, approve=True)
    return _decide(request, pk, approve=decision == "approve")


def _decide(request: HttpRequest, pk: int, *, approve: bool) -> HttpResponse:
    try:
        result = approvals.decide(
            actor=request.user,
            request_id=pk,
            approve=approve,
            recently_authenticated=reauth.is_recent(request),
        )
    except ApprovalRequest.DoesNotExist as missing:
        raise Http404 from missing
    except approvals.ApprovalRefused as refused:
        messages.error(request, refused.message)
        return redirect("accounts:approvals")
    if result.temporary_password:
        # Shown once, on this answer to the POST; stored nowhere in plaintext.
        return render(
            request,
            "accounts/approval_password.html",
            {"request_": result.request, "temporary_password": result.temporary_password},
        )
    if approve:
        messages.success(request, _("承認しました：%(request)s") % {"request": result.request})
    else:
        messages.info(request, _("却下しました：%(request)s") % {"request": result.request})
    return redirect("accounts:approvals")
