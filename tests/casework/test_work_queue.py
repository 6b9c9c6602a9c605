"""The work queue (casework.work_queue): the user's items due today or overdue, from
every app, only from what the user may see; its page, the dashboard's top of it, and the
opt-in daily digest of codes and counts."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, Event
from casework import services
from casework.work_queue import Kind, WorkQueue, send_digests, work_queue
from meetings import services as meeting_services
from outreach import services as outreach_services
from referrals import services as referral_services

pytestmark = pytest.mark.django_db

NAME = "山田 太郎"
SUMMARY = "秘密の相談内容（父親との関係）"
FOLLOW_UP = "来週、母親に電話で様子を聞く"


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def items(queue: WorkQueue, kind: Kind) -> dict[str, tuple[datetime.date, bool]]:
    return {
        item.case_code: (item.date, item.overdue)
        for group in queue.groups
        if group.kind == kind
        for item in group.items
    }


def codes(queue: WorkQueue) -> set[str]:
    return {item.case_code for group in queue.groups for item in group.items}


@pytest.fixture
def scene(world):
    """The centre's counsellor, lead worker of cases in every state the queue asks
    about, with an action, visits and a referral from the other centre waiting."""
    me = world.counsellor
    now = timezone.now()
    today = timezone.localdate(now)

    def case(status: str = "active", opened: int = 200, contacted: int | None = None, **kw):
        made = services.open_case(
            me,
            identity={"name": kw.pop("name", "試験 次郎")},
            case_fields={"status": status, "opened_on": today - days(opened)},
            lead_workers=kw.pop("lead", [me]),
            confirm_duplicate=True,
        )
        if contacted is not None:
            services.log_contact(me, case=made, occurred_at=now - days(contacted), summary="経過")
        return made

    followed = case(name=NAME, contacted=1)
    for due in (today - days(3), today, today + days(2)):
        services.log_contact(
            me, case=followed, summary=SUMMARY, follow_up=FOLLOW_UP, follow_up_due=due
        )
    cases = SimpleNamespace(
        followed=followed,
        active_silent=case("active", contacted=31),
        active_recent=case("active", contacted=29),
        monitoring_quiet=case("monitoring", contacted=60),
        monitoring_silent=case("monitoring", contacted=91),
        intake_old=case("intake", opened=20),
        intake_due_today=case("intake", opened=14),
        intake_new=case("intake", opened=5),
        colleagues=case("active", contacted=100, lead=[world.colleague]),
    )
    closed = case("active", contacted=300)
    closed.refresh_from_db()
    services.close_case(
        me, closed, expected_version=closed.version, reason="other", closed_on=today - days(100)
    )
    cases.closed = closed

    meeting = meeting_services.plan_meeting(
        world.supervisor, kind="mdt_monthly", held_at=now, legal_basis="internal"
    )
    agenda = meeting_services.add_to_agenda(world.supervisor, meeting, case=cases.active_recent)
    meeting_services.add_action(
        world.supervisor, agenda, description="記録を確認", assignee=me, due_on=today - days(1)
    )
    meeting_services.add_action(
        world.supervisor, agenda, description="来月", assignee=me, due_on=today + days(30)
    )

    visit_now = outreach_services.plan_visit(
        me, cases.monitoring_quiet, planned_start=now - datetime.timedelta(minutes=1), workers=[me]
    )
    visit_old = outreach_services.plan_visit(
        me, cases.intake_new, planned_start=now - days(2), workers=[me]
    )
    visit_out = outreach_services.plan_visit(
        me, cases.intake_old, planned_start=now - datetime.timedelta(hours=4), workers=[me]
    )
    outreach_services.start_visit(me, visit_out, now=now - datetime.timedelta(hours=4))
    outreach_services.plan_visit(me, cases.followed, planned_start=now + days(1), workers=[me])

    theirs = services.open_case(
        world.other_counsellor, identity={"name": "他所 花子"}, case_fields={}
    )
    referral = referral_services.create_referral(
        world.other_counsellor, theirs, to_organisation=world.centre, kind="residence"
    )
    referral_services.move(world.other_counsellor, referral, to_status="sent")
    return SimpleNamespace(
        world=world,
        me=me,
        now=now,
        today=today,
        cases=cases,
        theirs=theirs,
        visits=SimpleNamespace(now=visit_now, old=visit_old, out=visit_out),
        centre_codes={c.code for c in vars(cases).values()},
    )


def test_follow_ups_due_today_and_overdue_are_listed_with_their_date(scene):
    queue = work_queue(scene.me)
    follow_ups = next(g for g in queue.groups if g.kind == Kind.FOLLOW_UP)
    assert [(i.case_code, i.date, i.overdue) for i in follow_ups.items] == [
        (scene.cases.followed.code, scene.today - days(3), True),
        (scene.cases.followed.code, scene.today, False),
    ]
    assert follow_ups.count == 2 and follow_ups.overdue == 1


def test_cases_without_contact_follow_the_threshold_of_their_status(scene):
    listed = items(work_queue(scene.me), Kind.NO_CONTACT)
    c, today = scene.cases, scene.today
    assert set(listed) == {
        c.active_silent.code,  # 31 days > 30 (active)
        c.monitoring_silent.code,  # 91 days > 90 (monitoring)
        c.intake_old.code,  # never contacted, opened 20 days ago > 14 (intake)
        c.intake_due_today.code,  # opened 14 days ago: its first contact is due today
    }
    # The date is when a contact was due: the last contact (or the opening) + the days.
    assert listed[c.active_silent.code] == (today - days(1), True)
    assert listed[c.intake_old.code] == (today - days(6), True)
    assert listed[c.intake_due_today.code] == (today, False)
    # Not listed: contacted within the time (active 29 days, monitoring 60 days), a new
    # case before its first contact is due, a closed case, a colleague's case.


@override_settings(NO_CONTACT_DAYS_BY_STATUS={"intake": 3, "active": 20, "monitoring": 50})
def test_the_thresholds_are_settings(scene):
    c = scene.cases
    assert set(items(work_queue(scene.me), Kind.NO_CONTACT)) == {
        c.active_silent.code,
        c.active_recent.code,
        c.monitoring_quiet.code,
        c.monitoring_silent.code,
        c.intake_old.code,
        c.intake_due_today.code,
        c.intake_new.code,  # opened 5 days ago > 3
    }


@override_settings(NO_CONTACT_DAYS_BY_STATUS={"active": 30})
def test_a_status_without_a_threshold_is_never_listed(scene):
    assert set(items(work_queue(scene.me), Kind.NO_CONTACT)) == {scene.cases.active_silent.code}


def test_actions_visits_and_referrals_come_from_their_apps(scene):
    queue = work_queue(scene.me)
    c, v, today = scene.cases, scene.visits, scene.today
    assert items(queue, Kind.ACTION) == {c.active_recent.code: (today - days(1), True)}
    visits = items(queue, Kind.VISIT)
    assert set(visits) == {c.monitoring_quiet.code, c.intake_new.code, c.intake_old.code}
    assert visits[c.intake_new.code] == (today - days(2), True)  # never started
    assert visits[c.intake_old.code][1] is True  # started, the check-in deadline passed
    just_now = timezone.localtime(v.now.planned_start).date()
    assert visits[c.monitoring_quiet.code] == (just_now, just_now < today)
    assert items(queue, Kind.REFERRAL) == {scene.theirs.code: (today, False)}
    # Grouped in the order of the kinds, each with its count.
    assert [g.kind for g in queue.groups] == list(Kind)
    assert queue.total == sum(g.count for g in queue.groups) == 2 + 1 + 4 + 1 + 3


@override_settings(REFERRAL_ANSWER_DAYS=0)
def test_a_referral_unanswered_too_long_is_overdue(scene):
    later = scene.now + days(1)
    assert items(work_queue(scene.me, now=later), Kind.REFERRAL) == {
        scene.theirs.code: (scene.today, True)
    }


def test_the_queue_never_holds_an_item_of_a_case_the_user_may_not_see(scene):
    w = scene.world
    for user in (w.statistics, w.auditor, w.admin, w.liaison, w.town_supervisor):
        assert work_queue(user).groups == [], user.username
    # The other centre's counsellor: their own referral waits at the centre (outbox), and
    # nothing of the centre's cases is theirs.
    assert codes(work_queue(w.other_counsellor)) & scene.centre_codes == set()
    # An MDT member without an agenda grant, and a colleague: none of the counsellor's.
    assert codes(work_queue(w.mdt)) == set()
    assert codes(work_queue(w.colleague)) == {scene.cases.colleagues.code, scene.theirs.code}


def test_a_restricted_case_leaves_the_queue_of_whoever_may_no_longer_see_it(scene):
    case = scene.cases.active_silent
    case.refresh_from_db()
    services.update_case(
        scene.me,
        case,
        expected_version=case.version,
        changes={"restricted": True},
        lead_workers=[scene.world.colleague],
    )
    assert case.code not in codes(work_queue(scene.me))


def test_the_page_and_the_dashboard_show_the_queue_with_years_and_overdue_marks(client, scene):
    client.force_login(scene.me)
    page = client.get("/queue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "やることリスト" in html
    for kind in Kind:
        assert str(kind.label) in html
    late = scene.today - days(3)
    assert f'<strong>{late:%Y/%m/%d}</strong> <span class="badge error">期限超過</span>' in html
    assert scene.cases.followed.code in html and scene.theirs.code in html
    assert NAME not in html and SUMMARY not in html
    home = client.get("/").content.decode()
    assert "やることリストをすべて見る" in home
    assert scene.cases.intake_old.code in home and f"{late:%Y/%m/%d}" in home


def test_roles_that_may_not_view_cases_get_no_queue(client, scene):
    client.force_login(scene.world.statistics)
    assert client.get("/queue/").status_code == 403
    assert "やることリスト" not in client.get("/").content.decode()


# --- the digest -----------------------------------------------------------------------


def test_the_digest_holds_codes_and_counts_and_nothing_of_the_person(scene, mailoutbox):
    me = scene.world.named(scene.me, "相談員 一郎", email="counsellor@example.jp", work_digest=True)
    assert send_digests() == 1
    [mail] = mailoutbox
    assert mail.to == ["counsellor@example.jp"]
    text = mail.subject + "\n" + mail.body
    assert f"{scene.today:%Y/%m/%d}" in mail.subject
    assert "フォローアップ 2件（うち期限超過 1件）" in mail.body
    assert "連絡が途絶えている担当ケース 4件" in mail.body
    assert scene.cases.followed.code in mail.body and scene.theirs.code in mail.body
    for secret in (NAME, "他所 花子", SUMMARY, FOLLOW_UP, "記録を確認", me.display_name):
        assert secret not in text
    event = Event.objects.get(action=Action.NOTICE, object_ref="work_digest")
    assert event.detail["user"] == me.pk and event.detail["counts"]["follow_up"] == 2
    assert SUMMARY not in str(event.detail) and NAME not in str(event.detail)


def test_only_active_opted_in_users_with_an_address_get_a_digest(scene, mailoutbox):
    w = scene.world
    w.named(w.counsellor, "a", email="opted-out@example.jp")  # has items, did not opt in
    w.named(w.colleague, "b", email="", work_digest=True)  # no address
    w.named(w.other_counsellor, "c", email="gone@example.jp", work_digest=True, is_active=False)
    w.named(w.statistics, "d", email="stats@example.jp", work_digest=True)  # nothing to do
    assert send_digests() == 0
    assert mailoutbox == []


def test_the_command_sends_the_digests(scene, mailoutbox, capsys):
    scene.world.named(scene.me, "x", email="counsellor@example.jp", work_digest=True)
    call_command("send_work_digest")
    assert "Work digests sent: 1" in capsys.readouterr().out
    assert len(mailoutbox) == 1


def test_users_opt_in_and_out_themselves(client, world):
    client.force_login(world.counsellor)
    assert client.get("/accounts/preferences/").status_code == 200
    assert client.post("/accounts/preferences/", {"work_digest": "on"}).status_code == 302
    world.counsellor.refresh_from_db()
    assert world.counsellor.work_digest is True
    client.post("/accounts/preferences/", {})
    world.counsellor.refresh_from_db()
    assert world.counsellor.work_digest is False
    changes = Event.objects.filter(action=Action.UPDATE, object_type="accounts.User")
    assert [e.detail["work_digest"] for e in changes.order_by("seq")] == [True, False]


def test_the_queue_page_answers_get_only(client, world):
    client.force_login(world.counsellor)
    assert client.post(reverse("casework:work_queue")).status_code == 405


def test_a_new_address_needs_the_owner_to_opt_in_again(client, world):
    """Outside review: an administrator changing the address redirected the digest."""
    counsellor = world.counsellor
    counsellor.email = "counsellor@example.org"
    counsellor.work_digest = True
    counsellor.save()
    counsellor.refresh_from_db()
    counsellor.email = "elsewhere@example.org"
    counsellor.save(update_fields=["email"])
    counsellor.refresh_from_db()
    assert counsellor.work_digest is False
    client.force_login(counsellor)
    assert "elsewhere@example.org" in client.get(reverse("accounts:preferences")).content.decode()
