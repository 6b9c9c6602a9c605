"""Importing contacts and cases from a spreadsheet: every row is checked first, then all
rows are written in one transaction, or none.

The per-row casework services are not called: each writes an audit event and runs
`full_clean`, which for 10,000 rows is too slow. Rows are checked here with the models'
choices and the same rules, and written with `bulk_create` (history through
simple-history's `bulk_create_with_history`). The bulk path skips `save()`, so what
`save()` and the services would compute is computed here: data keys (one per case and per
client; contacts of a case use the case's key, anonymous ones the organisation's key for
the fiscal year), codes, `Client.birth_year`, the contact's attribute snapshot, the case's
`last_contact_at`, lead workers (with their history rows). Encryption and the blind
indexes are done by the fields' `pre_save`, which `bulk_create` calls. One audit event
records the import; it names the file by its hash and counts rows, never cell content.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from accounts.models import Organisation, User
from audit.models import Action
from audit.services import record
from casework.access import Capability
from casework.models import CODE_ALPHABET, Case, Client, Contact, DataKey, Topic, new_code
from casework.periods import age_band, fiscal_year
from casework.selectors import visible_cases

from . import columns, values
from .models import ImportBatch, ImportKind, ImportMapping, LegacyReference, PendingUpload
from .parsing import Column, Formula, Limits, Sheet, read_sheet

KIND_PERMISSIONS = {
    ImportKind.CONTACTS: ("casework.add_contact",),
    ImportKind.CASES: ("casework.add_case", "casework.add_client"),
}
PREVIEW_ROWS = 10
# The mapping page shows this many values of each column, each cut to SAMPLE_CHARS.
SAMPLE_ROWS = 3
SAMPLE_CHARS = 20
BATCH_SIZE = 500
CLIENT_FIELDS = (
    "name",
    "name_kana",
    "birth_date",
    "phone",
    "address",
    "notes",
    "gender",
    "municipality",
    "household_8050",
    "lives_alone",
)
CASE_FIELDS = (
    "status",
    "opened_on",
    "closed_on",
    "closure_reason",
    "withdrawal_band",
    "school_refusal_history",
    "suspected_mental_illness",
    "suspected_developmental_disability",
    "employment_history",
    "summary",
)
CONTACT_FIELDS = (
    "channel",
    "consulter",
    "kind",
    "minutes",
    "topics",
    "summary",
    "follow_up",
    "follow_up_due",
    "age_band",
    "gender",
)
FREE_TEXT = {"summary", "follow_up", "notes"}  # sensitive content: never in the preview
_SYSTEM_CODE = re.compile(rf"^C-[{CODE_ALPHABET}]{{6}}$")
_IMPORT_LOCK = 0x696D7074  # "impt": one import per organisation at a time (PostgreSQL)

Progress = Callable[[str, int], None]


# --- results and refusals --------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it
    column: str  # the source header, or "" for the row as a whole
    letter: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("%(row)s行目 %(letter)s列「%(column)s」：%(message)s") % {
                "row": self.row,
                "letter": self.letter,
                "column": self.column,
                "message": self.message,
            }
        return _("%(row)s行目：%(message)s") % {"row": self.row, "message": self.message}


@dataclass
class Check:
    """What an import of the file would do, or why it cannot."""

    kind: str
    rows: int
    errors: list[RowError] = field(default_factory=list)
    cases_created: int = 0
    clients_created: int = 0
    contacts_created: int = 0
    contacts_linked: int = 0
    preview_columns: list[str] = field(default_factory=list)
    preview: list[list[str]] = field(default_factory=list)
    previous: ImportBatch | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def contacts_anonymous(self) -> int:
        return self.contacts_created - self.contacts_linked


class MappingInvalid(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))


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


# --- reading and mapping -----------------------------------------------------------------------


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(data: bytes, kind: str, limits: Limits | None = None) -> Sheet:
    """The file's header and rows, read within the limits (by default the IMPORT_*
    settings); raises parsing.UnreadableFile with a message. Read once per file: the
    screens keep the result with the upload, the command holds it for its run."""
    return read_sheet(data, columns.header_matcher(kind), limits)


def saved_mapping(organisation_id: int | None, kind: str) -> dict[str, str]:
    found = ImportMapping.objects.filter(organisation_id=organisation_id, kind=kind).first()
    return dict(found.columns) if found else {}


def suggest_mapping(actor, kind: str, sheet: Sheet) -> dict[str, str]:
    """{header: target}: the organisation's saved choices first, then known header words."""
    return columns.suggest(kind, sheet.columns, saved_mapping(actor.organisation_id, kind))


def column_samples(kind: str, sheet: Sheet, mapping: dict[str, str]) -> list[str | None]:
    """The first values of each column, cut short, for the mapping page; None for a column
    mapped (or suggested) to identity or free text, which the import screens never show."""
    known = columns.targets(kind)
    hidden = {
        header
        for header, target in mapping.items()
        if target in known and (known[target].identity or target in FREE_TEXT)
    }
    samples: list[str | None] = []
    for column in sheet.columns:
        if column.header in hidden:
            samples.append(None)
            continue
        shown = []
        for _number, cells in sheet.rows[:SAMPLE_ROWS]:
            value = cells[column.index] if column.index < len(cells) else None
            text = _cell_text(value)
            if len(text) > SAMPLE_CHARS:
                text = text[: SAMPLE_CHARS - 1] + "…"
            shown.append(f"「{text}」")
        samples.append("".join(shown))
    return samples


def _cell_text(value: Any) -> str:
    """A cell as the spreadsheet would show it, roughly (dates without a time of 0:00)."""
    if value is None:
        return ""
    if isinstance(value, Formula):
        return _("（数式）")
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return _display("", value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def mapping_problems(kind: str, mapping: dict[str, str], headers: Sequence[str]) -> list[str]:
    known = columns.targets(kind)
    problems = []
    for header, target in mapping.items():
        if header not in headers:
            problems.append(_("見出し「%(header)s」の列がありません。") % {"header": header})
        if target and target not in known:
            problems.append(_("取り込み先「%(target)s」はありません。") % {"target": target})
    chosen = [t for t in mapping.values() if t]
    for target in dict.fromkeys(t for t in chosen if chosen.count(t) > 1):
        problems.append(
            _("「%(label)s」に複数の列が選ばれています。") % {"label": known[target].label}
        )
    for target in known.values():
        if target.required and target.key not in chosen:
            problems.append(
                _("必須の項目「%(label)s」に当たる列を選んでください。") % {"label": target.label}
            )
    return problems


def save_mapping(actor, kind: str, mapping: dict[str, str]) -> None:
    """Remember the choices for the organisation's next file of this kind."""
    _require(actor, kind)
    ImportMapping.objects.update_or_create(
        organisation_id=actor.organisation_id,
        kind=kind,
        defaults={"columns": mapping, "updated_by": actor, "updated_at": timezone.now()},
    )


def previous_import(organisation_id: int | None, kind: str, sha256: str) -> ImportBatch | None:
    return (
        ImportBatch.objects.filter(organisation_id=organisation_id, kind=kind, file_sha256=sha256)
        .select_related("imported_by")
        .order_by("-imported_at")
        .first()
    )


# --- uploads waiting between the steps of the web page ------------------------------------------


@transaction.atomic
def store_upload(actor, *, kind: str, file_name: str, data: bytes, sheet: Sheet) -> PendingUpload:
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
def choose_mapping(actor, upload: PendingUpload, mapping: dict[str, str]) -> None:
    """The mapping for this upload, remembered for the organisation's next file too."""
    save_mapping(actor, upload.kind, mapping)
    upload.columns = mapping
    upload.save(update_fields=["columns"])


def discard_upload(upload: PendingUpload) -> None:
    upload.discard()


# --- the two entry points: check (dry run) and import -------------------------------------------


def check(
    actor,
    kind: str,
    sheet: Sheet,
    mapping: dict[str, str],
    *,
    sha256: str,
    progress: Progress | None = None,
) -> Check:
    """What importing the sheet would create, or every row error. Writes nothing."""
    _require(actor, kind)
    plan = _plan(actor, kind, sheet, mapping, progress)
    plan.check.previous = previous_import(actor.organisation_id, kind, sha256)
    return plan.check


@transaction.atomic
def import_sheet(
    actor,
    kind: str,
    sheet: Sheet,
    mapping: dict[str, str],
    *,
    file_name: str,
    sha256: str,
    force: bool = False,
    progress: Progress | None = None,
) -> ImportBatch:
    """Import every row, or none: raises ImportRefused with the errors, or AlreadyImported
    when the organisation imported the same bytes as the same kind before (unless forced)."""
    _require(actor, kind)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_IMPORT_LOCK, actor.organisation_id]
            )
    previous = previous_import(actor.organisation_id, kind, sha256)
    if previous is not None and not force:
        raise AlreadyImported(previous)
    plan = _plan(actor, kind, sheet, mapping, progress)
    if not plan.check.ok:
        raise ImportRefused(plan.check)
    summary = plan.check
    batch = ImportBatch.objects.create(
        organisation_id=actor.organisation_id,
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
    writer = _write_contacts if kind == ImportKind.CONTACTS else _write_cases
    writer(actor, plan, batch, progress)
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


def _require(actor, kind: str) -> None:
    if kind not in KIND_PERMISSIONS:
        raise ValueError(f"unknown import kind {kind!r}")
    if actor.organisation_id is None or not actor.has_perms(
        ("imports.run_import", *KIND_PERMISSIONS[kind])
    ):
        raise PermissionDenied


# --- checking rows ------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    values: dict[str, Any]
    case: Case | None = None  # contacts: the case the row names
    user_id: int | None = None  # contacts: staff; cases: lead worker
    municipality_id: int | None = None


@dataclass
class _Plan:
    check: Check
    rows: list[_Row]


class _Errors:
    def __init__(self, mapped: dict[str, Column]) -> None:
        self.mapped = mapped
        self.found: list[RowError] = []

    def add(self, row: int, target: str | None, message: str) -> None:
        column = self.mapped.get(target or "")
        self.found.append(
            RowError(row, column.header if column else "", column.letter if column else "", message)
        )


def _plan(
    actor, kind: str, sheet: Sheet, mapping: dict[str, str], progress: Progress | None
) -> _Plan:
    problems = mapping_problems(kind, mapping, sheet.headers)
    if problems:
        raise MappingInvalid(problems)
    by_header = {column.header: column for column in sheet.columns}
    mapped = {target: by_header[header] for header, target in mapping.items() if target}
    known = columns.targets(kind)
    errors = _Errors(mapped)
    rows: list[_Row] = []
    for number, cells in sheet.rows:
        row = _Row(number, {})
        for key, column in mapped.items():
            raw = cells[column.index] if column.index < len(cells) else None
            if values.is_empty(raw):
                if known[key].required:
                    errors.add(number, key, _("必須の項目が空です。"))
                continue
            try:
                row.values[key] = known[key].convert(raw)
            except values.CellError as exc:
                errors.add(number, key, exc.message)
        rows.append(row)
        if progress:
            progress("check", 1)
    _resolve_people_and_places(actor, rows, errors)
    if kind == ImportKind.CONTACTS:
        summary = _check_contacts(actor, rows, errors)
    else:
        summary = _check_cases(actor, rows, errors)
    summary.errors = sorted(errors.found, key=lambda e: (e.row, e.letter.rjust(3)))
    summary.preview_columns, summary.preview = _preview(kind, mapped, rows)
    return _Plan(summary, rows)


def _chunks(items: Sequence[Any], size: int = BATCH_SIZE) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _word(value: str) -> str:
    return values.normalise(value)


def _resolve_people_and_places(actor, rows: list[_Row], errors: _Errors) -> None:
    """Staff and lead workers by user name (or display name) within the organisation;
    municipalities by name or local government code."""
    for user_key in ("staff", "lead_worker"):
        if any(user_key in row.values for row in rows):
            _resolve_users(actor, rows, errors, user_key)
    if any("municipality" in row.values for row in rows):
        lookup = _municipalities()
        for row in rows:
            if "municipality" in row.values:
                found = lookup(row.values["municipality"])
                if isinstance(found, str):
                    errors.add(row.number, "municipality", found)
                else:
                    row.municipality_id = found


def _resolve_users(actor, rows: list[_Row], errors: _Errors, key: str) -> None:
    by_name: dict[str, set[int]] = {}
    users = User.objects.filter(organisation_id=actor.organisation_id)
    for pk, username, display_name in users.values_list("pk", "username", "display_name"):
        by_name.setdefault(username, set()).add(pk)
        if display_name:
            by_name.setdefault(_word(display_name), set()).add(pk)
    for row in rows:
        if key in row.values:
            name = row.values[key]
            found = by_name.get(name) or by_name.get(_word(name), set())
            if len(found) == 1:
                row.user_id = next(iter(found))
            else:
                errors.add(row.number, key, _("この組織の職員として見つかりません。"))


def _municipalities() -> Callable[[str], int | str]:
    by_code: dict[str, int] = {}
    by_name: dict[str, set[int]] = {}
    for pk, name, code in Organisation.objects.filter(
        kind=Organisation.Kind.MUNICIPALITY
    ).values_list("pk", "name", "local_government_code"):
        by_code[code] = by_code[code[:5]] = pk
        by_name.setdefault(_word(name), set()).add(pk)

    def find(text: str) -> int | str:
        word = _word(text)
        if word.isdigit():
            return by_code.get(word) or _("この地方公共団体コードの市町村が見つかりません。")
        # "三重県津市" names the same place as "津市".
        candidates = by_name.get(word) or by_name.get(re.sub(r"^.{2,3}?[都道府県]", "", word))
        if not candidates:
            return _("市町村が見つかりません（名称または地方公共団体コードで入力してください）。")
        if len(candidates) > 1:
            return _("同じ名前の市町村が複数あります。地方公共団体コードで入力してください。")
        return next(iter(candidates))

    return find


def _check_contacts(actor, rows: list[_Row], errors: _Errors) -> Check:
    today = timezone.localdate()
    cases = _cases_by_reference(
        actor, [r.values["case_ref"] for r in rows if "case_ref" in r.values]
    )
    shredded_years = set(
        DataKey.objects.filter(
            organisation_id=actor.organisation_id, destroyed_at__isnull=False
        ).values_list("fiscal_year", flat=True)
    )
    for row in rows:
        occurred = row.values.get("occurred_on")
        if occurred is not None:
            day = occurred.date() if isinstance(occurred, datetime.datetime) else occurred
            if day > today:
                errors.add(row.number, "occurred_on", _("未来の日付は指定できません。"))
        reference = row.values.get("case_ref")
        if reference is not None:
            found = cases.get(_reference_key(reference))
            if isinstance(found, str):
                errors.add(row.number, "case_ref", found)
            else:
                row.case = found
        elif occurred is not None and fiscal_year(_day(occurred)) in shredded_years:
            errors.add(
                row.number,
                "occurred_on",
                _("この年度の匿名の相談記録は保存期間を過ぎて消去されているため、追加できません。"),
            )
    linked = sum(1 for row in rows if row.case is not None)
    return Check(
        kind=ImportKind.CONTACTS,
        rows=len(rows),
        contacts_created=len(rows),
        contacts_linked=linked,
    )


def _reference_key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().upper()


def _cases_by_reference(actor, references: list[str]) -> dict[str, Case | str]:
    """Each reference (system code C-XXXXXX, or a legacy case number recorded by an earlier
    case import) → the visible case it names, or the reason it names none."""
    keys = sorted({_reference_key(r) for r in references})
    codes = [k for k in keys if _SYSTEM_CODE.match(k)]
    legacy = [k for k in keys if not _SYSTEM_CODE.match(k)]
    found: dict[str, Case] = {}
    # Only cases the importer may write to (casework.access: never a read-only grant).
    visible = visible_cases(actor, Capability.WRITE).select_related(
        "client", "data_key", "merged_into__client"
    )
    for chunk in _chunks(codes):
        found.update({case.code: case for case in visible.filter(code__in=chunk)})
    legacy_cases: dict[str, Any] = {}
    for chunk in _chunks(legacy):
        legacy_cases.update(
            LegacyReference.objects.filter(
                organisation_id=actor.organisation_id, reference__in=chunk
            ).values_list("reference", "case_id")
        )
    by_pk: dict[Any, Case] = {}
    for chunk in _chunks(list(set(legacy_cases.values()))):
        by_pk.update({case.pk: case for case in visible.filter(pk__in=chunk)})
    found.update({ref: by_pk[pk] for ref, pk in legacy_cases.items() if pk in by_pk})
    result: dict[str, Case | str] = {}
    for key in keys:
        case = found.get(key)
        if case is not None and case.merged_into_id is not None:
            case = case.merged_into  # the contact belongs with the case that absorbed it
        if case is None:
            result[key] = _(
                "このケース番号に当たる、閲覧できて記録を追加できるケースがありません。"
            )
        elif case.data_key.destroyed_at is not None:
            result[key] = _(
                "このケースは保存期間を過ぎて消去されているため、記録を追加できません。"
            )
        else:
            result[key] = case
    return result


def _day(value: datetime.date | datetime.datetime) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _check_cases(actor, rows: list[_Row], errors: _Errors) -> Check:
    references = [_reference_key(r.values["case_ref"]) for r in rows if "case_ref" in r.values]
    taken: set[str] = set()
    for chunk in _chunks(sorted(set(references))):
        taken.update(
            LegacyReference.objects.filter(
                organisation_id=actor.organisation_id, reference__in=chunk
            ).values_list("reference", flat=True)
        )
    seen_references: set[str] = set()
    for row in rows:
        values_ = row.values
        if "case_ref" in values_:
            key = _reference_key(values_["case_ref"])
            values_["case_ref"] = key
            if key in taken:
                errors.add(
                    row.number, "case_ref", _("この管理番号のケースは既に取り込まれています。")
                )
            elif key in seen_references:
                errors.add(row.number, "case_ref", _("この管理番号がファイル内で重複しています。"))
            seen_references.add(key)
        status = values_.get("status")
        if status is None and "closed_on" in values_:
            values_["status"] = status = Case.Status.CLOSED
        if status == Case.Status.CLOSED and "closed_on" not in values_:
            errors.add(row.number, "status", _("状態が終結のときは終結日が必要です。"))
        opened, closed = values_.get("opened_on"), values_.get("closed_on")
        if opened and closed and closed < opened:
            errors.add(row.number, "closed_on", _("終結日が受付日より前です。"))
        birth = values_.get("birth_date")
        if birth and opened and birth > opened:
            errors.add(row.number, "birth_date", _("生年月日が受付日より後です。"))
    _check_duplicate_people(actor, rows, errors)
    clients = sum(1 for row in rows if _has_client(row))
    return Check(
        kind=ImportKind.CASES, rows=len(rows), cases_created=len(rows), clients_created=clients
    )


def _has_client(row: _Row) -> bool:
    return any(key in row.values for key in CLIENT_FIELDS)


def _check_duplicate_people(actor, rows: list[_Row], errors: _Errors) -> None:
    """A person already registered here (kana + birth date, or phone, by blind index), or
    twice in the file, stops the import as the case form would."""
    kana_field = Client._meta.get_field("kana_birth_index")
    phone_field = Client._meta.get_field("phone_index")
    indexes: list[tuple[_Row, str, str | None, str | None]] = []
    for row in rows:
        probe = Client(
            name_kana=row.values.get("name_kana"),
            birth_date=row.values.get("birth_date"),
            phone=row.values.get("phone"),
        )
        kana, phone = kana_field.compute(probe), phone_field.compute(probe)
        if kana or phone:
            target = "name_kana" if kana else "phone"
            indexes.append((row, target, kana, phone))
    wanted = sorted({i for _r, _t, k, p in indexes for i in (k, p) if i})
    existing: dict[str, str] = {}
    own_cases = Case.objects.unscoped().filter(organisation_id=actor.organisation_id)
    for chunk in _chunks(wanted):
        for kana, phone, code in own_cases.filter(
            Q(client__kana_birth_index__in=chunk) | Q(client__phone_index__in=chunk)
        ).values_list("client__kana_birth_index", "client__phone_index", "code"):
            for index in (kana, phone):
                if index in chunk:
                    existing.setdefault(index, code)
    first_row: dict[str, int] = {}
    for row, target, kana, phone in indexes:
        for index in (kana, phone):
            if not index:
                continue
            if index in existing:
                errors.add(
                    row.number,
                    target,
                    _("同一人物の可能性があるケースが既に登録されています（%(code)s）。")
                    % {"code": existing[index]},
                )
                break
            if index in first_row:
                errors.add(
                    row.number,
                    target,
                    _("%(row)s行目と同一人物の可能性があります。") % {"row": first_row[index]},
                )
                break
        for index in (kana, phone):
            if index:
                first_row.setdefault(index, row.number)


# --- preview ------------------------------------------------------------------------------------

_CHOICE_LABELS = {
    key: dict(model._meta.get_field(key).choices)
    for model, keys in (
        (Contact, ("channel", "consulter", "kind", "age_band", "gender")),
        (Case, ("status", "closure_reason", "withdrawal_band")),
    )
    for key in keys
}


def _display(key: str, value: Any) -> str:
    if key == "topics":
        return "・".join(str(Topic(v).label) for v in value)
    if key in _CHOICE_LABELS:
        return str(_CHOICE_LABELS[key].get(value, value))
    if isinstance(value, bool):
        return _("あり") if value else _("なし")
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y/%m/%d %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%Y/%m/%d")
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    return str(value)


def _preview(kind: str, mapped: dict[str, Column], rows: list[_Row]) -> tuple[list[str], list]:
    """The first rows as they would be imported, without identity or free text."""
    known = columns.targets(kind)
    shown = [
        key for key in known if key in mapped and not known[key].identity and key not in FREE_TEXT
    ]
    header = [_("行"), *[str(known[key].label) for key in shown]]
    if kind == ImportKind.CONTACTS:
        header.append(_("取り込み先"))
    lines = []
    for row in rows[:PREVIEW_ROWS]:
        line = [str(row.number)]
        line += [_display(key, row.values[key]) if key in row.values else "" for key in shown]
        if kind == ImportKind.CONTACTS:
            line.append(row.case.code if row.case else _("匿名の相談"))
        lines.append(line)
    return header, lines


# --- writing ------------------------------------------------------------------------------------


def _occurred_at(row: _Row) -> datetime.datetime:
    occurred = row.values["occurred_on"]
    if isinstance(occurred, datetime.datetime):
        moment = occurred
    else:
        moment = datetime.datetime.combine(
            occurred, row.values.get("occurred_time") or datetime.time()
        )
    return timezone.make_aware(moment)


def _history_reason(batch: ImportBatch) -> str:
    return f"import {batch.id}"


def _write_contacts(actor, plan: _Plan, batch: ImportBatch, progress: Progress | None) -> None:
    now = timezone.now()
    year_keys: dict[int, uuid.UUID] = {}
    contacts = []
    for row in plan.rows:
        occurred_at = _occurred_at(row)
        fields = {key: row.values[key] for key in CONTACT_FIELDS if key in row.values}
        fields["municipality_id"] = row.municipality_id
        case = row.case
        if case is not None:
            key_id = case.data_key_id
            if case.client is not None:  # the snapshot comes from the person, as log_contact
                fields["age_band"] = age_band(
                    case.client.birth_year, timezone.localtime(occurred_at).date()
                )
                fields["gender"] = case.client.gender
                fields["municipality_id"] = case.client.municipality_id
        else:
            year = fiscal_year(timezone.localtime(occurred_at).date())
            if year not in year_keys:
                year_keys[year] = DataKey.for_organisation_year(actor.organisation_id, year).pk
            key_id = year_keys[year]
        contacts.append(
            Contact(
                data_key_id=key_id,
                occurred_at=occurred_at,
                organisation_id=actor.organisation_id,
                staff_id=row.user_id or actor.pk,
                case=case,
                updated_by=actor,
                updated_at=now,
                created_at=now,
                **fields,
            )
        )
    for chunk in _chunks(contacts):
        bulk_create_with_history(
            chunk,
            Contact,
            batch_size=BATCH_SIZE,
            default_user=actor,
            default_change_reason=_history_reason(batch),
            default_date=now,
        )
        if progress:
            progress("write", len(chunk))
    latest = Contact.objects.unscoped().filter(case=OuterRef("pk")).order_by("-occurred_at")
    case_ids = sorted({row.case.pk for row in plan.rows if row.case is not None})
    for chunk in _chunks(case_ids):
        Case.objects.unscoped().filter(pk__in=chunk).update(  # derived, not history
            last_contact_at=Subquery(latest.values("occurred_at")[:1])
        )


def _unique_codes(model: type[Client] | type[Case], prefix: str, count: int) -> Iterator[str]:
    """`count` fresh codes unused in the table and in the batch (as PseudonymousRecord.save
    would draw them one by one)."""
    codes: set[str] = set()
    while len(codes) < count:
        fresh = set()
        while len(codes) + len(fresh) < count:
            code = new_code(prefix)
            if code not in codes:
                fresh.add(code)
        for chunk in _chunks(sorted(fresh)):
            taken = model.objects.unscoped().filter(code__in=chunk)
            fresh -= set(taken.values_list("code", flat=True))
        codes |= fresh
    return iter(codes)


def _write_cases(actor, plan: _Plan, batch: ImportBatch, progress: Progress | None) -> None:
    now = timezone.now()
    reason = _history_reason(batch)
    with_client = [row for row in plan.rows if _has_client(row)]
    client_codes = _unique_codes(Client, Client.code_prefix, len(with_client))
    case_codes = _unique_codes(Case, Case.code_prefix, len(plan.rows))
    keys: list[DataKey] = []
    clients: list[Client] = []
    cases: list[Case] = []
    lead_workers: list[tuple[uuid.UUID, int]] = []
    references: list[LegacyReference] = []
    for row in plan.rows:
        client = None
        if _has_client(row):
            client_fields = {k: row.values[k] for k in CLIENT_FIELDS if k in row.values}
            client_fields.pop("municipality", None)  # resolved to municipality_id
            birth_date = client_fields.get("birth_date")
            keys.append(DataKey.new())
            client = Client(
                data_key=keys[-1],
                code=next(client_codes),
                organisation_id=actor.organisation_id,
                municipality_id=row.municipality_id,
                birth_year=birth_date.year if birth_date else None,
                updated_by=actor,
                updated_at=now,
                created_at=now,
                **client_fields,
            )
            clients.append(client)
        case_fields = {k: row.values[k] for k in CASE_FIELDS if k in row.values}
        keys.append(DataKey.new())
        case = Case(
            data_key=keys[-1],
            code=next(case_codes),
            organisation_id=actor.organisation_id,
            client=client,
            status_changed_on=case_fields.get("closed_on") or case_fields["opened_on"],
            updated_by=actor,
            updated_at=now,
            created_at=now,
            **case_fields,
        )
        cases.append(case)
        lead_workers.append((case.pk, row.user_id or actor.pk))
        if "case_ref" in row.values:
            references.append(
                LegacyReference(
                    organisation_id=actor.organisation_id,
                    reference=row.values["case_ref"],
                    case=case,
                    batch=batch,
                )
            )
    DataKey.objects.bulk_create(keys, batch_size=BATCH_SIZE)
    history = {"default_user": actor, "default_change_reason": reason, "default_date": now}
    for chunk in _chunks(clients):
        bulk_create_with_history(chunk, Client, batch_size=BATCH_SIZE, **history)
    for chunk in _chunks(cases):
        bulk_create_with_history(chunk, Case, batch_size=BATCH_SIZE, **history)
        if progress:
            progress("write", len(chunk))
    _add_lead_workers(lead_workers)
    LegacyReference.objects.bulk_create(references, batch_size=BATCH_SIZE)


def _add_lead_workers(pairs: list[tuple[uuid.UUID, int]]) -> None:
    """Lead workers and their history rows, as `case.lead_workers.set()` would record them
    on the case's first history row."""
    through = Case.lead_workers.through
    history_through = Case.history.model.lead_workers.model
    through.objects.bulk_create(
        [through(case_id=case_id, user_id=user_id) for case_id, user_id in pairs],
        batch_size=BATCH_SIZE,
    )
    case_ids = [case_id for case_id, _user in pairs]
    for chunk in _chunks(case_ids):
        history_ids = dict(Case.history.filter(id__in=chunk).values_list("id", "history_id"))
        history_through.objects.bulk_create(
            [
                history_through(
                    id=row_id, case_id=case_id, user_id=user_id, history_id=history_ids[case_id]
                )
                for row_id, case_id, user_id in through.objects.filter(
                    case_id__in=chunk
                ).values_list("id", "case_id", "user_id")
            ],
            batch_size=BATCH_SIZE,
        )
