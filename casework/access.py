"""Access kinds: the ways a user reaches a case, and what each way allows.

One policy for every caller (screens, API, exports, imports, meetings, outreach): the
selectors build their querysets from it and every service that acts on a case asks it
(`require`) for the capability the action needs. A view never decides access itself.

- owner: staff of the case's organisation whose role keeps cases; everything their role's
  permissions allow; a restricted case only for supervisors.
- lead worker: a worker assigned to the case; as owner, restricted cases included (that
  is what assignment is for).
- agenda: an MDT member attending a meeting with the case on its agenda, until the
  review closes; read and minutes; never a restricted case.
- transfer read-back: the organisation a case was transferred from, for
  TRANSFER_READ_BACK_DAYS or until a supervisor ends it; read the records it wrote;
  never a restricted case.
- break-glass: an emergency access (casework.services.break_glass), at once within the
  own organisation, across organisations once the case organisation's supervisor
  approves; read, and identity with step-up; a restricted case only within the own
  organisation.
- referral scope: the receiving organisation of an accepted referral; the consented
  parts only, through `referrals.selectors.shared_view`; no case page; never a
  restricted case's page. At a case conference the organisation hosts, also the agenda
  item and that item's minutes (`meetings.selectors.by_referral`).

Role permissions still apply on top (revealing an identity needs
`casework.reveal_identity` and a fresh step-up; writing needs the model permission).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case as DbCase
from django.db.models import CharField, Q, QuerySet, Value, When
from django.utils import timezone

if TYPE_CHECKING:  # casework.models imports this module
    from accounts.models import User

    from .models import Case


class Kind(enum.StrEnum):
    OWNER = "owner"
    LEAD_WORKER = "lead_worker"
    AGENDA = "agenda"
    TRANSFER_READ_BACK = "transfer_read_back"
    BREAK_GLASS = "break_glass"


class Capability(enum.StrEnum):
    READ = "read"  # the case's pages and timeline
    WRITE = "write"  # change the case, log contacts, milestones, visits, agenda, referrals
    IDENTITY = "identity"  # decrypt the client's identity (with reveal_identity + step-up)
    EXPORT = "export"  # record exports
    MINUTES = "minutes"  # read and write the case's meeting minutes


_EVERYTHING = frozenset(Capability)

ALLOWS: dict[Kind, frozenset[Capability]] = {
    Kind.OWNER: _EVERYTHING,
    Kind.LEAD_WORKER: _EVERYTHING,
    Kind.AGENDA: frozenset({Capability.READ, Capability.MINUTES}),
    Kind.TRANSFER_READ_BACK: frozenset({Capability.READ}),
    Kind.BREAK_GLASS: frozenset({Capability.READ, Capability.IDENTITY}),
}


def kinds_allowing(capability: Capability) -> frozenset[Kind]:
    return frozenset(kind for kind, allowed in ALLOWS.items() if capability in allowed)


@dataclass(frozen=True)
class CaseAccess:
    """How one user reaches one case. `kinds` stops at the owner kinds, which allow all."""

    kinds: frozenset[Kind]

    def allows(self, capability: Capability) -> bool:
        return any(capability in ALLOWS[kind] for kind in self.kinds)

    @property
    def own_records_only(self) -> bool:
        """The viewer sees only the records their own organisation wrote (read-back)."""
        return self.kinds == {Kind.TRANSFER_READ_BACK}

    def __bool__(self) -> bool:
        return bool(self.kinds)


NONE = CaseAccess(frozenset())


def keeps_cases(user: User) -> bool:
    """A role that keeps its organisation's cases (not MDT members, liaisons, statistics,
    auditors or administrators)."""
    return user.has_perm("casework.view_org_cases") and user.organisation_id is not None


def _owner_kind(user: User, case: Case) -> Kind | None:
    if not keeps_cases(user) or case.organisation_id != user.organisation_id:
        return None
    if not case.restricted or user.has_perm("casework.supervise_case"):
        return Kind.OWNER
    if case.lead_workers.through.objects.filter(case_id=case.pk, user_id=user.pk).exists():
        return Kind.LEAD_WORKER
    return None


# Tags of the grant query's rows: whether a grant may reach a restricted case.
_UNRESTRICTED_ONLY, _REACHES_RESTRICTED = "g", "r"


def grant_queries(
    user: User, *, capability: Capability = Capability.READ
) -> list[QuerySet[Any, tuple[uuid.UUID, str]]]:
    """The grant kinds that allow `capability`, as querysets of (case id, tag) rows
    (unevaluated). The tag says whether the grant may reach a restricted case: only a
    break-glass within the user's own organisation may."""
    from .models import BreakGlass, CaseReadBack, CaseUserObjectPermission

    wanted = kinds_allowing(capability)
    now = timezone.now()
    plain = Value(_UNRESTRICTED_ONLY, output_field=CharField())
    queries: list[QuerySet[Any, tuple[uuid.UUID, str]]] = []
    if Kind.AGENDA in wanted:
        # Agenda grants are the only user object grants on cases (meetings.services). They
        # are given on cases the host keeps to its own staff, so they hold only while the
        # member still belongs to the case's organisation (not after moving to another).
        queries.append(
            CaseUserObjectPermission.objects.filter(
                user_id=user.pk,
                permission__codename="view_case",
                # `organisation=<id>` rather than `organisation_id=`: the same SQL, and
                # typed to take the None of a user without organisation (no row).
                content_object__organisation=user.organisation_id,
            ).values_list("content_object_id", plain)
        )
    if Kind.TRANSFER_READ_BACK in wanted and keeps_cases(user):
        queries.append(
            CaseReadBack.objects.active(now)
            .filter(organisation=user.organisation_id)
            .values_list("case_id", plain)
        )
    if Kind.BREAK_GLASS in wanted:
        own = Q(case__organisation_id=user.organisation_id)
        tag = DbCase(
            When(own, then=Value(_REACHES_RESTRICTED)),
            default=plain,
            output_field=CharField(),
        )
        glass = BreakGlass.objects.active(now).filter(user_id=user.pk)
        queries.append(glass.values_list("case_id", tag))
    return queries


def granted_case_ids(
    user: User, *, capability: Capability = Capability.READ
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Case ids reached by a grant allowing `capability`, in one query (a UNION): those
    that may not be restricted, and those that may.

    A person holds few grants, so the case query takes them as a list of ids rather than
    as sub-queries: an OR of sub-queries makes PostgreSQL test every row of the table,
    while an OR of an organisation and a list of keys can use the indexes
    (tests/performance/test_query_plans.py).
    """
    queries = [q.order_by() for q in grant_queries(user, capability=capability)]
    if not queries:
        return [], []
    first, *rest = queries
    rows = list(first.union(*rest)) if rest else list(first)
    unrestricted = [case_id for case_id, tag in rows if tag == _UNRESTRICTED_ONLY]
    any_case = [case_id for case_id, tag in rows if tag == _REACHES_RESTRICTED]
    return unrestricted, any_case


def scope_q(user: User, *, capability: Capability = Capability.READ) -> Q:
    """The cases `user` reaches with `capability`, as a filter on Case."""
    unrestricted, any_case = granted_case_ids(user, capability=capability)
    scope = Q(pk__in=[])
    if unrestricted:
        scope |= Q(pk__in_array=unrestricted, restricted=False)
    if any_case:
        scope |= Q(pk__in_array=any_case)
    if keeps_cases(user):
        own = Q(organisation_id=user.organisation_id)
        if not user.has_perm("casework.supervise_case"):
            assigned = user.lead_cases.through.objects.filter(user_id=user.pk).values("case_id")
            own &= Q(restricted=False) | Q(pk__in=assigned)
        scope = own | scope
    return scope


def read_back_only_case_ids(user: User) -> QuerySet[Any] | None:
    """The cases `user` reaches only by transfer read-back (`CaseAccess.own_records_only`
    for each), as an unevaluated query of case ids: read-back grants of their organisation,
    less the cases it keeps and those a break-glass of the user opens (an agenda grant
    needs the case to be the organisation's own). None when there can be none."""
    from .models import BreakGlass, CaseReadBack

    organisation_id = user.organisation_id
    if organisation_id is None or not keeps_cases(user):
        return None
    now = timezone.now()
    glass = BreakGlass.objects.active(now).filter(user_id=user.pk).values("case_id")
    return (
        CaseReadBack.objects.active(now)
        .filter(organisation_id=organisation_id)
        .exclude(case__organisation_id=organisation_id)
        .exclude(case_id__in=glass)
        .values("case_id")
    )


def written_by_own(user: User, written_by: str = "organisation_id") -> Q:
    """Records `user`'s own organisation wrote (`written_by`: the path to the writing
    organisation): what a transfer read-back reaches of a case's records."""
    return Q(**{written_by: user.organisation_id})


def own_records_q(user: User, written_by: str = "organisation_id", case: str = "case_id") -> Q:
    """Filter on a case's records (contacts, milestones, visits) on top of their cases'
    scope: on a case reached only by transfer read-back, only the records `user`'s own
    organisation wrote (as `casework.selectors.case_timeline` shows them); elsewhere all.
    No query of its own: the read-back cases go in as a sub-query."""
    read_back_only = read_back_only_case_ids(user)
    if read_back_only is None:
        return Q()
    return ~Q(**{f"{case}__in": read_back_only}) | written_by_own(user, written_by)


def access_to(user: User, case: Case) -> CaseAccess:
    """How `user` reaches `case` (no kinds: not at all). At most a few small queries; none
    for the common case of a counsellor on an unrestricted case of their organisation."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or case.pk is None:
        return NONE
    owner = _owner_kind(user, case)
    if owner is not None:
        return CaseAccess(frozenset({owner}))
    from .models import BreakGlass, CaseReadBack, CaseUserObjectPermission

    now = timezone.now()
    kinds: set[Kind] = set()
    if not case.restricted:
        if (
            case.organisation_id == user.organisation_id
            and CaseUserObjectPermission.objects.filter(
                user_id=user.pk, permission__codename="view_case", content_object_id=case.pk
            ).exists()
        ):
            kinds.add(Kind.AGENDA)
        if (
            keeps_cases(user)
            and CaseReadBack.objects.active(now)
            .filter(organisation=user.organisation_id, case_id=case.pk)
            .exists()
        ):
            kinds.add(Kind.TRANSFER_READ_BACK)
    glass = BreakGlass.objects.active(now).filter(user_id=user.pk, case_id=case.pk)
    if case.restricted:
        glass = glass.filter(case__organisation=user.organisation_id)
    if glass.exists():
        kinds.add(Kind.BREAK_GLASS)
    return CaseAccess(frozenset(kinds))


_CACHE = "_access_by_user"


def cached_access(user: User, case: Case) -> CaseAccess:
    """`access_to`, remembered on the instance for this user (an instance lives one
    request)."""
    cache: dict[int, CaseAccess] = case.__dict__.setdefault(_CACHE, {})
    if user.pk not in cache:
        cache[user.pk] = access_to(user, case)
    return cache[user.pk]


def require(user: User, case: Case, *, capability: Capability = Capability.READ) -> CaseAccess:
    """Refuse (PermissionDenied) unless `user` reaches `case` with `capability`."""
    access = cached_access(user, case)
    if not access.allows(capability):
        raise PermissionDenied
    return access
