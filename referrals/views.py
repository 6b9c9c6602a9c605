"""Referral screens: outbox, inbox, new referral, detail with transitions, shared view,
transfer. Access: config/access.py."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import reauth
from accounts.access import signed_in
from casework.access import Capability
from casework.selectors import get_visible_case

from . import selectors, services
from .forms import ReferralForm, TransferForm
from .models import Referral

ACTIONS = {
    "send": Referral.Status.SENT,
    "accept": Referral.Status.ACCEPTED,
    "decline": Referral.Status.DECLINED,
    "complete": Referral.Status.COMPLETED,
    "withdraw": Referral.Status.WITHDRAWN,
}


@never_cache
def referral_lists(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    return render(
        request,
        "referrals/lists.html",
        {
            "inbox": selectors.inbox(user)[:100],
            "outbox": selectors.outbox(user)[:100],
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest, code: str) -> HttpResponse:
    user = signed_in(request)
    case = get_visible_case(user, code, capability=Capability.WRITE)
    form = ReferralForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.create_referral(user, case, **form.service_kwargs())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, _("紹介を下書きとして保存しました。内容を確認して送付してください。")
            )
            return redirect("referrals:detail", pk=referral.pk)
    return render(request, "referrals/referral_form.html", {"case": case, "form": form})


@never_cache
def referral_detail(request: HttpRequest, pk: str) -> HttpResponse:
    user = signed_in(request)
    referral = selectors.read_referral(user, pk)
    sender = referral.from_organisation_id == user.organisation_id
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "referral": referral,
            "sender": sender,
            "profile": selectors.non_identifying_profile(referral),
            "transitions": referral.transitions.select_related("by"),
            "actions": [
                name
                for name, status in ACTIONS.items()
                if services.TRANSITIONS[referral.status].get(status)
                == ("sender" if sender else "receiver")
            ],
            "can_view_shared": user.has_perm("referrals.view_shared_case", referral)
            and not referral.consent_withdrawn_on,
        },
    )


@never_cache
@require_POST
def referral_move(request: HttpRequest, pk: str, action: str) -> HttpResponse:
    user = signed_in(request)
    referral = selectors.get_referral_for(user, pk)
    if action not in ACTIONS:
        messages.error(request, _("この操作はできません。"))
        return redirect("referrals:detail", pk=referral.pk)
    try:
        services.move(
            user,
            referral,
            to_status=ACTIONS[action],
            note=request.POST.get("note", "")[:2000],
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("紹介の状態を変更しました。"))
    return redirect("referrals:detail", pk=referral.pk)


@never_cache
@require_POST
def consent_withdraw(request: HttpRequest, pk: str) -> HttpResponse:
    """Needs a fresh step-up (accounts.policy, checked by the service)."""
    user = signed_in(request)
    referral = selectors.get_referral_for(user, pk)
    services.withdraw_consent(user, referral, step_up=reauth.step_up_of(request))
    messages.success(request, _("同意の撤回を記録しました。紹介先からは閲覧できなくなりました。"))
    return redirect("referrals:detail", pk=referral.pk)


@never_cache
@require_http_methods(["GET", "POST"])
def shared_case(request: HttpRequest, pk: str) -> HttpResponse:
    """The consented parts; the consented identity only on request (POST), after a step-up."""
    user = signed_in(request)
    referral = selectors.get_referral_for(user, pk)
    parts = selectors.shared_view(
        user,
        referral,
        reveal=request.method == "POST",
        step_up=reauth.step_up_of(request),
    )
    return render(request, "referrals/shared_case.html", {"referral": referral, "parts": parts})


@never_cache
@require_http_methods(["GET", "POST"])
def transfer_new(request: HttpRequest, code: str) -> HttpResponse:
    user = signed_in(request)
    case = get_visible_case(user, code, capability=Capability.WRITE)
    form = TransferForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.transfer_case(user, case, to_organisation=form.cleaned_data["to_organisation"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("ケースを移管しました。"))
            return redirect("referrals:lists")
    return render(request, "referrals/transfer_form.html", {"case": case, "form": form})


@never_cache
@require_POST
def transfer_end_access(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in(request)
    transfer = selectors.transfer_for(user, pk)
    services.end_transfer_access(user, transfer)
    messages.success(request, _("移管元の閲覧を終了しました。"))
    return redirect("referrals:lists")
