"""Importing contacts and cases from a spreadsheet: the entry points the screens, the
command and the benchmarks call. Every row is checked first (`imports.validation`), then
all rows are written in one transaction (`imports.writing`, through casework's bulk
writers), or none. The file is read once (`imports.reading`) and the columns mapped
(`imports.mapping`) before. One audit event records the import; it names the file by its
hash and counts rows, never cell content.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import Action
from audit.services import record

from . import validation
from .mapping import (
    MappingInvalid,
    column_samples,
    mapping_problems,
    saved_mapping,
    suggest_mapping,
)
from .models import ImportBatch, ImportKind, ImportMapping, PendingUpload
from .reading import file_sha256, read
from .sheets import Sheet
from .validation import Check, Progress, RowError
from .writing import write_cases, write_contacts

__all__ = [  # the entry points, with what their callers name from the steps before
    "AlreadyImported",
    "Check",
    "ImportRefused",
    "MappingInvalid",
    "RowError",
    "check",
    "choose_mapping",
    "column_samples",
    "discard_upload",
    "file_sha256",
    "import_sheet",
    "mapping_problems",
    "previous_import",
    "previously_imported_message",
    "read",
    "save_mapping",
    "saved_mapping",
    "store_upload",
    "suggest_mapping",
]

KIND_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ImportKind.CONTACTS: ("casework.add_contact",),
    ImportKind.CASES: ("casework.add_case", "casework.add_client"),
}
_IMPORT_LOCK = 0x696D7074  # "impt": one import per organisation at a time (PostgreSQL)


# --- refusals ---------------------------------------------------------------------------------


class ImportRefused(Exception):
    """Some rows are invalid; nothing was written."""

    def __init__(self, check: Check) -> None:
        self.check = check
        super().__init__(
            _("%(count)s件の誤りがあるため、取り込みませんでした。") % {"count": len(check.errors)}
        )


class AlreadyImported(Exception):
    """The same file was imported before; importing it again needs `force`."""

    def __init__(self, previous: ImportBatch) -> None:
        self.previous = previous
        super().__init__(previously_imported_message(previous))


def previously_imported_message(previous: ImportBatch) -> str:
    return _(
        "このファイルは%(when)sに%(who)sが取り込み済みです。もう一度取り込むと記録が重複します。"
        "それでも取り込む場合は「重複を承知で取り込む」を選んでください。"
    ) % {
        "when": date_format(timezone.localtime(previous.imported_at), "Y/n/j H:i"),
        "who": previous.imported_by,
    }


# --- mapping and earlier imports -------------------------------------------------------------


def save_mapping(actor: User, *, kind: str, mapping: dict[str, str]) -> None:
    """Remember the choices for the organisation's next file of this kind."""
    organisation_id = _require(actor, kind)
    ImportMapping.objects.update_or_create(
        organisation_id=organisation_id,
        kind=kind,
        defaults={"columns": mapping, "updated_by": actor, "updated_at": timezone.now()},
    )


def previous_import(organisation_id: int | None, *, kind: str, sha256: str) -> ImportBatch | None:
    return (
        ImportBatch.objects.filter(organisation=organisation_id, kind=kind, file_sha256=sha256)
        .select_related("imported_by")
        .order_by("-imported_at")
        .first()
    )


# --- uploads waiting between the steps of the web page ------------------------------------------


@transaction.atomic
def store_upload(
    actor: User, *, kind: str, file_name: str, data: bytes, sheet: Sheet
) -> PendingUpload:
    """Keep an uploaded file as read (`sheet`, from `read(data, kind)`), encrypted, until it
    is imported or cancelled; the later steps use it and never read the file again. The
    bytes themselves are not kept, only their hash. Uploads left behind for more than a
    day (by anyone) are discarded now."""
    _require(actor, kind)
    for stale in PendingUpload.objects.stale():
        stale.discard()
    return PendingUpload.store(
        actor, kind=kind, file_name=file_name, sheet=sheet, sha256=file_sha256(data)
    )


@transaction.atomic
def choose_mapping(actor: User, upload: PendingUpload, *, mapping: dict[str, str]) -> None:
    """The mapping for this upload, remembered for the organisation's next file too."""
    save_mapping(actor, kind=upload.kind, mapping=mapping)
    upload.columns = mapping
    upload.save(update_fields=["columns"])


def discard_upload(upload: PendingUpload) -> None:
    upload.discard()


# --- the two entry points: check (dry run) and import -------------------------------------------


def check(
    actor: User,
    sheet: Sheet,
    *,
    kind: str,
    mapping: dict[str, str],
    sha256: str,
    progress: Progress | None = None,
) -> Check:
    """What importing the sheet would create, or every row error. Writes nothing."""
    _require(actor, kind)
    plan = validation.plan(actor, sheet, kind=kind, mapping=mapping, progress=progress)
    plan.check.previous = previous_import(actor.organisation_id, kind=kind, sha256=sha256)
    return plan.check


@transaction.atomic
def import_sheet(
    actor: User,
    sheet: Sheet,
    *,
    kind: str,
    mapping: dict[str, str],
    file_name: str,
    sha256: str,
    force: bool = False,
    progress: Progress | None = None,
) -> ImportBatch:
    """Import every row, or none: raises ImportRefused with the errors, or AlreadyImported
    when the organisation imported the same bytes as the same kind before (unless forced)."""
    organisation_id = _require(actor, kind)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_IMPORT_LOCK, organisation_id])
    previous = previous_import(organisation_id, kind=kind, sha256=sha256)
    if previous is not None and not force:
        raise AlreadyImported(previous)
    plan = validation.plan(actor, sheet, kind=kind, mapping=mapping, progress=progress)
    if not plan.check.ok:
        raise ImportRefused(plan.check)
    summary = plan.check
    batch = ImportBatch.objects.create(
        organisation_id=organisation_id,
        kind=kind,
        file_name=file_name[:255],
        file_sha256=sha256,
        rows=summary.rows,
        cases_created=summary.cases_created,
        clients_created=summary.clients_created,
        contacts_created=summary.contacts_created,
        forced=previous is not None,
        imported_by=actor,
    )
    writer = write_contacts if kind == ImportKind.CONTACTS else write_cases
    writer(actor, plan, batch=batch, progress=progress)
    record(
        Action.IMPORT,
        object_type="imports.ImportBatch",
        object_ref=str(batch.id),
        actor=actor,
        detail={
            "kind": kind,
            "file_sha256": sha256,
            "rows": summary.rows,
            "cases_created": summary.cases_created,
            "clients_created": summary.clients_created,
            "contacts_created": summary.contacts_created,
            "contacts_linked": summary.contacts_linked,
            "forced": batch.forced,
            "previous_batch": str(previous.id) if previous else None,
        },
    )
    return batch


def _require(actor: User, kind: str) -> int:
    """Refuse (PermissionDenied) unless the actor may import this kind; the organisation
    the import writes for."""
    if kind not in KIND_PERMISSIONS:
        raise ValueError(f"unknown import kind {kind!r}")
    if actor.organisation_id is None or not actor.has_perms(
        ("imports.run_import", *KIND_PERMISSIONS[kind])
    ):
        raise PermissionDenied
    return actor.organisation_id
