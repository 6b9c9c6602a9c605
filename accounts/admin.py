"""Admin for users and master data. Casework models are deliberately not registered.

Administrators keep accounts, but grant nothing themselves (issue 17, finding 2): no
superuser flag, no raw permissions, role groups read-only; roles that see case content or
are privileged, password resets and second-factor resets become requests that a second
person approves (accounts.approvals); nobody edits their own roles, organisation or
flags. Every change is an ADMIN_CHANGE audit event (accounts.admin_audit).
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin

from . import approvals
from .admin_audit import AuditedAdminMixin
from .models import Organisation, Region, User
from .roles import Role


class StaffCreationForm(forms.ModelForm):
    """A new account has no usable password: its first password comes from an approved
    password reset, shown to the approver, so the administrator never knows it."""

    class Meta:
        model = User
        fields = ["username", "display_name", "organisation", "profession", "email"]

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


class StaffChangeForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("役割"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "ケース情報を扱う役割と特権的な役割は、保存すると承認依頼になり、"
            "承認されるまで有効になりません。役割を外すとすぐに反映されます。"
        ),
    )

    class Meta:
        model = User
        fields = [
            "username",
            "display_name",
            "first_name",
            "last_name",
            "email",
            "organisation",
            "profession",
            "is_active",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "roles" in self.fields and self.instance.pk is not None:
            self.fields["roles"].initial = [r.value for r in self.instance.roles]


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin, SimpleHistoryAdmin):
    form = StaffChangeForm
    add_form = StaffCreationForm
    add_form_template = None
    list_display = ("username", "display_name", "organisation", "profession", "is_active")
    list_filter = ("organisation__kind", "groups", "is_active")
    search_fields = ("username", "display_name")
    filter_horizontal = ()
    fields_recorded_elsewhere = ("roles",)
    actions = ["request_password_reset", "request_factor_reset"]
    readonly_fields = (
        "password_state",
        "pending_requests",
        "is_staff",
        "is_superuser",
        "last_login",
        "date_joined",
    )
    fieldsets = (
        (None, {"fields": ("username", "password_state")}),
        (
            gettext_lazy("氏名・連絡先"),
            {"fields": ("display_name", "last_name", "first_name", "email")},
        ),
        (gettext_lazy("所属・職種"), {"fields": ("organisation", "profession")}),
        (
            gettext_lazy("役割と状態"),
            {"fields": ("roles", "pending_requests", "is_active", "is_staff", "is_superuser")},
        ),
        (gettext_lazy("日時"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"fields": ("username", "display_name", "organisation", "profession", "email")}),
    )
    # On one's own account: nothing that grants or moves.
    OWN_READ_ONLY = ("organisation", "is_active")

    def _own(self, request, obj) -> bool:
        return obj is not None and obj.pk == request.user.pk

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._own(request, obj):
            return fieldsets
        swap = {"roles": "role_list"}
        return tuple(
            (name, {**opts, "fields": tuple(swap.get(f, f) for f in opts["fields"])})
            for name, opts in fieldsets
        )

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if self._own(request, obj):
            return (*fields, "role_list", *self.OWN_READ_ONLY)
        return fields

    @admin.display(description=gettext_lazy("パスワード"))
    def password_state(self, obj: User) -> str:
        if not obj.has_usable_password():
            return _("未設定（パスワードの再設定を依頼してください）")
        if obj.must_change_password:
            return _("仮のパスワード（次回ログイン時に変更が必要）")
        return _("設定済み")

    @admin.display(description=gettext_lazy("承認待ちの依頼"))
    def pending_requests(self, obj: User) -> str:
        pending = approvals.pending_for_target(obj) if obj.pk else []
        return "、".join(str(r) for r in pending) or "—"

    @admin.display(description=gettext_lazy("役割"))
    def role_list(self, obj: User) -> str:
        return "、".join(str(r.label) for r in obj.roles) or "—"

    def user_change_password(self, request, id, form_url=""):
        # Nobody sets another person's password: request a reset (approved by a second
        # person) from the list's actions instead.
        raise PermissionDenied

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # No "revert" of an account to an earlier state, and no page offering one (the
        # history list stays readable).
        raise PermissionDenied

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        if "roles" not in form.cleaned_data or self._own(request, form.instance):
            return
        wanted = set(form.cleaned_data["roles"])
        current = {r.value for r in form.instance.roles}
        if wanted == current:
            return
        try:
            outcome = approvals.change_roles(actor=request.user, target=form.instance, roles=wanted)
        except approvals.ApprovalRefused as refused:
            self.message_user(request, refused.message, messages.ERROR)
            return
        for pending in outcome.requested:
            self.message_user(
                request,
                _("%(request)s は承認待ちです（承認者：%(approver)s）。")
                % {"request": pending, "approver": pending.get_approver_display()},
                messages.WARNING,
            )

    def _ask_each(self, request, queryset, ask, label: str) -> None:
        for target in queryset:
            try:
                ask(actor=request.user, target=target)
            except approvals.ApprovalRefused as refused:
                self.message_user(request, f"{target}: {refused.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(target)s の%(label)sを依頼しました。承認されると有効になります。")
                    % {"target": target, "label": label},
                )

    @admin.action(description=gettext_lazy("パスワードの再設定を依頼（承認が必要）"))
    def request_password_reset(self, request, queryset) -> None:
        self._ask_each(request, queryset, approvals.request_password_reset, _("パスワード再設定"))

    @admin.action(description=gettext_lazy("二要素認証のリセットを依頼（承認が必要）"))
    def request_factor_reset(self, request, queryset) -> None:
        self._ask_each(request, queryset, approvals.request_factor_reset, _("二要素認証のリセット"))


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "name",
        "kind",
        "local_government_code",
        "region",
        "consultation_window_established_on",
        "platform_established_on",
    )
    list_filter = ("kind", "region")
    search_fields = ("name", "local_government_code")


@admin.register(Region)
class RegionAdmin(AuditedAdminMixin, SimpleHistoryAdmin):
    list_display = ("name", "sort_order")


# Roles are fixed permission bundles made by migrations; organisation groups are kept by
# accounts.models. Both are read-only here, for everyone.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedAdminMixin, BaseGroupAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# Second factors are reset through an approved request (accounts.approvals), never
# edited here: the device admin would show another person's TOTP key.
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)

# The login policy's records: deleting an attempt lifts a lockout, so it is audited too.
for _model, _admin in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
        audited = type(f"Audited{_admin.__name__}", (AuditedAdminMixin, _admin), {})
        admin.site.register(_model, audited)
