"""The registered metrics: every counting rule of the statistics, written once, in the
order the API and the metric list show them."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from casework.models import Channel, Consulter, Contact, Milestone
from meetings.models import Meeting
from outreach.models import ParticipantType, Programme, Visit
from referrals.models import Referral

from ..periods import Period
from .registry import (
    AS_OF,
    DISTINCT,
    TOTAL,
    Distinct,
    Metric,
    Param,
    choices_of,
    count_rows,
    register,
    sum_heads,
)
from .sources import (
    AGENDA,
    ATTENDANCE,
    CASES,
    CONTACTS,
    MEETINGS,
    MILESTONES,
    MUNICIPALITIES,
    REFERRALS,
    SESSIONS,
    VISITS,
)

CHANNEL = Param("channel", _("相談方法"), choices_of(Channel))
CONSULTER = Param("consulter", _("相談者"), choices_of(Consulter))
CONTACT_KIND = Param("kind", _("新規／継続"), choices_of(Contact.Kind))
ANONYMOUS = Param(
    "anonymous", _("匿名相談"), {"yes": _("匿名のみ"), "no": _("ケースのある相談のみ")}
)


def _anonymous(params: dict[str, list[str]]) -> Q:
    chosen = set(params.get("anonymous", []))
    if chosen == {"yes"}:
        return Q(case__isnull=True)
    if chosen == {"no"}:
        return Q(case__isnull=False)
    return Q()


register(
    Metric(
        key="contacts",
        label=_("相談件数"),
        unit=_("件"),
        counting=TOTAL,
        source=CONTACTS,
        measure=count_rows,
        description=_("相談記録の件数（延べ）。匿名の相談を含みます。"),
        params=(
            (CHANNEL, "channel"),
            (CONSULTER, "consulter"),
            (CONTACT_KIND, "kind"),
            (ANONYMOUS, ""),
        ),
        condition=_anonymous,
    )
)
register(
    Metric(
        key="municipal_staff_consultations",
        label=_("市町村担当課等からの個別事例の相談件数"),
        unit=_("件"),
        counting=TOTAL,
        source=CONTACTS,
        measure=count_rows,
        description=_("相談者が関係機関で、相談元の機関が市町村である相談記録の件数（延べ）。"),
        params=((CHANNEL, "channel"),),
        condition=lambda params: Q(
            consulter=Consulter.AGENCY,
            referring_organisation__kind=Organisation.Kind.MUNICIPALITY,
        ),
    )
)
register(
    Metric(
        key="people_supported",
        label=_("相談支援を行った実人数"),
        unit=_("人"),
        counting=DISTINCT,
        source=CONTACTS,
        measure=Distinct("case", as_people=True),
        description=_(
            "期間内に相談記録のある当事者の数（実）。同じ人の複数の相談は1人と数え、"
            "匿名の相談は数えません。"
        ),
        params=((CHANNEL, "channel"),),
    )
)
register(
    Metric(
        key="new_consultations",
        label=_("新規相談件数"),
        unit=_("件"),
        counting=TOTAL,
        source=CASES,
        measure=count_rows,
        description=_(
            "期間内に受け付けた（受付日が期間内の）ケースの数。重複として統合されたケースは除きます。"
        ),
    )
)
register(
    Metric(
        key="outreach_contacts",
        label=_("アウトリーチによる面談・訪問・同行支援件数"),
        unit=_("件"),
        counting=TOTAL,
        source=VISITS,
        measure=count_rows,
        description=_("実施済みの訪問・同行支援の件数（延べ）。中止・予定は数えません。"),
        params=((Param("visit_kind", _("種別"), choices_of(Visit.Kind)), "kind"),),
    )
)
register(
    Metric(
        key="mdt_cases",
        label=_("多職種連携チームによる支援件数"),
        unit=_("件"),
        counting=DISTINCT,
        source=AGENDA,
        measure=Distinct("case"),
        description=_(
            "期間内に開催した多職種連携チーム会議（月例）で検討したケースの数（実件数）。"
        ),
    )
)
MEETING_KIND = Param("meeting_kind", _("会議の種別"), choices_of(Meeting.Kind))
register(
    Metric(
        key="meetings_held",
        label=_("会議の開催回数"),
        unit=_("回"),
        counting=TOTAL,
        source=MEETINGS,
        measure=count_rows,
        description=_("開催済みの会議の回数。"),
        params=((MEETING_KIND, "kind"),),
        about_people=False,
    )
)
register(
    Metric(
        key="case_conference_municipalities",
        label=_("個別ケース会議を開催した市町村数"),
        unit=_("市町村"),
        counting=DISTINCT,
        source=MEETINGS,
        measure=Distinct("host"),
        description=_(
            "期間内に個別ケース会議を開催した市町村の数（実）。開催は、会議の日付以後に"
            "議題のケースの議事か登録外の住民の検討件数を記録したときです。"
        ),
        condition=lambda params: Q(
            kind=Meeting.Kind.CASE_CONFERENCE, host__kind=Organisation.Kind.MUNICIPALITY
        ),
        about_people=False,
        skip_dimensions=("meeting_kind",),
    )
)
PROGRAMME_KIND = Param("programme_kind", _("事業の種別"), choices_of(Programme.Kind))
register(
    Metric(
        key="programme_sessions",
        label=_("家族教室・居場所等の開催回数"),
        unit=_("回"),
        counting=TOTAL,
        source=SESSIONS,
        measure=count_rows,
        description=_("家族教室・居場所・講演会等の開催回数。"),
        params=((PROGRAMME_KIND, "programme__kind"),),
        about_people=False,
    )
)
register(
    Metric(
        key="programme_attendance",
        label=_("家族教室・居場所等への参加者数"),
        unit=_("人"),
        counting=TOTAL,
        source=ATTENDANCE,
        measure=sum_heads,
        description=_("各回の参加人数の合計（延べ）。"),
        params=(
            (PROGRAMME_KIND, "session__programme__kind"),
            (
                Param("participant_type", _("参加者の区分"), choices_of(ParticipantType)),
                "participant_type",
            ),
        ),
    )
)
register(
    Metric(
        key="cross_municipality_use",
        label=_("居住地外の市町村の事業の利用者数"),
        unit=_("人"),
        counting=TOTAL,
        source=ATTENDANCE,
        measure=sum_heads,
        description=_("居住市町村が分かり、開催市町村と異なる参加者の人数（延べ）。"),
        params=((PROGRAMME_KIND, "session__programme__kind"),),
        condition=lambda params: (
            Q(residence__isnull=False, session__programme__host_municipality__isnull=False)
            & ~Q(residence=F("session__programme__host_municipality"))
        ),
    )
)
register(
    Metric(
        key="referrals",
        label=_("他機関への紹介件数"),
        unit=_("件"),
        counting=TOTAL,
        source=REFERRALS,
        measure=count_rows,
        description=_("期間内に送付した紹介の件数。結果（受理・辞退・完了等）は現在の状態です。"),
        params=(
            (Param("referral_kind", _("紹介の種別"), choices_of(Referral.Kind)), "kind"),
            (Param("referral_status", _("結果"), choices_of(Referral.Status)), "status"),
        ),
    )
)
MILESTONE_KIND = Param("milestone_kind", _("到達状況"), choices_of(Milestone.Kind))
register(
    Metric(
        key="support_connections",
        label=_("居場所等の支援につながった人数"),
        unit=_("人"),
        counting=DISTINCT,
        source=MILESTONES,
        measure=Distinct("case"),
        description=_(
            "期間内に選んだ到達状況（既定：居場所につながった）を記録したケースの数（実）。"
            "同じケースの同じ期間の複数の記録は1人と数えます。"
        ),
        params=((MILESTONE_KIND, "kind"),),
        condition=lambda params: (
            Q() if params.get("milestone_kind") else Q(kind=Milestone.Kind.IBASHO)
        ),
    )
)


def _after_intermediate_work(params: dict[str, list[str]]) -> Q:
    earlier = Milestone.objects.unscoped().filter(
        case=OuterRef("case"),
        kind=Milestone.Kind.INTERMEDIATE_WORK,
        achieved_on__lte=OuterRef("achieved_on"),
    )
    return Q(kind=Milestone.Kind.EMPLOYED) & Q(Exists(earlier))


register(
    Metric(
        key="employment_after_intermediate_work",
        label=_("中間的就労等を経て就労した人数"),
        unit=_("人"),
        counting=DISTINCT,
        source=MILESTONES,
        measure=Distinct("case"),
        description=_(
            "期間内に「就労した」を記録したケースのうち、それ以前に「中間的就労を開始」の記録があるものの数（実）。"
        ),
        condition=_after_intermediate_work,
        skip_dimensions=("milestone_kind",),
    )
)

READINESS = {
    "consultation_window": ("consultation_window_established_on", _("相談窓口の明確化")),
    "needs_survey": ("needs_survey_done_on", _("実態把握の実施")),
    "platform": ("platform_established_on", _("プラットフォームの設置")),
}
READINESS_STEP = Param("step", _("取組"), {key: label for key, (_f, label) in READINESS.items()})


def _readiness_as_of(params: dict[str, list[str]], period: Period) -> Q:
    """Municipalities that had reached every chosen step (default: a window) by the end."""
    q = Q()
    for step in params.get("step") or ["consultation_window"]:
        q &= Q(**{f"{READINESS[step][0]}__lte": period.end})
    return q


register(
    Metric(
        key="municipal_readiness",
        label=_("相談窓口等を整備した市町村数"),
        unit=_("市町村"),
        counting=AS_OF,
        source=MUNICIPALITIES,
        measure=count_rows,
        description=_(
            "期間の末日の時点で、選んだ取組（既定：相談窓口の明確化）をすべて済ませていた市町村の数。"
        ),
        params=((READINESS_STEP, ""),),
        as_of=_readiness_as_of,
        about_people=False,
    )
)
