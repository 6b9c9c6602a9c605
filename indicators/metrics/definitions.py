"""The registered metrics: every counting rule of the statistics, written once, in the
order the API and the metric list show them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case as DbCase
from django.db.models import Exists, F, OuterRef, Q, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, IsNull
from django.utils import timezone
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
    MEDIAN,
    SHARE,
    TOTAL,
    Distinct,
    Metric,
    Param,
    Statistic,
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
    OUTREACH,
    OUTREACH_CHANNELS,
    REFERRALS,
    SESSIONS,
    VISITS,
)

CHANNEL = Param("channel", _("相談方法"), choices_of(Channel))
CONSULTER = Param("consulter", _("相談者"), choices_of(Consulter))
# 新規 of a contact is the person's first contact (相談記録の区分), not a new case: new
# cases are `new_consultations` (受付日).
CONTACT_KIND = Param("kind", _("相談記録の新規（初回の相談）／継続"), choices_of(Contact.Kind))
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
        description=_(
            "相談記録の件数（延べ）。匿名の相談を含みます。条件の「新規」は初回の相談の記録"
            "（新規の相談件数）で、受け付けたケースの数（新規ケース数）ではありません。"
        ),
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
        label=_("新規ケース数（受付）"),
        unit=_("件"),
        counting=TOTAL,
        source=CASES,
        measure=count_rows,
        description=_(
            "期間内に受け付けた（受付日が期間内の）ケースの数。重複として統合されたケースは除きます。"
            "初回の相談記録の数（相談件数の「新規」）とは別の数え方です。"
        ),
    )
)
register(
    Metric(
        key="outreach_contacts",
        label=_("アウトリーチによる面談・訪問・同行支援件数"),
        unit=_("件"),
        counting=TOTAL,
        source=OUTREACH,
        measure=count_rows,
        description=_(
            "相談方法が「訪問」または「同行支援」の相談記録の件数（延べ）。訪問予定を実施済み"
            "にしたとき・相談記録の入力・取込のどれで記録されても同じに数え、相談件数の"
            "相談方法別の「訪問」と「同行支援」の合計と一致します。訪問・同行先別の内訳は"
            "「予定から実施した訪問・同行支援件数」にあります。"
        ),
        # The visit kinds are the two channels (outreach.Visit.KIND_CHANNEL).
        params=((Param("visit_kind", _("種別"), OUTREACH_CHANNELS), "channel"),),
    )
)
MEETING_KIND = Param("meeting_kind", _("会議の種別"), choices_of(Meeting.Kind))
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
        condition=lambda params: Q(meeting__kind=Meeting.Kind.MDT_MONTHLY),
        skip_dimensions=("meeting_kind",),
    )
)
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


def _host_municipality() -> Coalesce:
    """Where a programme is held: its host municipality, else its organiser's municipality
    (accounts.Organisation.home_municipality_id: a municipality itself, else its seat)."""
    organiser = "session__programme__organiser"
    return Coalesce(
        F("session__programme__host_municipality"),
        DbCase(
            When(
                **{f"{organiser}__kind": Organisation.Kind.MUNICIPALITY},
                then=F(organiser),
            ),
            default=F(f"{organiser}__seat_municipality"),
        ),
    )


def _outside_host() -> Q:
    """Attendance of people living elsewhere than the programme's municipality; without a
    known residence or a known municipality the attendance is not counted."""
    host = _host_municipality()
    return Q(residence__isnull=False) & Q(IsNull(host, False)) & ~Q(Exact(F("residence"), host))


register(
    Metric(
        key="cross_municipality_use",
        label=_("居住地外の市町村の事業の利用者数"),
        unit=_("人"),
        counting=TOTAL,
        source=ATTENDANCE,
        measure=sum_heads,
        description=_(
            "居住市町村が分かり、開催市町村と異なる参加者の人数（延べ）。開催市町村は事業の"
            "開催市町村、その指定がなければ主催組織の市町村（市町村が主催するときはその"
            "市町村、それ以外は主催組織の所在市町村）です。どちらも分からない事業の参加者は"
            "数えません。"
        ),
        params=((PROGRAMME_KIND, "session__programme__kind"),),
        condition=lambda params: _outside_host(),
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


# -------------------------------------------------------------- added after the above

register(
    Metric(
        key="agenda_items",
        label=_("会議で検討した議題の件数"),
        unit=_("件"),
        counting=TOTAL,
        source=AGENDA,
        measure=count_rows,
        description=_(
            "期間内に開催した会議の議題（ケースの検討）の件数（延べ）。同じケースを2回の"
            "会議で検討すれば2件です。会議の種別を選べます（既定：すべて）。登録外の住民の"
            "検討件数は含みません。"
        ),
        params=((MEETING_KIND, "meeting__kind"),),
    )
)
register(
    Metric(
        key="cases_discussed",
        label=_("会議で検討したケースの数"),
        unit=_("件"),
        counting=DISTINCT,
        source=AGENDA,
        measure=Distinct("case"),
        description=_(
            "期間内に開催した会議で検討したケースの数（実件数）。同じケースは何回検討しても"
            "1件です。会議の種別を選べます（既定：すべて。多職種連携チーム会議（月例）だけの"
            "数は「多職種連携チームによる支援件数」と同じです）。"
        ),
        params=((MEETING_KIND, "meeting__kind"),),
    )
)
register(
    Metric(
        key="outreach_visits",
        label=_("予定から実施した訪問・同行支援件数"),
        unit=_("件"),
        counting=TOTAL,
        source=VISITS,
        measure=count_rows,
        description=_(
            "訪問予定を実施済みにした訪問・同行支援の件数（延べ）で、訪問・同行先別の内訳が"
            "あります。予定を作らずに相談記録だけで記録した訪問は訪問・同行先が記録されない"
            "ため数えません（すべての訪問・同行支援は「アウトリーチによる面談・訪問・同行支援件数」）。"
        ),
        params=((Param("visit_kind", _("種別"), choices_of(Visit.Kind)), "kind"),),
    )
)


# Referral response time. The accepted moment is `responded_at`: referrals.services.move
# sets it once, when the receiver accepts or declines a sent referral (the
# ReferralTransition to 受理 carries the same moment), and keeps it through completion or
# withdrawal; a referral declined has one too, so accepted referrals are those with a
# response that was not a decline.
DAYS_WITHIN = {"7": _("7日以内"), "14": _("14日以内"), "30": _("30日以内")}
DEFAULT_DAYS_WITHIN = "14"


def _calendar_days(sent_at, responded_at) -> int | None:
    """Calendar days in Asia/Tokyo from sent to accepted: sent 23:30 and accepted 00:30
    the next day is 1 day; the same day is 0."""
    if sent_at is None or responded_at is None:
        return None
    tokyo = timezone.get_default_timezone()
    sent = timezone.localtime(sent_at, tokyo).date()
    return (timezone.localtime(responded_at, tokyo).date() - sent).days


def _median(values: list[int], params: dict[str, list[str]]) -> Decimal:
    """The middle value; of an even number, the mean of the two middle ones (x.5)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Decimal(ordered[middle])
    return (Decimal(ordered[middle - 1]) + Decimal(ordered[middle])) / 2


def _share_within(values: list[int], params: dict[str, list[str]]) -> Decimal:
    """Percent of the values at most N days (one decimal, half up)."""
    days = int((params.get("within") or [DEFAULT_DAYS_WITHIN])[0])
    within = sum(1 for value in values if value <= days)
    return (Decimal(within) * 100 / len(values)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _accepted(params: dict[str, list[str]]) -> Q:
    return Q(responded_at__isnull=False) & ~Q(status=Referral.Status.DECLINED)


REFERRAL_KIND = Param("referral_kind", _("紹介の種別"), choices_of(Referral.Kind))
RESPONSE_FIELDS = ("sent_at", "responded_at")
register(
    Metric(
        key="referral_days_to_accept",
        label=_("紹介の受理までの日数（中央値）"),
        unit=_("日"),
        counting=MEDIAN,
        source=REFERRALS,
        measure=Statistic(RESPONSE_FIELDS, _calendar_days, _median),
        description=_(
            "期間内に送付し受理された紹介の、送付日から受理日までの日数（暦日、日本時間）の"
            "中央値。23時30分に送付し翌日0時30分に受理すれば1日です。件数が偶数のときは"
            "中央の2つの平均（0.5日単位）。辞退・未回答の紹介は含みません。所属組織以外には、"
            "10件以上の紹介に基づき、最も多い組織以外の紹介が3件以上ある値だけを公表します。"
        ),
        params=((REFERRAL_KIND, "kind"),),
        condition=_accepted,
        skip_dimensions=("referral_status",),
    )
)
register(
    Metric(
        key="referrals_accepted_within",
        label=_("紹介の受理までの日数がN日以内の割合"),
        unit=_("%"),
        counting=SHARE,
        source=REFERRALS,
        measure=Statistic(RESPONSE_FIELDS, _calendar_days, _share_within),
        description=_(
            "期間内に送付し受理された紹介のうち、送付日から受理日までの日数（暦日、日本時間）"
            "が選んだ日数（既定：14日）以内だったものの割合（小数第1位、四捨五入）。辞退・"
            "未回答の紹介は含みません。公表の条件は受理までの日数（中央値）と同じで、公表値は"
            "既定の日数のものです。"
        ),
        params=(
            (Param("within", _("受理までの日数"), DAYS_WITHIN, single=True), ""),
            (REFERRAL_KIND, "kind"),
        ),
        condition=_accepted,
        skip_dimensions=("referral_status",),
    )
)
