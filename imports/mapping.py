"""Which column is imported as what: the organisation's saved choices, the suggestion
from the header words, the problems of a mapping, and what the screens may show of a
file (samples of each column, the preview of the first rows), never identity or free
text."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Field, Model
from django.utils.translation import gettext as _

from accounts.models import User
from casework.models import Case, Contact, Topic

from . import columns
from .models import ImportKind, ImportMapping
from .sheets import Column, Formula, Sheet

if TYPE_CHECKING:  # the validation module imports this one
    from .validation import Row

PREVIEW_ROWS = 10
# The mapping page shows this many values of each column, each cut to SAMPLE_CHARS.
SAMPLE_ROWS = 3
SAMPLE_CHARS = 20
FREE_TEXT = {"summary", "follow_up", "notes"}  # sensitive content: never in the preview


class MappingInvalid(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))


def saved_mapping(organisation_id: int | None, *, kind: str) -> dict[str, str]:
    found = ImportMapping.objects.filter(organisation=organisation_id, kind=kind).first()
    return dict(found.columns) if found else {}


def suggest_mapping(actor: User, sheet: Sheet, *, kind: str) -> dict[str, str]:
    """{header: target}: the organisation's saved choices first, then known header words."""
    return columns.suggest(kind, sheet.columns, saved_mapping(actor.organisation_id, kind=kind))


def column_samples(sheet: Sheet, *, kind: str, mapping: dict[str, str]) -> list[str | None]:
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
            text = cell_text(value)
            if len(text) > SAMPLE_CHARS:
                text = text[: SAMPLE_CHARS - 1] + "…"
            shown.append(f"「{text}」")
        samples.append("".join(shown))
    return samples


def cell_text(value: Any) -> str:
    """A cell as the spreadsheet would show it, roughly (dates without a time of 0:00)."""
    if value is None:
        return ""
    if isinstance(value, Formula):
        return _("（数式）")
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return display("", value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def mapping_problems(mapping: dict[str, str], *, kind: str, headers: Sequence[str]) -> list[str]:
    known = columns.targets(kind)
    problems = []
    for header, key in mapping.items():
        if header not in headers:
            problems.append(_("見出し「%(header)s」の列がありません。") % {"header": header})
        if key and key not in known:
            problems.append(_("取り込み先「%(target)s」はありません。") % {"target": key})
    chosen = [t for t in mapping.values() if t]
    for key in dict.fromkeys(t for t in chosen if chosen.count(t) > 1):
        problems.append(
            _("「%(label)s」に複数の列が選ばれています。") % {"label": known[key].label}
        )
    for target in known.values():
        if target.required and target.key not in chosen:
            problems.append(
                _("必須の項目「%(label)s」に当たる列を選んでください。") % {"label": target.label}
            )
    return problems


# --- display --------------------------------------------------------------------------------------


def _choice_labels(model: type[Model], key: str) -> dict[Any, Any]:
    field = model._meta.get_field(key)
    return dict(field.flatchoices) if isinstance(field, Field) else {}


_CHOICE_LABELS = {
    key: _choice_labels(model, key)
    for model, keys in (
        (Contact, ("channel", "consulter", "kind", "age_band", "gender")),
        (Case, ("status", "closure_reason", "withdrawal_band")),
    )
    for key in keys
}


def display(key: str, value: Any) -> str:
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


def preview(
    rows: Sequence[Row], *, kind: str, mapped: dict[str, Column]
) -> tuple[list[str], list[list[str]]]:
    """The first rows as they would be imported, without identity or free text."""
    known = columns.targets(kind)
    shown = [
        key for key in known if key in mapped and not known[key].identity and key not in FREE_TEXT
    ]
    header = [_("行"), *[str(known[key].label) for key in shown]]
    if kind == ImportKind.CONTACTS:
        header.append(_("取り込み先"))
    lines: list[list[str]] = []
    for row in rows[:PREVIEW_ROWS]:
        line = [str(row.number)]
        line += [display(key, row.values[key]) if key in row.values else "" for key in shown]
        if kind == ImportKind.CONTACTS:
            line.append(row.case.code if row.case else _("匿名の相談"))
        lines.append(line)
    return header, lines
