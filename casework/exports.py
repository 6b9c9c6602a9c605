"""Exports of the case list and the contact log, as CSV (UTF-8 with BOM) or XLSX.

Pseudonymous by default: codes and coded attributes, no identity and no free text (free
text may name people). With identity — for holders of casework.export_identity who state
a purpose, with a recent password — the client's identity and the records' text are added.
Every export is one audit event with its row count, the filters and, for identity, the
purpose; never a value from the file.

The printable case record (`case_record`, 相談記録票) is an export of one case for the staff
who keep it: pseudonymous like the meeting pack (the case code, no identity) unless a holder
of casework.export_identity prints it with the identity after a fresh step-up, with the
case's text, printed on paper marked 取扱注意; one audit event naming the minutes and the
visits it shows.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.policy import Sensitive, require_step_up
from accounts.reauth import NO_STEP_UP, StepUp
from audit.models import Action
from audit.services import record
from config.database import longer_statement_timeout
from tabular import Table, to_csv, to_xlsx

from .access import Capability
from .models import Case, Contact, Topic
from .periods import AgeBand, age_band
from .selectors import (
    TimelineEntry,
    case_timeline,
    require_visible,
    timeline_shows,
    visible_cases,
    visible_contacts,
)

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
TOPIC_LABELS = dict(Topic.choices)


def _date(value: datetime.date | datetime.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _heading(user, *, identity: bool, lines: Iterable[str]) -> list[str]:
    kind = _("個人情報を含む（取扱注意）") if identity else _("仮名（個人情報を含みません）")
    return [
        _("出力日時：%(when)s　出力者：%(who)s")
        % {"when": _date(timezone.now()), "who": user.username},
        _("区分：%(kind)s") % {"kind": kind},
        *lines,
    ]


def _limit(queryset: QuerySet) -> int:
    rows = queryset.count()
    if rows > settings.EXPORT_MAX_ROWS:
        raise ValidationError(
            _("書き出せるのは%(max)s行までです（該当%(rows)s行）。条件を絞ってください。")
            % {"max": f"{settings.EXPORT_MAX_ROWS:,}", "rows": f"{rows:,}"}
        )
    return rows


def case_table(user, cases: QuerySet[Case], *, identity: bool, lines: Iterable[str] = ()) -> Table:
    columns = [
        _("ケースコード"),
        _("状態"),
        _("受付日"),
        _("終結日"),
        _("終結理由"),
        _("性別"),
        _("年代"),
        _("居住市町村"),
        _("ひきこもり期間"),
        _("多職種連携チーム支援"),
        _("閲覧制限"),
        _("担当者"),
        _("最終相談日時"),
    ]
    if identity:
        columns += [_("氏名"), _("フリガナ"), _("生年月日"), _("電話番号"), _("住所")]
    table = Table(
        title=_("ケース一覧"),
        heading=_heading(user, identity=identity, lines=lines),
        columns=columns,
    )
    today = timezone.localdate()
    for case in cases:
        client = case.client
        row: list[Any] = [
            case.code,
            case.get_status_display(),
            _date(case.opened_on),
            _date(case.closed_on),
            case.get_closure_reason_display() or None,
            client.get_gender_display() if client else None,
            AgeBand(age_band(client.birth_year if client else None, today)).label,
            str(client.municipality) if client and client.municipality else None,
            case.get_withdrawal_band_display(),
            _("あり") if case.mdt_supported else None,
            _("あり") if case.restricted else None,
            "、".join(sorted(w.username for w in case.lead_workers.all())),
            _date(case.last_contact_at),
        ]
        if identity:
            row += (
                [
                    _text(client.name),
                    _text(client.name_kana),
                    _date(client.birth_date) if client.birth_date else None,
                    _text(client.phone),
                    _text(client.address),
                ]
                if client
                else [None] * 5
            )
        table.rows.append([str(v) if not isinstance(v, str | type(None)) else v for v in row])
    return table


def contact_table(
    user, contacts: QuerySet[Contact], *, identity: bool, lines: Iterable[str] = ()
) -> Table:
    columns = [
        _("相談日時"),
        _("ケースコード"),
        _("相談方法"),
        _("相談者"),
        _("新規／継続"),
        _("対応時間（分）"),
        _("相談内容"),
        _("年代"),
        _("性別"),
        _("居住市町村"),
        _("対応職員"),
        _("対応予定日"),
        _("対応済み"),
    ]
    if identity:
        columns += [_("氏名"), _("相談内容の記録"), _("今後の対応")]
    table = Table(
        title=_("相談記録"),
        heading=_heading(user, identity=identity, lines=lines),
        columns=columns,
        number_formats={5: "#,##0"},
    )
    for contact in contacts:
        row: list[Any] = [
            _date(contact.occurred_at),
            contact.case.code if contact.case_id else _("（匿名）"),
            contact.get_channel_display(),
            contact.get_consulter_display(),
            contact.get_kind_display(),
            contact.minutes,
            "・".join(str(TOPIC_LABELS.get(t, t)) for t in contact.topics or []) or None,
            contact.get_age_band_display(),
            contact.get_gender_display(),
            str(contact.municipality) if contact.municipality_id else None,
            contact.staff.username,
            _date(contact.follow_up_due),
            _("済") if contact.follow_up_done else None,
        ]
        if identity:
            client = contact.case.client if contact.case_id else None
            row += [
                _text(client.name) if client else None,
                _text(contact.summary),
                _text(contact.follow_up),
            ]
        table.rows.append([v if isinstance(v, int | str | type(None)) else str(v) for v in row])
    return table


@longer_statement_timeout()  # up to EXPORT_MAX_ROWS rows
def export_cases(
    user,
    cases: QuerySet[Case],
    *,
    fmt: str,
    identity: bool = False,
    purpose: str = "",
    filters: dict | None = None,
    step_up: StepUp = NO_STEP_UP,
) -> tuple[bytes, int]:
    """The case list as a file; audited with its row count. Only cases the user reaches
    with an access kind that allows exports (casework.access: never a grant)."""
    _check(user, fmt, identity, purpose, step_up)
    cases = cases.filter(pk__in=visible_cases(user, capability=Capability.EXPORT).values("pk"))
    rows = _limit(cases)
    cases = cases.select_related("client__municipality").prefetch_related("lead_workers")
    table = case_table(user, cases.order_by("code"), identity=identity)
    return _render(user, table, fmt, "casework.Case", rows, identity, purpose, filters or {}), rows


@longer_statement_timeout()
def export_contacts(
    user,
    *,
    start: datetime.date,
    end: datetime.date,
    fmt: str,
    identity: bool = False,
    purpose: str = "",
    step_up: StepUp = NO_STEP_UP,
) -> tuple[bytes, int]:
    """The contact log of [start, end] the user may export; audited with its row count."""
    _check(user, fmt, identity, purpose, step_up)
    tz = timezone.get_current_timezone()
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    until = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    exportable = visible_cases(user, capability=Capability.EXPORT)
    contacts = visible_contacts(user, cases=exportable).filter(
        occurred_at__gte=since, occurred_at__lt=until
    )
    rows = _limit(contacts)
    contacts = contacts.select_related("case__client", "staff", "municipality").order_by(
        "occurred_at", "pk"
    )
    period = _("対象期間：%(start)s～%(end)s") % {"start": start, "end": end}
    table = contact_table(user, contacts, identity=identity, lines=[period])
    filters = {"start": start.isoformat(), "end": end.isoformat()}
    return _render(user, table, fmt, "casework.Contact", rows, identity, purpose, filters), rows


def _check(user, fmt: str, identity: bool, purpose: str, step_up: StepUp) -> None:
    if not user.has_perm("casework.export_records"):
        raise PermissionDenied
    if identity and not user.has_perm("casework.export_identity"):
        raise PermissionDenied
    if identity:
        require_step_up(Sensitive.IDENTITY, step_up=step_up)
    if identity and len(purpose.strip()) < 5:
        raise ValidationError(
            {"purpose": _("個人情報を含む書き出しには目的を具体的に記入してください。")}
        )
    if fmt not in FORMATS:
        raise ValidationError(_("形式はCSVかExcelを選んでください。"))


def _render(user, table, fmt, object_type, rows, identity, purpose, filters) -> bytes:
    body = to_csv([table]) if fmt == "csv" else to_xlsx([table], table.title)
    detail = {"format": fmt, "rows": rows, "identity": identity, "filters": filters}
    if identity:
        detail["purpose"] = purpose.strip()
    record(Action.EXPORT, object_type=object_type, object_ref="list", detail=detail, actor=user)
    return body


@dataclass(frozen=True)
class CaseRecord:
    """A case's printable record (相談記録票): pseudonymous (the case code, coded
    attributes; no name, birth date, phone or address) unless printed with the identity,
    with its summary and the whole timeline: contacts, milestones, and other apps' entries
    such as visits with their place, purpose and notes and the meetings that discussed it
    with their decisions and actions (each for a viewer allowed to read them)."""

    case: Case
    age_band: str
    lead_workers: list
    timeline: list[TimelineEntry]
    printed_at: datetime.datetime
    # The client's identity (casework.services.IDENTITY_FIELDS) when printed with it.
    identity: dict[str, Any] | None = None


def case_record(
    user,
    case: Case,
    *,
    identity: bool = False,
    purpose: str = "",
    step_up: StepUp = NO_STEP_UP,
) -> CaseRecord:
    """The record of `case` for printing: an export, so casework.export_records and
    Capability.EXPORT on the case (the owner kinds; not an MDT member's agenda grant, a
    transfer read-back or a break-glass); one audit event naming the minutes and visits
    it shows.

    With `identity`, an export of identity: casework.export_identity, and the reveal of
    the case page (`services.reveal_identity`: casework.reveal_identity, Capability.
    IDENTITY and a fresh step-up in this session, else StepUpRequired), audited as a
    reveal too, with its purpose stated as for every identity export (recorded)."""
    from .services import reveal_identity  # services imports the selectors this module uses

    if not user.has_perm("casework.export_records"):
        raise PermissionDenied
    require_visible(user, case, capability=Capability.EXPORT)
    revealed = None
    if identity:
        if not user.has_perm("casework.export_identity"):
            raise PermissionDenied
        if len(purpose.strip()) < 5:
            raise ValidationError(
                {"purpose": _("個人情報を含む書き出しには目的を具体的に記入してください。")}
            )
        revealed = reveal_identity(user, case, step_up=step_up) or None  # {}: no client
    timeline = case_timeline(case, viewer=user)
    client = case.client
    record(
        Action.EXPORT,
        obj=case,
        actor=user,
        detail={
            "format": "print",
            "entries": len(timeline),
            "identity": revealed is not None,
            **({"purpose": purpose.strip()} if identity else {}),
            **timeline_shows(timeline),
        },
    )
    return CaseRecord(
        case=case,
        age_band=AgeBand(
            age_band(client.birth_year if client else None, timezone.localdate())
        ).label,
        lead_workers=list(case.lead_workers.all()),
        timeline=timeline,
        printed_at=timezone.localtime(),
        identity=revealed,
    )
