"""Casework services: each checks permission, writes, and records its audit event, in one
transaction. Views, imports, the API and commands all call these.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypedDict, TypeVar, Unpack, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from accounts.policy import Sensitive, organisation_of, require_step_up
from accounts.reauth import NO_STEP_UP, StepUp
from accounts.selectors import case_workers
from audit.models import Action
from audit.services import record

from . import crypto, signals, writers
from .access import Capability

# Re-exported for the views (`import X as X` marks an explicit re-export for mypy).
from .break_glass import approve_break_glass as approve_break_glass
from .break_glass import break_glass as break_glass
from .break_glass import refuse_break_glass as refuse_break_glass
from .break_glass import review_break_glass as review_break_glass
from .fields import Erased
from .models import Case, CaseReadBack, Client, Contact, DataKey, Draft, Milestone, Versioned
from .periods import fiscal_year
from .selectors import find_duplicates, require_visible

WRITE = Capability.WRITE

V = TypeVar("V", bound=Versioned)

IDENTITY_FIELDS = ("name", "name_kana", "birth_date", "phone", "address", "notes")


class StaleEdit(Exception):
    """Someone saved the record after this edit began; nothing was written."""

    def __init__(self, current: Versioned) -> None:
        who = str(current.updated_by) if current.updated_by else _("別の職員")
        when = date_format(timezone.localtime(current.updated_at), "n/j H:i")
        self.message = _(
            "この記録は他の職員によって更新されました（%(who)s、%(when)s）。"
            "最新の内容を確認してから、もう一度保存してください。"
        ) % {"who": who, "when": when}
        super().__init__(self.message)


class DuplicateSuspected(Exception):
    """The person may already have a case here; the caller must confirm to go on."""

    def __init__(self, cases: list[Case]) -> None:
        self.cases = cases
        super().__init__(_("同一人物の可能性があるケースがあります。"))


def _require(actor: User, *permissions: str) -> None:
    if not actor.has_perms(permissions):
        raise PermissionDenied


def _lock(rows: QuerySet[V], pk: uuid.UUID, expected_version: int | None) -> V:
    """The row of `rows` (a model's unscoped rows), locked for this transaction; refused if
    it changed since `expected_version`."""
    current = rows.select_for_update(of=("self",)).select_related("updated_by").get(pk=pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleEdit(current)
    return current


def _pk(user: User | int) -> int:
    return user.pk if isinstance(user, User) else user


def _touch(obj: Versioned, actor: User) -> None:
    obj.version += 1
    obj.updated_by = actor
    obj.updated_at = timezone.now()


# --- cases ------------------------------------------------------------------------------


@transaction.atomic
def open_case(
    actor: User,
    *,
    identity: dict[str, Any] | None = None,
    client_attributes: dict[str, Any] | None = None,
    case_fields: dict[str, Any] | None = None,
    lead_workers: Iterable[User | int] = (),
    confirm_duplicate: bool = False,
) -> Case:
    """Open a case at the actor's organisation, with a new client when identity is given.

    A possible duplicate in the organisation stops the write unless the caller confirms.
    """
    _require(actor, "casework.add_case", "casework.add_client")
    organisation_id = organisation_of(actor)
    identity = {k: v for k, v in (identity or {}).items() if v not in (None, "")}
    client = None
    if identity or client_attributes:
        if not confirm_duplicate:
            check = find_duplicates(
                actor,
                name_kana=identity.get("name_kana", ""),
                birth_date=identity.get("birth_date"),
                phone=identity.get("phone", ""),
                other_organisations=False,
            )
            if check.same_organisation:
                raise DuplicateSuspected(check.same_organisation)
        client = Client(
            organisation_id=organisation_id,
            updated_by=actor,
            **identity,
            **(client_attributes or {}),
        )
        client.full_clean(exclude=["data_key", "code"])
    workers = list(lead_workers or [actor])
    if lead_workers:
        _require_case_workers(organisation_id, workers)
    case = Case(
        organisation_id=organisation_id,
        client=client,
        updated_by=actor,
        **writers.opening_fields(case_fields or {}),
    )
    # The client is the one made here, written with the case.
    case.full_clean(exclude=["data_key", "code", "client"])
    writers.bulk_open_cases([writers.NewCase(case, client, [_pk(u) for u in workers])], user=actor)
    record(Action.CREATE, obj=case, detail={"client": client.code if client else None})
    return case


def _require_case_workers(organisation_id: int, users: Iterable[User | int]) -> None:
    """Lead workers are the organisation's staff whose role works on cases."""
    wanted = {_pk(u) for u in users}
    allowed = set(case_workers(organisation_id).filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - allowed:
        raise ValidationError({"lead_workers": _("ケースの担当者にできない職員が含まれています。")})


@transaction.atomic
def update_case(
    actor: User,
    case: Case,
    *,
    expected_version: int,
    changes: dict[str, Any],
    lead_workers: Iterable[User | int] | None = None,
    step_up: StepUp = NO_STEP_UP,
) -> Case:
    _require(actor, "casework.change_case")
    require_visible(actor, case, capability=WRITE)
    if changes.get("sharing_consent_on", case.sharing_consent_on) != case.sharing_consent_on:
        require_step_up(Sensitive.SHARING_CONSENT, step_up=step_up)
    current = _lock(Case.objects.unscoped(), case.pk, expected_version)
    if "status" in changes and changes["status"] != current.status:
        if changes["status"] == Case.Status.CLOSED:
            raise ValidationError(_("終結は「終結する」から理由を添えて行ってください。"))
        current.status_changed_on = timezone.localdate()
    for field, value in changes.items():
        setattr(current, field, value)
    _touch(current, actor)
    current.full_clean(exclude=["data_key", "code"])
    current.save()
    if lead_workers is not None:
        lead_workers = list(lead_workers)
        _require_case_workers(current.organisation_id, lead_workers)
        current.lead_workers.set(lead_workers)
    record(
        Action.UPDATE, obj=current, detail={"fields": sorted(changes), "version": current.version}
    )
    return current


@transaction.atomic
def close_case(
    actor: User,
    case: Case,
    *,
    expected_version: int,
    reason: str,
    closed_on: datetime.date | None = None,
) -> Case:
    _require(actor, "casework.change_case")
    require_visible(actor, case, capability=WRITE)
    if reason not in Case.ClosureReason.values or reason == Case.ClosureReason.MERGED:
        raise ValidationError({"reason": _("終結理由を選んでください。")})
    current = _lock(Case.objects.unscoped(), case.pk, expected_version)
    current.status = Case.Status.CLOSED
    current.closure_reason = reason
    current.closed_on = closed_on or timezone.localdate()
    current.status_changed_on = current.closed_on
    _touch(current, actor)
    current.save()
    notify_case_ended(current, reason="closed")
    record(Action.UPDATE, obj=current, detail={"closed": reason})
    return current


def notify_case_ended(case: Case, *, reason: str) -> None:
    """The case's work at its organisation ended: it closed ("closed"), was merged away
    ("merged") or was transferred ("transferred"). Other apps end what must not outlive that
    (meetings: open agenda reviews and their MDT grants) through the signal
    `signals.case_ended`, in the caller's transaction; casework imports none of them."""
    signals.case_ended.send(sender=None, case=case, reason=reason)


@transaction.atomic
def merge_cases(
    actor: User, keep: Case, *, absorbed: Case, expected_version: int | None = None
) -> Case:
    """Merge two cases of the same person: contacts and milestones move to `keep`.

    Moved records keep the data key they were written under (each value names its key),
    so nothing is re-encrypted; the absorbed case stays, closed, pointing at `keep`, and
    erasing `keep` later must erase the keys of its merged cases too.
    """
    _require(actor, "casework.change_case", "casework.supervise_case")
    if keep.pk == absorbed.pk or keep.organisation_id != absorbed.organisation_id:
        raise ValidationError(_("同じ組織の別のケースどうしだけを統合できます。"))
    require_visible(actor, keep, capability=WRITE)
    require_visible(actor, absorbed, capability=WRITE)
    target = _lock(Case.objects.unscoped(), keep.pk, None)
    source = _lock(Case.objects.unscoped(), absorbed.pk, expected_version)
    moved = 0
    for contact in Contact.objects.unscoped().filter(case=source):
        contact.case = target
        contact.save(update_fields=["case"])
        moved += 1
    for milestone in Milestone.objects.unscoped().filter(case=source):
        milestone.case = target
        milestone.save(update_fields=["case"])
    target.lead_workers.add(*source.lead_workers.all())
    writers.refresh_last_contact([target.pk])
    source.status = Case.Status.CLOSED
    source.closure_reason = Case.ClosureReason.MERGED
    source.closed_on = timezone.localdate()
    source.merged_into = target
    _touch(source, actor)
    source.save()
    notify_case_ended(source, reason="merged")
    record(Action.UPDATE, obj=target, detail={"merged": source.code, "contacts_moved": moved})
    return target


# --- identity ---------------------------------------------------------------------------


def _require_identity(actor: User, case: Case, step_up: StepUp) -> None:
    """Who may decrypt an identity: the permission, an access kind that allows it, and a
    fresh step-up in this session. Every path to an identity (screens, exports, referrals'
    shared view) comes through here."""
    _require(actor, "casework.reveal_identity")
    require_visible(actor, case, capability=Capability.IDENTITY)
    require_step_up(Sensitive.IDENTITY, step_up=step_up)


@transaction.atomic
def reveal_identity(
    actor: User, case: Case, *, step_up: StepUp, for_edit: bool = False
) -> dict[str, Any]:
    """Decrypt the client's identity for display (`for_edit`: to fill the edit form, which
    only a kind that may write gets; break-glass reveals but never edits); the reveal
    itself is audited."""
    _require_identity(actor, case, step_up)
    if for_edit:
        _require(actor, "casework.change_client")
        require_visible(actor, case, capability=WRITE)
    if case.client is None:
        return {}
    record(Action.IDENTITY_REVEAL, obj=case.client, detail={"case": case.code})
    return {field: getattr(case.client, field) for field in IDENTITY_FIELDS}


@transaction.atomic
def update_identity(
    actor: User,
    case: Case,
    *,
    expected_version: int,
    identity: dict[str, Any],
    attributes: dict[str, Any],
    step_up: StepUp,
) -> Client:
    _require(actor, "casework.change_client")
    _require_identity(actor, case, step_up)
    require_visible(actor, case, capability=WRITE)
    if case.client_id is None:
        raise ValidationError(_("このケースには当事者が登録されていません。"))
    client = _lock(Client.objects.unscoped(), case.client_id, expected_version)
    for field, value in identity.items():
        setattr(client, field, value or None)
    for field, value in attributes.items():
        setattr(client, field, value)
    _touch(client, actor)
    client.full_clean(exclude=["data_key", "code"])
    client.save()
    record(
        Action.UPDATE,
        obj=client,
        detail={"case": case.code, "fields": sorted({**identity, **attributes})},
    )
    return client


# --- contacts and milestones ----------------------------------------------------------------


class ContactFields(TypedDict, total=False):
    """What a caller of `log_contact` may give of a contact. With a case whose person is
    registered, the snapshot (`age_band`, `gender`, `municipality`) comes from the person."""

    occurred_at: datetime.datetime
    channel: str
    consulter: str
    kind: str
    minutes: int
    topics: list[str]
    summary: str | None
    follow_up: str | None
    follow_up_due: datetime.date | None
    referring_organisation: Organisation | None
    age_band: str
    gender: str
    municipality: Organisation | None


@transaction.atomic
def log_contact(
    actor: User, *, case: Case | None = None, **fields: Unpack[ContactFields]
) -> Contact:
    """Log one contact. With a case, its attributes snapshot the client's; without one
    (an anonymous call) the caller gives the snapshot and the organisation-year key encrypts.
    """
    _require(actor, "casework.add_contact")
    fields.setdefault("occurred_at", timezone.now())
    # References set here from the actor, the visible case and its client need no lookup
    # each; what the caller passes is validated.
    trusted = ["data_key", "organisation", "staff", "updated_by"]
    if case is not None:
        require_visible(actor, case, capability=WRITE)
        trusted.append("case")
        if case.client is not None:
            trusted.append("municipality")
    contact = Contact(
        case=case,
        organisation_id=organisation_of(actor),
        staff=actor,
        updated_by=actor,
        **fields,
    )
    year_keys: dict[tuple[int, int], uuid.UUID] = {}
    writers.apply_contact_rules(contact, year_keys=year_keys)
    # The key is a fresh UUID (nothing to check unique); the one check constraint (minutes
    # within a day) is also the field's validator, checked here without a query.
    contact.full_clean(exclude=trusted, validate_unique=False, validate_constraints=False)
    writers.bulk_log_contacts([contact], user=actor, year_keys=year_keys)
    record(
        Action.CREATE,
        obj=contact,
        detail={"case": case.code if case else None, "channel": contact.channel},
    )
    return contact


# What a correction may change; the snapshot of a case's contact comes from the person.
CORRECTABLE = (
    "occurred_at",
    "channel",
    "consulter",
    "kind",
    "minutes",
    "topics",
    "summary",
    "follow_up",
    "follow_up_due",
    "referring_organisation",
    "age_band",
    "gender",
    "municipality",
)


def _require_contact_access(actor: User, contact: Contact) -> None:
    """The contact's case is visible to `actor` for writing, or, for an anonymous
    contact, it belongs to the actor's organisation."""
    if contact.case is not None:
        require_visible(actor, contact.case, capability=WRITE)
    elif contact.organisation_id != actor.organisation_id:
        raise PermissionDenied


def _same_fiscal_year(a: datetime.datetime, b: datetime.datetime) -> bool:
    return fiscal_year(timezone.localtime(a).date()) == fiscal_year(timezone.localtime(b).date())


def may_correct(actor: User, contact: Contact) -> bool:
    """Supervisors correct any contact they may write; its author within
    CONTACT_CORRECTION_DAYS of saving it."""
    if not actor.has_perm("casework.change_contact"):
        return False
    if actor.has_perm("casework.supervise_case"):
        return True
    window = datetime.timedelta(days=settings.CONTACT_CORRECTION_DAYS)
    return contact.staff_id == actor.pk and timezone.now() - contact.created_at <= window


@transaction.atomic
def correct_contact(
    actor: User, contact: Contact, *, reason: str, **fields: Unpack[ContactFields]
) -> Contact:
    """Correct a saved contact, with the reason. The text before stays in the history
    (encrypted as the record); the contact shows it was corrected, by whom and when. The
    audit event names the fields changed, never their content."""
    _require_contact_access(actor, contact)
    if not may_correct(actor, contact):
        raise PermissionDenied
    if not (reason or "").strip():
        raise ValidationError({"correction_reason": _("訂正の理由を入れてください。")})
    unknown = set(fields) - set(CORRECTABLE)
    if unknown:
        raise ValidationError(_("訂正できない項目です：%(fields)s") % {"fields": sorted(unknown)})
    _refuse_erased(contact)
    occurred = fields.get("occurred_at")
    if occurred is not None and not _same_fiscal_year(occurred, contact.occurred_at):
        # Moving a contact into another fiscal year would change a closed year's
        # figures (and its key); record it anew in that year instead.
        raise ValidationError({"occurred_at": _("相談日時は同じ年度の中でだけ訂正できます。")})
    changed = sorted(name for name, value in fields.items() if getattr(contact, name) != value)
    snapshot = {name: getattr(contact, name) for name in ("age_band", "gender", "municipality_id")}
    for name, value in fields.items():
        setattr(contact, name, value)
    writers.apply_contact_rules(contact)  # the key of the contact's case or year
    if contact.case is not None and contact.case.client_id is not None:
        # The person's attributes as counted on the day stay (the client's record may
        # have changed since; the published figures of that month do not move).
        for name, value in snapshot.items():
            setattr(contact, name, value)
    contact.correction_reason = reason.strip()
    contact.corrected_at = timezone.now()
    contact.corrected_by = actor
    _touch(contact, actor)
    contact.full_clean(exclude=["data_key", "organisation", "staff", "updated_by", "case"])
    contact._change_reason = "correction"  # type: ignore[attr-defined]
    contact.save()
    record(
        Action.UPDATE,
        obj=contact,
        detail={"correction": changed, "case": contact.case.code if contact.case else None},
    )
    return contact


ENCRYPTED_CONTACT_FIELDS = ("summary", "follow_up", "correction_reason")


def _encrypt_again(row: Any, data_key_id: uuid.UUID) -> None:
    """Point `row` (a contact or one of its history rows) at another data key, its text
    read and assigned again so that saving encrypts it under that key."""
    plain = {name: getattr(row, name) for name in ENCRYPTED_CONTACT_FIELDS}
    row.data_key_id = data_key_id
    for name, value in plain.items():
        setattr(row, name, value)


def _refuse_erased(contact: Contact) -> None:
    """A contact whose key was destroyed (retention, erasure) is not written again."""
    if any(isinstance(getattr(contact, n), Erased) for n in ENCRYPTED_CONTACT_FIELDS):
        raise ValidationError(_("消去済みの相談記録は変更できません。"))


@transaction.atomic
def link_contact(actor: User, contact: Contact, case: Case) -> Contact:
    """Link an anonymous contact to the case opened after it. The contact keeps the
    attribute snapshot it was counted with (statistics of its date do not move); its
    text is encrypted again under the case's key, so it is shredded with the case."""
    _require(actor, "casework.change_contact")
    _lock_unchanged(contact)
    if contact.case_id is not None:
        raise ValidationError(_("この相談記録はすでにケースに紐付いています。"))
    _require_contact_access(actor, contact)
    require_visible(actor, case, capability=WRITE)
    if case.organisation_id != contact.organisation_id:
        raise ValidationError(_("同じ組織のケースにだけ紐付けられます。"))
    _refuse_erased(contact)
    contact.case = case
    _encrypt_again(contact, case.data_key_id)
    # Its history too: the text before the link must go with the case when it is shredded.
    for row in Contact.history.model.objects.filter(id=contact.pk):
        _encrypt_again(row, case.data_key_id)
        row.save(update_fields=[*ENCRYPTED_CONTACT_FIELDS, "data_key"])
    _touch(contact, actor)
    contact._change_reason = LINKED  # type: ignore[attr-defined]
    contact._history_user = actor  # type: ignore[attr-defined]  # who linked (may_unlink)
    contact.save()
    writers.refresh_last_contact([case.pk])
    record(Action.UPDATE, obj=contact, detail={"linked_to": case.code})
    return contact


LINKED = "linked to a case"


def _lock_unchanged(contact: Contact) -> None:
    """Lock the contact's row for this transaction; refuse if its case changed since it
    was read (two people linking one call at once: the second is told, nothing moves)."""
    locked = Contact.objects.unscoped().select_for_update().only("case_id").get(pk=contact.pk)
    if locked.case_id != contact.case_id:
        raise ValidationError(
            _("この相談記録は他の人が先に変更しました。画面を開き直してください。")
        )


def _last_link(contact: Contact) -> Any:
    return (
        Contact.history.filter(id=contact.pk, history_change_reason=LINKED)
        .order_by("-history_date")
        .first()
    )


def was_linked(contact: Contact) -> bool:
    """The contact was taken anonymously and linked to its case later (link_contact)."""
    return contact.case_id is not None and _last_link(contact) is not None


def may_unlink(actor: User, contact: Contact) -> bool:
    """Those who may correct the contact, and whoever made the link, within
    CONTACT_CORRECTION_DAYS of making it."""
    if not was_linked(contact) or not actor.has_perm("casework.change_contact"):
        return False
    if may_correct(actor, contact):
        return True
    link = _last_link(contact)
    window = datetime.timedelta(days=settings.CONTACT_CORRECTION_DAYS)
    return bool(link.history_user_id == actor.pk and timezone.now() - link.history_date <= window)


@transaction.atomic
def unlink_contact(actor: User, contact: Contact, *, reason: str) -> Contact:
    """Undo a link made in error: the contact is anonymous again, its text under its
    organisation's key of its year (history too), with the reason, audited. Only a contact
    that was linked, by those who may correct it (its author within the window,
    supervisors) and whoever made the link within the same window (may_unlink); its
    attribute snapshot never changed, so no figure moves."""
    _require_contact_access(actor, contact)
    _lock_unchanged(contact)
    if not was_linked(contact):
        raise ValidationError(_("ケースに紐付けた匿名の相談だけ、紐付けを取り消せます。"))
    if not may_unlink(actor, contact):
        raise PermissionDenied
    if not (reason or "").strip():
        raise ValidationError({"reason": _("取り消しの理由を入れてください。")})
    _refuse_erased(contact)
    case = cast(Case, contact.case)  # was_linked: it has one
    key = DataKey.for_organisation_year(
        contact.organisation_id, fiscal_year(timezone.localtime(contact.occurred_at).date())
    )
    contact.case = None
    _encrypt_again(contact, key.pk)
    for row in Contact.history.model.objects.filter(id=contact.pk):
        _encrypt_again(row, key.pk)
        row.save(update_fields=[*ENCRYPTED_CONTACT_FIELDS, "data_key"])
    contact.correction_reason = reason.strip()
    contact.corrected_at = timezone.now()
    contact.corrected_by = actor
    _touch(contact, actor)
    contact._change_reason = "link undone"  # type: ignore[attr-defined]
    contact._history_user = actor  # type: ignore[attr-defined]
    contact.save()
    writers.refresh_last_contact([case.pk])
    record(Action.UPDATE, obj=contact, detail={"unlinked_from": case.code})
    return contact


@transaction.atomic
def complete_follow_up(actor: User, contact: Contact) -> Contact:
    _require(actor, "casework.change_contact")
    if contact.case is not None:
        require_visible(actor, contact.case, capability=WRITE)
    elif contact.organisation_id != actor.organisation_id:
        raise PermissionDenied
    contact.follow_up_done = True
    _touch(contact, actor)
    contact.save()
    record(Action.UPDATE, obj=contact, detail={"follow_up_done": True})
    return contact


@transaction.atomic
def check_event_date(case: Case | None, day: datetime.date, *, field: str) -> None:
    """Refuse a date for something that happened (a visit, a referral, a milestone, a
    meeting entered afterwards) that lies in the future or before its case was opened.
    `field` names the form field the error belongs to."""
    if day > timezone.localdate():
        raise ValidationError({field: _("未来の日付は入力できません。")})
    if case is not None and day < case.opened_on:
        raise ValidationError(
            {
                field: _("ケースの受付日（%(opened)s）より前の日付は入力できません。")
                % {"opened": case.opened_on.isoformat()}
            }
        )


def record_milestone(
    actor: User, case: Case, *, kind: str, achieved_on: datetime.date, note: str = ""
) -> Milestone:
    _require(actor, "casework.add_milestone")
    require_visible(actor, case, capability=WRITE)
    check_event_date(case, achieved_on, field="achieved_on")
    milestone = Milestone(
        case=case,
        data_key=case.data_key,
        kind=kind,
        achieved_on=achieved_on,
        note=note or None,
        recorded_by=actor,
    )
    milestone.full_clean(exclude=["data_key"])
    writers.bulk_record_milestones([milestone])
    record(Action.CREATE, obj=milestone, detail={"case": case.code, "kind": kind})
    return milestone


# --- keys ---------------------------------------------------------------------------------


def rewrap_data_keys(
    *, batch_size: int = 500, progress: Callable[[int], None] | None = None
) -> int:
    """Re-wrap every live data key under the active key of the ring.

    Touches DataKey rows only — no encrypted field value is read or written — so the cost
    grows with the number of cases, not with the amount of text. Each batch commits on
    its own: an interrupted run resumes where it stopped. Returns the number re-wrapped.
    """
    ring = crypto.keyring()
    pending = DataKey.objects.live().exclude(kek_id=ring.active_id).order_by("id")
    total = 0
    while True:
        with transaction.atomic():
            batch = list(pending.select_for_update()[:batch_size])
            if not batch:
                break
            for key in batch:
                material = ring.unwrap(key.kek_id, bytes(key.wrapped), key.id)
                key.kek_id, key.wrapped = ring.wrap(material, key.id)
            DataKey.objects.bulk_update(batch, ["kek_id", "wrapped"])
        total += len(batch)
        if progress is not None:
            progress(len(batch))
    with transaction.atomic():
        record(
            Action.KEY_ROTATION,
            object_type="casework.DataKey",
            object_ref=ring.active_id,
            detail={"rewrapped": total},
        )
    return total


# --- retention ------------------------------------------------------------------------------


def retention_cutoff(today: datetime.date | None = None) -> datetime.date:
    """Cases closed on or before this day are past retention (RETENTION_YEARS, default 5)."""
    from django.conf import settings

    today = today or timezone.localdate()
    years = settings.RETENTION_YEARS
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def expired_cases(cutoff: datetime.date) -> Iterable[Case]:
    """Closed cases past retention whose content is still readable. A case merged into
    another goes with the case it was merged into, never on its own (its moved contacts
    still use its key)."""
    return (
        Case.objects.filter(
            status=Case.Status.CLOSED,
            closed_on__lte=cutoff,
            merged_into__isnull=True,
            data_key__destroyed_at__isnull=True,
        )
        .select_related("data_key", "client__data_key")
        .order_by("closed_on", "code")
    )


def expired_year_keys(cutoff: datetime.date) -> Iterable[DataKey]:
    """Organisation-year keys (anonymous contacts) of fiscal years ended before the cutoff."""
    return DataKey.objects.live().filter(
        fiscal_year__isnull=False, fiscal_year__lt=fiscal_year(cutoff)
    )


def purge_case(case: Case) -> int:
    """Crypto-shred one expired case: destroy its data key and those of the cases merged
    into it, and its client's key and blind indexes once no readable case of the client
    remains. Rows stay, so every count is unchanged; their sensitive text reads as erased,
    in history tables too. Returns the number of data keys destroyed."""
    with transaction.atomic():
        keys = [case.data_key]
        merged = list(Case.objects.filter(merged_into=case).select_related("data_key"))
        while merged:
            keys += [m.data_key for m in merged]
            merged = list(Case.objects.filter(merged_into__in=merged).select_related("data_key"))
        client = case.client
        if client is not None:
            others = (
                Case.objects.filter(client=client, data_key__destroyed_at__isnull=True)
                .exclude(pk__in=[case.pk])
                .exclude(merged_into__isnull=False)
            )
            if not others.exists():
                keys.append(client.data_key)
                cleared = dict.fromkeys(Client.blind_index_fields(), None)
                Client.objects.filter(pk=client.pk).update(**cleared)
                Client.history.model.objects.filter(id=client.pk).update(**cleared)
        # Drafts under these keys would read as erased: they go at once.
        Draft.objects.filter(data_key__in=keys).delete()
        destroyed = 0
        for key in keys:
            if key.destroyed_at is None:
                key.destroy()
                destroyed += 1
        record(
            Action.ERASURE,
            obj=case,
            detail={
                # An expired case is closed (`expired_cases`), so it has its day.
                "closed_on": case.closed_on.isoformat() if case.closed_on else None,
                "data_keys": destroyed,
            },
        )
    return destroyed


def purge_year_key(key: DataKey) -> None:
    with transaction.atomic():
        Draft.objects.filter(data_key=key).delete()
        key.destroy()
        record(
            Action.ERASURE,
            object_type="casework.DataKey",
            object_ref=str(key.pk),
            detail={"organisation": key.organisation_id, "fiscal_year": key.fiscal_year},
        )


# --- break-glass: casework.break_glass (re-exported for the views) ------------------------------


# --- transfer read-back ------------------------------------------------------------------


def grant_read_back(actor: User, case: Case, *, organisation_id: int) -> CaseReadBack:
    """After a transfer: the old organisation may read what it wrote, read-only, for
    TRANSFER_READ_BACK_DAYS (casework.access). Called inside the transfer's transaction."""
    from django.conf import settings

    now = timezone.now()
    read_back = CaseReadBack.objects.create(
        case=case,
        organisation_id=organisation_id,
        granted_at=now,
        expires_at=now + datetime.timedelta(days=settings.TRANSFER_READ_BACK_DAYS),
    )
    record(
        Action.UPDATE,
        obj=case,
        detail={"read_back_for": organisation_id, "until": read_back.expires_at.isoformat()},
        actor=actor,
    )
    return read_back


def end_read_back(actor: User, case: Case, *, organisation_id: int) -> int:
    """End the old organisation's read-back now; how many were running."""
    ended = CaseReadBack.objects.active().filter(case=case, organisation_id=organisation_id)
    count = ended.update(ended_at=timezone.now(), ended_by=actor)
    if count:
        record(Action.UPDATE, obj=case, detail={"read_back_ended": organisation_id}, actor=actor)
    return count
