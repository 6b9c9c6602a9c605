"""Screens for the second factor: enrolment (key, confirmation, recovery codes),
verification after sign-in, and the step-up re-authentication. Access: config/access.py
(any signed-in user); who may change a factor: accounts.two_factor.may_change_factor."""

from __future__ import annotations

import base64

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import two_factor
from .access import signed_in


def _secret(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, as authenticator apps ask for it."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _qr_code(config_url: str) -> SafeString:
    """The authenticator's set-up address as an inline SVG QR code, drawn here (segno):
    no script, no image request, nothing leaves the server."""
    svg = segno.make(config_url, error="m", micro=False).svg_inline(
        scale=4,
        border=4,
        svgclass="qr",
        lineclass=None,
        light="#fff",
        title=escape(_("認証アプリ設定用のQRコード")),
    )
    return mark_safe(svg)  # noqa: S308 - segno's markup, the title escaped above


@never_cache
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    if not two_factor.may_change_factor(request):
        # Replacing a factor: pass it again on the step-up page (which also verifies a
        # session that has not passed it yet), then come back.
        messages.info(
            request,
            _(
                "認証アプリを設定し直すには、パスワードと、いまの認証アプリのコード"
                "（または回復コード）で本人確認をしてください。"
            ),
        )
        return redirect(
            reverse("accounts:reauthenticate") + "?" + urlencode({"next": request.path})
        )
    if request.method == "POST":
        codes = two_factor.confirm_enrolment(request, request.POST.get("token", ""))
        if codes is not None:
            return render(request, "accounts/two_factor_codes.html", {"codes": codes})
        messages.error(
            request,
            _("確認コードが正しくありません。アプリに表示されている6桁の数字を入力してください。"),
        )
    device = two_factor.pending_device(request)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "secret": _secret(device),
            "config_url": device.config_url,
            "qr_code": _qr_code(device.config_url),
            "required": two_factor.required_for(request.user),
            "enrolled": two_factor.enrolled(request.user),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    if not two_factor.enrolled(request.user):
        return redirect("accounts:two_factor_setup")
    if request.method == "POST":
        if two_factor.verify(request, request.POST.get("token", "")):
            target = request.POST.get("next") or "/"
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                target = "/"
            return redirect(target)
        messages.error(
            request, _("コードが正しくありません。数秒待ってから、もう一度入力してください。")
        )
    return render(request, "accounts/two_factor_verify.html", {"next": request.GET.get("next", "")})


@never_cache
@require_http_methods(["GET", "POST"])
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """Confirm the password (and the second factor when enrolled) before a sensitive step."""
    from django.contrib.auth import authenticate

    from audit.models import Action
    from audit.services import record

    from . import reauth

    target = request.GET.get("next") or request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = "/"
    needs_code = two_factor.enrolled(request.user)
    if request.method == "POST":
        user = authenticate(
            request, username=request.user.get_username(), password=request.POST.get("password", "")
        )
        ok = user is not None and user.pk == request.user.pk
        if ok and needs_code:
            ok = two_factor.verify(request, request.POST.get("token", ""))
        if ok:
            request.session.cycle_key()  # re-authentication: a new key (ASVS 5.0 7.2.4)
            reauth.mark(request.session)
            if needs_code:  # the only step-up that may change the factor
                reauth.mark_with_factor(request)
            record(
                Action.LOGIN,
                obj=signed_in(request),
                detail={"reauthenticated": True, "with_factor": needs_code},
            )
            messages.success(request, _("本人確認ができました。もう一度操作してください。"))
            return redirect(target)
        messages.error(request, _("パスワードまたはコードが正しくありません。"))
    return render(
        request, "accounts/reauthenticate.html", {"next": target, "needs_code": needs_code}
    )
