"""Reads of the import screens, limited to the user's own uploads and organisation."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User

from .models import ImportBatch, PendingUpload


def pending_upload(user: User, pk: uuid.UUID) -> PendingUpload:
    """The user's own upload waiting between steps, or 404."""
    found = PendingUpload.objects.filter(pk=pk, owner_id=user.pk).first()
    if found is None:
        raise Http404
    return found


def organisation_batches(user: User) -> QuerySet[ImportBatch]:
    if user.organisation_id is None:
        return ImportBatch.objects.none()
    return ImportBatch.objects.filter(organisation_id=user.organisation_id).select_related(
        "imported_by"
    )


def batch(user: User, pk: uuid.UUID) -> ImportBatch:
    found = organisation_batches(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found
