"""Every change made in the Django admin is an ADMIN_CHANGE event in the audit chain.

`AuditedAdminMixin` goes first in the bases of every registered ModelAdmin (a test walks
the admin site and fails on one without it). It records, in the transaction of the
admin's own save, the model label, the object's pseudonymous reference, what happened
(add, change, delete) and the NAMES of the changed fields — never their values, which
for some fields are secrets. For staff it also records the organisation concerned, so the
organisation's access review lists the change (casework.access_review).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.models import Action
from audit.services import record


def _organisation_of(obj: Any) -> int | None:
    from .models import Organisation, User

    if isinstance(obj, User):
        return obj.organisation_id
    if isinstance(obj, Organisation):
        return obj.pk
    return getattr(obj, "organisation_id", None)


def record_admin_change(
    obj: Any, *, operation: str, fields: list[str], actor: Any = None, **extra: Any
) -> None:
    """One ADMIN_CHANGE event: model label, reference, operation, field names; `extra`
    holds ids, role names and the names of the people involved, never values."""
    detail = {
        "model": obj._meta.label,
        "operation": operation,
        "fields": sorted(fields),
        "target_organisation": _organisation_of(obj),
        **extra,
    }
    record(Action.ADMIN_CHANGE, obj=obj, actor=actor, detail=detail)


class AuditedAdminMixin:
    """Records every add, change and delete of a ModelAdmin, inlines included."""

    # Form fields whose change is recorded by a service of their own (the user's roles).
    fields_recorded_elsewhere: tuple[str, ...] = ()

    def save_model(self, request, obj, form, change) -> None:
        previous = None
        if change and obj.pk is not None:
            previous = _organisation_of(type(obj)._default_manager.filter(pk=obj.pk).first())
        super().save_model(request, obj, form, change)
        fields = [f for f in form.changed_data if f not in self.fields_recorded_elsewhere]
        if change and not fields:
            return
        extra = {}
        if previous is not None and previous != _organisation_of(obj):
            extra["previous_organisation"] = previous
        record_admin_change(obj, operation="change" if change else "add", fields=fields, **extra)

    def save_formset(self, request, form, formset, change) -> None:
        parent = str(form.instance.pk)
        # Recorded before the rows go (a deleted instance has no primary key any more).
        for deleted in formset.deleted_forms:
            if deleted.instance.pk is not None:
                record_admin_change(deleted.instance, operation="delete", fields=[], parent=parent)
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            fields = next((f.changed_data for f in formset.forms if f.instance is obj), [])
            record_admin_change(obj, operation="add", fields=fields, parent=parent)
        for obj, fields in formset.changed_objects:
            record_admin_change(obj, operation="change", fields=list(fields), parent=parent)

    def delete_model(self, request, obj) -> None:
        record_admin_change(obj, operation="delete", fields=[])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            for obj in queryset:
                record_admin_change(obj, operation="delete", fields=[])
            super().delete_queryset(request, queryset)
