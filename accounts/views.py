"""The 404 handler, lockout management and the own password change (the
start page is the casework dashboard)."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import credentials, services
from .access import is_api_path, signed_in
from .forms import PreferencesForm
from .middleware import remaining_seconds, start_idle_clock


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 as JSON under the API, Django's page (templates/404.html) elsewhere."""
    if is_api_path(request):
        return JsonResponse({"detail": _("見つかりません。")}, status=404)
    return defaults.page_not_found(request, exception)


@never_cache
def lockouts(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/lockouts.html", {"lockouts": services.lockouts(signed_in(request))[:200]}
    )


@never_cache
@require_POST
def unlock(request: HttpRequest) -> HttpResponse:
    try:
        lock = services.unlock(
            signed_in(request),
            kind=request.POST.get("kind", ""),
            value=request.POST.get("value", "")[:255],
        )
    except PermissionDenied:
        raise Http404 from None  # no such lock, or not one this user may lift
    if lock.kind == services.ADDRESS:
        message = _("接続元 %(address)s のロックを解除しました。") % {
            "address": lock.value or _("不明")
        }
    elif lock.unknown_name:
        message = _("登録のないユーザー名（%(digest)s）のロックを解除しました。") % {
            "digest": lock.digest
        }
    else:
        message = _("%(username)s のロックを解除しました。") % {"username": lock.value}
    messages.success(request, message)
    return redirect("accounts:lockouts")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's form (old password, password rules); the change itself is
    accounts.credentials.change_own_password: audited, API tokens revoked, owner told."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form):
        credentials.change_own_password(self.request, form)
        return HttpResponseRedirect(self.get_success_url())


@never_cache
@require_GET
def session_status(request: HttpRequest) -> HttpResponse:
    """How long this session has left; asking does not extend it (middleware)."""
    return JsonResponse({"remaining": remaining_seconds(request)})


@never_cache
@require_POST
def session_extend(request: HttpRequest) -> HttpResponse:
    """The warning's 「延長する」 button: someone is at the keyboard, the idle clock restarts."""
    start_idle_clock(request.session)
    return JsonResponse({"remaining": remaining_seconds(request)})


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """The user's own settings (the daily work-queue digest)."""
    user = signed_in(request)
    # Bound on every POST: unticking the only box posts no field at all.
    data = request.POST if request.method == "POST" else None
    form = PreferencesForm(data, initial={"work_digest": user.work_digest})
    if request.method == "POST" and form.is_valid():
        services.set_work_digest(user, enabled=form.cleaned_data["work_digest"])
        messages.success(request, _("個人設定を保存しました。"))
        return redirect("accounts:preferences")
    return render(request, "accounts/preferences.html", {"form": form})
