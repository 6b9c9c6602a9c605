"""Checking every row of a sheet before anything is written: each mapped cell converted,
people, places and cases resolved within the organisation, the rules of each kind (no
future dates, closed cases with a closing date, case numbers that name a case the
importer may write to, a person already registered or twice in the file by blind index,
legacy numbers already taken). `plan()` gives the rows ready to write and the `Check`:
what the import would create, or every error by row and column."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from casework.access import Capability
from casework.models import CODE_ALPHABET, Case, Client, DataKey
from casework.periods import fiscal_year
from casework.selectors import visible_cases
from casework.writers import chunks

from . import columns, values
from .mapping import MappingInvalid, mapping_problems, preview
from .models import ImportBatch, ImportKind, LegacyReference
from .sheets import Column, Sheet

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
_SYSTEM_CODE = re.compile(rf"^C-[{CODE_ALPHABET}]{{6}}$")

Progress = Callable[[str, int], None]


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


@dataclass
class Row:
    number: int
    values: dict[str, Any]
    case: Case | None = None  # contacts: the case the row names
    user_id: int | None = None  # contacts: staff; cases: lead worker
    municipality_id: int | None = None


@dataclass
class Plan:
    check: Check
    rows: list[Row]


class Errors:
    def __init__(self, mapped: dict[str, Column]) -> None:
        self.mapped = mapped
        self.found: list[RowError] = []

    def add(self, row: int, target: str | None, message: str) -> None:
        column = self.mapped.get(target or "")
        self.found.append(
            RowError(row, column.header if column else "", column.letter if column else "", message)
        )


def plan(
    actor: User,
    sheet: Sheet,
    *,
    kind: str,
    mapping: dict[str, str],
    progress: Progress | None = None,
) -> Plan:
    problems = mapping_problems(mapping, kind=kind, headers=sheet.headers)
    if problems:
        raise MappingInvalid(problems)
    by_header = {column.header: column for column in sheet.columns}
    mapped = {target: by_header[header] for header, target in mapping.items() if target}
    known = columns.targets(kind)
    errors = Errors(mapped)
    rows: list[Row] = []
    for number, cells in sheet.rows:
        row = Row(number, {})
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
    _resolve_people_and_places(actor, rows, errors=errors)
    if kind == ImportKind.CONTACTS:
        summary = _check_contacts(actor, rows, errors=errors)
    else:
        summary = _check_cases(actor, rows, errors=errors)
    summary.errors = sorted(errors.found, key=lambda e: (e.row, e.letter.rjust(3)))
    summary.preview_columns, summary.preview = preview(rows, kind=kind, mapped=mapped)
    return Plan(summary, rows)


def _word(value: str) -> str:
    return values.normalise(value)


def _resolve_people_and_places(actor: User, rows: list[Row], *, errors: Errors) -> None:
    """Staff and lead workers by user name (or display name) within the organisation;
    municipalities by name or local government code."""
    for user_key in ("staff", "lead_worker"):
        if any(user_key in row.values for row in rows):
            _resolve_users(actor, rows, errors=errors, key=user_key)
    if any("municipality" in row.values for row in rows):
        lookup = _municipalities()
        for row in rows:
            if "municipality" in row.values:
                found = lookup(row.values["municipality"])
                if isinstance(found, str):
                    errors.add(row.number, "municipality", found)
                else:
                    row.municipality_id = found


def _resolve_users(actor: User, rows: list[Row], *, errors: Errors, key: str) -> None:
    by_name: dict[str, set[int]] = {}
    users = User.objects.filter(organisation=actor.organisation_id)
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


def _check_contacts(actor: User, rows: list[Row], *, errors: Errors) -> Check:
    today = timezone.localdate()
    cases = _cases_by_reference(
        actor, [r.values["case_ref"] for r in rows if "case_ref" in r.values]
    )
    shredded_years = set(
        DataKey.objects.filter(
            organisation=actor.organisation_id, destroyed_at__isnull=False
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


def _cases_by_reference(actor: User, references: list[str]) -> dict[str, Case | str]:
    """Each reference (system code C-XXXXXX, or a legacy case number recorded by an earlier
    case import) → the visible case it names, or the reason it names none."""
    keys = sorted({_reference_key(r) for r in references})
    codes = [k for k in keys if _SYSTEM_CODE.match(k)]
    legacy = [k for k in keys if not _SYSTEM_CODE.match(k)]
    found: dict[str, Case] = {}
    # Only cases the importer may write to (casework.access: never a read-only grant).
    visible = visible_cases(actor, capability=Capability.WRITE).select_related(
        "client", "data_key", "merged_into__client"
    )
    for chunk in chunks(codes):
        found.update({case.code: case for case in visible.filter(code__in=chunk)})
    legacy_cases: dict[str, Any] = {}
    for chunk in chunks(legacy):
        legacy_cases.update(
            LegacyReference.objects.filter(
                organisation=actor.organisation_id, reference__in=chunk
            ).values_list("reference", "case_id")
        )
    by_pk: dict[Any, Case] = {}
    for chunk in chunks(list(set(legacy_cases.values()))):
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


def _check_cases(actor: User, rows: list[Row], *, errors: Errors) -> Check:
    references = [_reference_key(r.values["case_ref"]) for r in rows if "case_ref" in r.values]
    taken: set[str] = set()
    for chunk in chunks(sorted(set(references))):
        taken.update(
            LegacyReference.objects.filter(
                organisation=actor.organisation_id, reference__in=chunk
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
    _check_duplicate_people(actor, rows, errors=errors)
    clients = sum(1 for row in rows if has_client(row))
    return Check(
        kind=ImportKind.CASES, rows=len(rows), cases_created=len(rows), clients_created=clients
    )


def has_client(row: Row) -> bool:
    return any(key in row.values for key in CLIENT_FIELDS)


def _check_duplicate_people(actor: User, rows: list[Row], *, errors: Errors) -> None:
    """A person already registered here (kana + birth date, or phone, by blind index), or
    twice in the file, stops the import as the case form would."""
    kana_field = Client._meta.get_field("kana_birth_index")
    phone_field = Client._meta.get_field("phone_index")
    indexes: list[tuple[Row, str, str | None, str | None]] = []
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
    own_cases = Case.objects.kept_by_organisation_of(actor)
    for chunk in chunks(wanted):
        for stored_kana, stored_phone, code in own_cases.filter(
            Q(client__kana_birth_index__in=chunk) | Q(client__phone_index__in=chunk)
        ).values_list("client__kana_birth_index", "client__phone_index", "code"):
            for stored in (stored_kana, stored_phone):
                if stored in chunk:
                    existing.setdefault(stored, code)
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
