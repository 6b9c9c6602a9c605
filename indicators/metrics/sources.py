"""The tables metrics count over: each with its date column, the column naming the
organisation that recorded the row, and the dimensions it can be broken down by.
Breakdowns by municipality and region are by where the person lives (for programmes:
where the programme is held)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from casework.models import AgeBand, Case, Channel, Consulter, Contact, Gender, Milestone
from meetings.models import AgendaItem, Meeting
from outreach.models import Attendance, ParticipantType, Programme, Session, Visit
from referrals.models import Referral

from .registry import Dimension, Source, choices_of


def _month(path: str) -> Dimension:
    return Dimension("month", _("月別"), path, month=True)


def _municipality(path: str, label: Promise | None = None, key: str = "municipality") -> Dimension:
    """Organisations (municipalities) named by `path`, listed by local government code."""
    label = label or _("居住市町村別")
    return Dimension(
        key,
        label,
        path,
        name_path=f"{path}__name",
        order_path=f"{path}__local_government_code",
    )


def _region(path: str, label: Promise | None = None) -> Dimension:
    label = label or _("圏域別")
    return Dimension(
        "region",
        label,
        f"{path}__region",
        name_path=f"{path}__region__name",
        order_path=f"{path}__region__sort_order",
    )


CONTACTS = Source(
    "contacts",
    lambda: Contact.objects.unscoped(),
    "organisation",
    "occurred_at",
    timestamp=True,
    dimensions=(
        _month("occurred_at"),
        Dimension("channel", _("相談方法別"), "channel", choices_of(Channel)),
        Dimension("consulter", _("相談者別"), "consulter", choices_of(Consulter)),
        Dimension("kind", _("相談記録の新規（初回）・継続別"), "kind", choices_of(Contact.Kind)),
        Dimension("age_band", _("年代別"), "age_band", choices_of(AgeBand)),
        Dimension("gender", _("性別"), "gender", choices_of(Gender)),
        _municipality("municipality"),
        _region("municipality"),
        _municipality("referring_organisation", _("相談元の機関別"), key="referrer"),
    ),
)
CASES = Source(
    "cases",
    lambda: Case.objects.unscoped().filter(merged_into__isnull=True),
    "organisation",
    "opened_on",
    dimensions=(
        _month("opened_on"),
        Dimension(
            "withdrawal_band",
            _("ひきこもり期間別"),
            "withdrawal_band",
            choices_of(Case.WithdrawalBand),
        ),
        _municipality("client__municipality"),
        _region("client__municipality"),
    ),
)
VISITS = Source(
    "visits",
    lambda: Visit.objects.unscoped().filter(status=Visit.Status.DONE),
    "organisation",
    "contact__occurred_at",
    timestamp=True,
    dimensions=(
        _month("contact__occurred_at"),
        Dimension("visit_kind", _("種別"), "kind", choices_of(Visit.Kind)),
        Dimension("destination", _("訪問・同行先別"), "destination", choices_of(Visit.Destination)),
        _municipality("case__client__municipality"),
        _region("case__client__municipality"),
    ),
)
# Outreach (アウトリーチ): contacts whose channel is a home visit or an accompaniment,
# whatever wrote them (a completed visit, the contact form, an import or the demo).
OUTREACH_CHANNELS = {
    str(Visit.KIND_CHANNEL[kind].value): label for kind, label in choices_of(Visit.Kind).items()
}
OUTREACH = Source(
    "outreach",
    lambda: Contact.objects.unscoped().filter(channel__in=list(OUTREACH_CHANNELS)),
    "organisation",
    "occurred_at",
    timestamp=True,
    dimensions=(
        _month("occurred_at"),
        Dimension("visit_kind", _("種別"), "channel", OUTREACH_CHANNELS),
        Dimension("consulter", _("相談者別"), "consulter", choices_of(Consulter)),
        Dimension("age_band", _("年代別"), "age_band", choices_of(AgeBand)),
        Dimension("gender", _("性別"), "gender", choices_of(Gender)),
        _municipality("municipality"),
        _region("municipality"),
    ),
)
MEETINGS = Source(
    "meetings",
    lambda: Meeting.objects.unscoped().filter(status=Meeting.Status.HELD),
    "host",
    "held_at",
    timestamp=True,
    dimensions=(
        _month("held_at"),
        Dimension("meeting_kind", _("会議の種別"), "kind", choices_of(Meeting.Kind)),
        _region("host", _("開催組織の圏域別")),
    ),
)
# Agenda items of held meetings of every kind; the metrics choose the kinds.
AGENDA = Source(
    "agenda",
    lambda: AgendaItem.objects.unscoped().filter(meeting__status=Meeting.Status.HELD),
    "meeting__host",
    "meeting__held_at",
    timestamp=True,
    dimensions=(
        _month("meeting__held_at"),
        Dimension("meeting_kind", _("会議の種別"), "meeting__kind", choices_of(Meeting.Kind)),
    ),
)
SESSIONS = Source(
    "sessions",
    lambda: Session.objects.unscoped(),
    "programme__organiser",
    "held_on",
    dimensions=(
        _month("held_on"),
        Dimension("programme_kind", _("事業の種別"), "programme__kind", choices_of(Programme.Kind)),
        _municipality("programme__host_municipality", _("開催市町村別")),
        Dimension(
            "region",
            _("圏域別"),
            "programme__region",
            name_path="programme__region__name",
            order_path="programme__region__sort_order",
        ),
    ),
)
ATTENDANCE = Source(
    "attendance",
    lambda: Attendance.objects.unscoped(),
    "session__programme__organiser",
    "session__held_on",
    dimensions=(
        _month("session__held_on"),
        Dimension(
            "programme_kind",
            _("事業の種別"),
            "session__programme__kind",
            choices_of(Programme.Kind),
        ),
        Dimension(
            "participant_type", _("参加者の区分別"), "participant_type", choices_of(ParticipantType)
        ),
        _municipality("residence"),
        Dimension(
            "region",
            _("開催圏域別"),
            "session__programme__region",
            name_path="session__programme__region__name",
            order_path="session__programme__region__sort_order",
        ),
    ),
)
REFERRALS = Source(
    "referrals",
    lambda: Referral.objects.unscoped().filter(sent_at__isnull=False),
    "from_organisation",
    "sent_at",
    timestamp=True,
    dimensions=(
        _month("sent_at"),
        Dimension("referral_kind", _("紹介の種別"), "kind", choices_of(Referral.Kind)),
        Dimension("referral_status", _("結果別"), "status", choices_of(Referral.Status)),
    ),
)
MILESTONES = Source(
    "milestones",
    lambda: Milestone.objects.unscoped().filter(case__merged_into__isnull=True),
    "case__organisation",
    "achieved_on",
    dimensions=(
        _month("achieved_on"),
        Dimension("milestone_kind", _("到達状況別"), "kind", choices_of(Milestone.Kind)),
        _municipality("case__client__municipality"),
        _region("case__client__municipality"),
    ),
)
MUNICIPALITIES = Source(
    "municipalities",
    lambda: Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY, is_active=True),
    "",
    None,
    dimensions=(
        Dimension(
            "region",
            _("圏域別"),
            "region",
            name_path="region__name",
            order_path="region__sort_order",
        ),
    ),
)
