"""Security round 2, finding 5 (and the minutes part of finding 10), performed through HTTP
as the outside review did: meeting minutes follow the case's visibility.

5. Any holder of the minutes permission in the host organisation (MDT members without a
   grant included) read and overwrote any agenda item's discussion and decisions by id;
   an outreach worker read the minutes of a restricted case; a closed case could be put on
   an agenda and its MDT grant then outlived it; open action items listed restricted
   cases' codes to every counsellor.
10. Minutes reads were not audited.

Now: reading minutes needs Capability.MINUTES on the item's case (owner kinds, or the
attendee's open agenda grant); writing them is for attendees and the host's supervisors;
every read is an audit event without content; closed and restricted cases stay off the
agenda; a closed case ends its reviews and grants; open actions are listed only for cases
the viewer can see.
"""

from __future__ import annotations

import datetime
import json
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import Action, Event
from casework import services as casework
from casework.models import Case, CaseUserObjectPermission
from meetings import services as meetings
from meetings.models import ActionItem, AgendaItem, Meeting

pytestmark = pytest.mark.django_db

DISCUSSION = "議事-漏洩チェック 家族関係について検討"
DECISIONS = "決定-漏洩チェック 訪問を継続"
ACTION = "対応-漏洩チェック 家族へ連絡"


def minutes_url(item: AgendaItem) -> str:
    return reverse("meetings:minutes", kwargs={"pk": item.pk})


def case_url(name: str, case: Case) -> str:
    return reverse(f"casework:{name}", kwargs={"code": case.code})


def open_case(actor, name: str) -> Case:
    return casework.open_case(actor, identity={"name": name}, confirm_duplicate=True)


def restrict(w, case: Case) -> None:
    case.refresh_from_db()
    casework.update_case(
        w.supervisor, case, expected_version=case.version, changes={"restricted": True}
    )


@pytest.fixture
def w(world):
    """A centre: its supervisor, a counsellor who keeps two cases, a colleague, an outreach
    worker, an MDT member attending last week's meeting and one who does not attend.
    Last week's meeting has both cases on its agenda, minutes and an action each, reviews
    open; next month's meeting is being prepared."""
    w = SimpleNamespace(org=world.centre, world=world)
    w.supervisor, w.counsellor, w.colleague = world.supervisor, world.counsellor, world.colleague
    w.outreach, w.psychiatrist = world.outreach, world.mdt
    w.nurse = world.user(Role.MDT_MEMBER)
    w.case = open_case(w.counsellor, "会議 一郎")
    w.secret = open_case(w.counsellor, "会議 二郎")
    now = timezone.now()
    w.meeting = meetings.plan_meeting(
        w.supervisor,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=now - datetime.timedelta(days=7),
        legal_basis=Meeting.LegalBasis.INTERNAL,
        attendees=[w.supervisor, w.psychiatrist],
    )
    w.item = meetings.add_to_agenda(w.supervisor, w.meeting, case=w.case)
    w.secret_item = meetings.add_to_agenda(w.supervisor, w.meeting, case=w.secret)
    for item in (w.item, w.secret_item):
        meetings.record_minutes(
            w.supervisor, item, discussion=DISCUSSION, decisions=DECISIONS, close_review=False
        )
        meetings.add_action(
            w.supervisor,
            item,
            description=ACTION,
            assignee=w.colleague,
            due_on=timezone.localdate() - datetime.timedelta(days=1),
        )
    w.next = meetings.plan_meeting(
        w.supervisor,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=now + datetime.timedelta(days=21),
        legal_basis=Meeting.LegalBasis.INTERNAL,
        attendees=[w.supervisor, w.psychiatrist],
    )
    return w


def minutes_of(item: AgendaItem) -> tuple[str | None, str | None]:
    item = AgendaItem.objects.get(pk=item.pk)
    return item.discussion, item.decisions


OVERWRITE = {"discussion": "上書き", "decisions": "上書き", "close_review": ""}


# --- reading and writing minutes by item id ----------------------------------------------


def test_an_mdt_member_without_a_grant_cannot_read_minutes_by_item_id(client, w):
    client.force_login(w.nurse)  # holds meetings.change_agendaitem, attends nothing
    response = client.get(minutes_url(w.item))
    assert response.status_code == 404
    assert DISCUSSION not in response.content.decode()


def test_an_mdt_member_without_a_grant_cannot_overwrite_minutes_by_item_id(client, w):
    client.force_login(w.nurse)
    updates = Event.objects.filter(action=Action.UPDATE).count()
    response = client.post(minutes_url(w.item), OVERWRITE)
    assert response.status_code == 404
    assert minutes_of(w.item) == (DISCUSSION, DECISIONS)
    assert Event.objects.filter(action=Action.UPDATE).count() == updates


def test_an_outreach_worker_cannot_read_minutes_of_a_restricted_case(client, w):
    restrict(w, w.secret)
    client.force_login(w.outreach)
    response = client.get(minutes_url(w.secret_item))
    assert response.status_code == 404
    assert DISCUSSION not in response.content.decode()
    # The same worker reads the minutes of an unrestricted case of the organisation.
    assert client.get(minutes_url(w.item)).status_code == 200


def test_a_counsellor_who_does_not_attend_reads_the_minutes_but_cannot_write_them(client, w):
    client.force_login(w.colleague)
    page = client.get(minutes_url(w.item))
    assert page.status_code == 200 and DECISIONS in page.content.decode()
    response = client.post(minutes_url(w.item), OVERWRITE)
    assert response.status_code == 403
    assert minutes_of(w.item) == (DISCUSSION, DECISIONS)


def test_an_attending_mdt_member_writes_minutes_while_the_review_is_open_and_not_after(client, w):
    client.force_login(w.psychiatrist)
    assert client.get(minutes_url(w.item)).status_code == 200
    response = client.post(
        minutes_url(w.item),
        {"discussion": "服薬の確認", "decisions": "受診を勧める", "close_review": "on"},
    )
    assert response.status_code == 302
    assert minutes_of(w.item) == ("服薬の確認", "受診を勧める")
    # The review is closed: the grant, and with it the minutes, are gone.
    assert client.get(minutes_url(w.item)).status_code == 404
    assert client.post(minutes_url(w.item), OVERWRITE).status_code == 404
    assert minutes_of(w.item) == ("服薬の確認", "受診を勧める")


def test_the_host_supervisor_writes_minutes_without_attending(client, w):
    client.force_login(w.supervisor)
    Meeting.objects.get(pk=w.meeting.pk).attendees.remove(w.supervisor)
    response = client.post(
        minutes_url(w.item), {"discussion": "追記", "decisions": DECISIONS, "close_review": ""}
    )
    assert response.status_code == 302
    assert minutes_of(w.item) == ("追記", DECISIONS)


def test_another_organisations_supervisor_gets_404_for_an_item_id(client, w):
    client.force_login(w.world.other_supervisor)
    assert client.get(minutes_url(w.item)).status_code == 404
    assert client.post(minutes_url(w.item), OVERWRITE).status_code == 404
    assert minutes_of(w.item) == (DISCUSSION, DECISIONS)


# --- audit ---------------------------------------------------------------------------


def test_a_minutes_read_is_an_audit_event_naming_the_item_and_case_without_content(client, w):
    client.force_login(w.psychiatrist)
    before = Event.objects.filter(action=Action.VIEW).count()
    page = client.get(minutes_url(w.item))
    assert page.status_code == 200 and DISCUSSION in page.content.decode()
    events = list(Event.objects.filter(action=Action.VIEW).order_by("seq")[before:])
    assert len(events) == 1
    event = events[0]
    assert event.actor_id == w.psychiatrist.pk
    assert event.object_ref == w.case.code
    assert event.detail["case"] == w.case.code
    assert event.detail["minutes"] == [str(w.item.pk)]
    stored = json.dumps(event.detail, ensure_ascii=False) + event.object_ref
    for text in ("漏洩チェック", "会議 一郎"):
        assert text not in stored


def test_a_refused_minutes_read_leaves_no_view_event(client, w):
    client.force_login(w.nurse)
    before = Event.objects.filter(action=Action.VIEW).count()
    client.get(minutes_url(w.item))
    assert Event.objects.filter(action=Action.VIEW).count() == before


# --- the agenda ----------------------------------------------------------------------


def _add(client, w, case: Case):
    return client.post(
        reverse("meetings:agenda_add", kwargs={"pk": w.next.pk}), {"code": case.code}, follow=True
    )


def test_a_closed_case_cannot_be_put_on_an_agenda(client, w):
    closed = open_case(w.counsellor, "終結 三郎")
    casework.close_case(w.counsellor, closed, expected_version=closed.version, reason="wish")
    client.force_login(w.supervisor)
    page = _add(client, w, closed).content.decode()
    assert not AgendaItem.objects.filter(meeting=w.next, case=closed).exists()
    assert "終結" in page and "議題にできません" in page


def test_a_restricted_case_cannot_be_put_on_an_agenda_and_the_error_says_why(client, w):
    restrict(w, w.secret)
    client.force_login(w.supervisor)
    page = _add(client, w, w.secret).content.decode()
    assert not AgendaItem.objects.filter(meeting=w.next, case=w.secret).exists()
    assert "閲覧制限" in page and "解除" in page
    # An unrestricted open case goes on the agenda as before.
    _add(client, w, w.case)
    assert AgendaItem.objects.filter(meeting=w.next, case=w.case).exists()


def test_closing_a_case_ends_its_open_reviews_and_the_mdt_members_access(client, w):
    client.force_login(w.psychiatrist)
    assert client.get(case_url("case_detail", w.case)).status_code == 200
    client.force_login(w.counsellor)
    w.case.refresh_from_db()
    response = client.post(
        case_url("case_close", w.case),
        {
            "reason": "goal_reached",
            "closed_on": timezone.localdate().isoformat(),
            "version": w.case.version,
        },
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=w.case.pk).status == Case.Status.CLOSED
    assert AgendaItem.objects.get(pk=w.item.pk).review_closed_at is not None
    assert not CaseUserObjectPermission.objects.filter(
        user=w.psychiatrist, content_object=w.case
    ).exists()
    client.force_login(w.psychiatrist)
    assert client.get(case_url("case_detail", w.case)).status_code == 404
    assert client.get(minutes_url(w.item)).status_code == 404


def test_a_transfer_ends_the_old_organisations_reviews_and_its_mdt_members_access(client, w):
    # Found while fixing the closed case: the agenda grant outlived a transfer too.
    client.force_login(w.psychiatrist)
    assert client.get(case_url("case_detail", w.case)).status_code == 200
    city = w.world.town
    client.force_login(w.supervisor)
    response = client.post(
        reverse("referrals:transfer", kwargs={"code": w.case.code}), {"to_organisation": city.pk}
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=w.case.pk).organisation_id == city.pk
    client.force_login(w.psychiatrist)
    assert client.get(case_url("case_detail", w.case)).status_code == 404
    assert client.get(minutes_url(w.item)).status_code == 404
    assert AgendaItem.objects.get(pk=w.item.pk).review_closed_at is not None


# --- open action items ---------------------------------------------------------------


def section(html: str, heading: str) -> str:
    """The text of the list that follows `heading` on a page (tags stripped)."""
    start = html.index(heading)
    return re.sub(r"<[^>]+>", " ", html[start : html.index("</ul>", start)])


def test_a_counsellors_dashboard_lists_no_restricted_case_code_in_open_actions(client, w):
    restrict(w, w.secret)
    client.force_login(w.colleague)  # the assignee of both actions, lead worker of neither
    page = client.get(reverse("home")).content.decode()
    assert w.case.code in section(page, "会議の対応事項")  # the case they can see: listed
    assert w.secret.code not in page


def test_the_dashboard_lists_actions_by_code_without_their_text(client, w):
    # The text of an action is minutes content: it is read on the (audited) minutes page.
    client.force_login(w.colleague)
    page = client.get(reverse("home")).content.decode()
    assert w.case.code in section(page, "会議の対応事項") and ACTION not in page
    assert minutes_url(w.item) in page


OPEN_ACTIONS = "前回会議からの未完了の対応事項"


def test_the_meeting_pages_list_no_restricted_case_code_in_open_actions(client, w):
    restrict(w, w.secret)
    client.force_login(w.colleague)
    detail = client.get(reverse("meetings:detail", kwargs={"pk": w.next.pk}))
    printed = client.get(reverse("meetings:print", kwargs={"pk": w.next.pk}))
    for response in (detail, printed):
        assert response.status_code == 200
        page = response.content.decode()
        assert w.case.code in section(page, OPEN_ACTIONS)
        assert w.secret.code not in page
    # The supervisor, who may see the restricted case, still finds both.
    client.force_login(w.supervisor)
    page = client.get(reverse("meetings:detail", kwargs={"pk": w.next.pk})).content.decode()
    actions = section(page, OPEN_ACTIONS)
    assert w.case.code in actions and w.secret.code in actions


def test_an_assignee_who_can_no_longer_see_the_case_cannot_complete_its_action(client, w):
    restrict(w, w.secret)
    action = ActionItem.objects.get(case=w.secret)
    client.force_login(w.colleague)
    response = client.post(reverse("meetings:action_done", kwargs={"pk": action.pk}))
    assert response.status_code == 404
    assert ActionItem.objects.get(pk=action.pk).done_at is None
    mine = ActionItem.objects.get(case=w.case)
    assert client.post(reverse("meetings:action_done", kwargs={"pk": mine.pk})).status_code == 302
    assert ActionItem.objects.get(pk=mine.pk).done_at is not None
