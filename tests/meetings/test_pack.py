"""The meeting pack a chair uses: suggestions ranked by their reasons and capped, only
among the cases the viewer may see; the printable pack with an agenda page, one page per
agenda case (profile, earlier decisions, open actions), the attendance, 令和 dates and
取扱注意 on every page, and never the client's identity. All read through HTTP."""

from __future__ import annotations

import datetime
import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import Event
from casework import services as casework
from casework.models import Case
from casework.periods import era_date
from meetings import services
from meetings.models import AgendaItem, Meeting
from meetings.pack import PACK_SUGGESTIONS
from referrals import services as referrals
from referrals.models import Referral
from tests.html_forms import post_forms, submit

pytestmark = pytest.mark.django_db
CANARY = "秘密 花子"  # the client's name: never on any page of the pack
TODAY = datetime.date.today


def days_ago(n: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=n)


@pytest.fixture
def pack(world):
    """The centre of the world with a meeting held a month ago and the next one in five days."""
    w = SimpleNamespace(
        org=world.centre,
        world=world,
        supervisor=world.named(world.supervisor, "佐藤"),
        counsellor=world.named(world.counsellor, "鈴木", profession="psw"),
        colleague=world.colleague,
        psychiatrist=world.named(world.mdt, "田中"),
        town=world.town,
    )
    w.previous = services.plan_meeting(
        w.supervisor,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=days_ago(30),
        legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
        attendees=[w.supervisor, w.counsellor],
    )
    w.meeting = services.plan_meeting(
        w.supervisor,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=timezone.now() + datetime.timedelta(days=5),
        legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
        place="相談室",
        attendees=[w.supervisor, w.counsellor, w.psychiatrist],
    )
    return w


def open_case(w, *, opened_days_ago: int = 400, contact_days_ago: int | None = 3, **fields):
    """A case of the counsellor's, with its last contact `contact_days_ago` (None: never)."""
    case = casework.open_case(
        w.counsellor,
        identity={"name": CANARY},
        client_attributes={"birth_year": TODAY().year - 34, "household_8050": True},
        confirm_duplicate=True,
        case_fields={"opened_on": TODAY() - datetime.timedelta(days=opened_days_ago), **fields},
    )
    last = None if contact_days_ago is None else days_ago(contact_days_ago)
    Case.objects.filter(pk=case.pk).update(last_contact_at=last)
    case.refresh_from_db()
    return case


def discussed_last_time(w, case, *, next_review_on=None, decisions="継続して家族面談"):
    """The case discussed at a case conference of the host 35 days ago (before the previous
    monthly meeting, which stays the one "since the previous meeting" means)."""
    conference = services.plan_meeting(
        w.supervisor,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=days_ago(35),
        legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
    )
    item = services.add_to_agenda(w.supervisor, conference, case=case)
    services.record_minutes(w.supervisor, item, decisions=decisions, next_review_on=next_review_on)
    return item


def send_referral(w, case, *, sent_days_ago: int) -> Referral:
    referral = referrals.create_referral(
        w.counsellor, case, to_organisation=w.town, kind=Referral.Kind.RESIDENCE_MUNICIPALITY
    )
    referrals.move(w.counsellor, referral, to_status=Referral.Status.SENT)
    Referral.objects.filter(pk=referral.pk).update(sent_at=days_ago(sent_days_ago))
    return referral


def pack_rows(html: str) -> list[tuple[str, str]]:
    """(case code, the row's text) of the meeting page's pack table, in order."""
    section = html.split("会議資料（自動作成）", 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", section, flags=re.S):
        code = re.search(r"C-[0-9A-Z]+", row)
        if code:
            rows.append((code.group(0), re.sub(r"<[^>]+>", " ", row)))
    return rows


def page_of(user, url: str) -> str:
    browser = HttpClient()
    browser.force_login(user)
    response = browser.get(url)
    assert response.status_code == 200
    return response.content.decode()


def detail(w, user=None) -> str:
    return page_of(user or w.supervisor, reverse("meetings:detail", kwargs={"pk": w.meeting.pk}))


def printed(w, user=None) -> str:
    return page_of(user or w.supervisor, reverse("meetings:print", kwargs={"pk": w.meeting.pk}))


def test_suggestions_are_ranked_by_the_weight_of_their_reasons_each_shown(pack):
    w = pack
    overdue = open_case(w)
    item = discussed_last_time(w, overdue)
    services.add_action(
        w.supervisor,
        item,
        description="家庭訪問の日程調整",
        assignee=w.counsellor,
        due_on=TODAY() - datetime.timedelta(days=2),
    )
    review_due = open_case(w)
    discussed_last_time(w, review_due, next_review_on=TODAY())
    review_later = open_case(w)  # discussed, next review after this meeting: no reason
    discussed_last_time(w, review_later, next_review_on=TODAY() + datetime.timedelta(days=60))
    silent = open_case(w, contact_days_ago=90)
    waiting = open_case(w)
    send_referral(w, waiting, sent_days_ago=30)
    just_sent = open_case(w)  # sent yesterday: not yet a reason
    send_referral(w, just_sent, sent_days_ago=1)
    changed = open_case(w)
    casework.update_case(
        w.counsellor,
        changed,
        expected_version=changed.version,
        changes={"status": Case.Status.ACTIVE},
    )
    new = open_case(w, opened_days_ago=10)
    flagged = open_case(w, mdt_supported=True)
    # No contact for 90 days and a referral waiting: 30 + 20 = 50, the overdue action's
    # score; the longer silence comes first.
    both = open_case(w, contact_days_ago=120)
    send_referral(w, both, sent_days_ago=20)
    quiet = open_case(w)  # nothing to discuss

    rows = pack_rows(detail(w))

    assert [code for code, _text in rows] == [
        both.code,
        overdue.code,
        review_due.code,
        silent.code,
        waiting.code,
        changed.code,
        new.code,
        flagged.code,
    ]
    text = dict(rows)
    assert "60日以上相談なし" in text[both.code] and "紹介の返答待ち（25日）" in text[both.code]
    assert "期限切れの対応事項 1件" in text[overdue.code]
    assert "見直し日が到来" in text[review_due.code]
    assert "60日以上相談なし" in text[silent.code]
    assert "紹介の返答待ち（35日）" in text[waiting.code]
    assert "前回会議以降に状態変更（支援中）" in text[changed.code]
    assert "前回会議以降の新規ケース" in text[new.code]
    assert "多職種連携チーム支援" in text[flagged.code]
    for absent in (review_later, just_sent, quiet):
        assert absent.code not in text


def test_cases_on_the_agenda_come_first_in_agenda_order_then_the_suggestions(pack):
    w = pack
    silent = open_case(w, contact_days_ago=None)  # never contacted
    first, second = open_case(w), open_case(w)
    services.add_to_agenda(w.supervisor, w.meeting, case=second)
    services.add_to_agenda(w.supervisor, w.meeting, case=first)

    rows = pack_rows(detail(w))

    assert [code for code, _text in rows] == [second.code, first.code, silent.code]


def test_suggestions_are_capped_and_the_rest_counted(pack):
    w = pack
    cases = [open_case(w, contact_days_ago=61 + n) for n in range(PACK_SUGGESTIONS + 3)]

    html = detail(w)

    rows = pack_rows(html)
    assert len(rows) == PACK_SUGGESTIONS
    # The longest silence first.
    assert [code for code, _text in rows] == [c.code for c in reversed(cases)][: len(rows)]
    assert "ほか 3件の候補は表示していません。" in html


def test_no_other_organisations_case_and_no_restricted_case_out_of_reach_is_suggested(pack):
    w = pack
    outsider = w.world.other_supervisor
    elsewhere = casework.open_case(
        outsider, identity={"name": "他組織"}, case_fields={"mdt_supported": True}
    )
    restricted = open_case(w, contact_days_ago=None, restricted=True)  # the counsellor leads
    visible = open_case(w, contact_days_ago=None)

    for user in (w.supervisor, w.counsellor, w.colleague):
        html = detail(w, user)
        assert elsewhere.code not in html
        assert visible.code in [code for code, _text in pack_rows(html)]
        assert restricted.code not in [code for code, _text in pack_rows(html)]
    # Those who may see the restricted case are told why it cannot be discussed; a
    # colleague who may not see it is not even told it exists.
    assert "閲覧制限があるため議題にできません" in detail(w, w.counsellor)
    assert restricted.code not in detail(w, w.colleague)
    assert restricted.code not in printed(w, w.colleague)


def test_an_agenda_case_the_viewer_cannot_read_is_left_out_of_the_pack_and_its_print(pack):
    w = pack
    shown, hidden = open_case(w), open_case(w)
    for case in (shown, hidden):
        services.add_to_agenda(w.supervisor, w.meeting, case=case)
    hidden.refresh_from_db()
    casework.update_case(
        w.supervisor, hidden, expected_version=hidden.version, changes={"restricted": True}
    )

    for html in (detail(w, w.colleague), printed(w, w.colleague)):
        assert shown.code in html and hidden.code not in html
        assert "閲覧できないケースのため" in html
    assert hidden.code in printed(w, w.supervisor)


def test_the_print_has_an_agenda_page_a_page_per_case_and_the_attendance(pack):
    w = pack
    subject = open_case(w, mdt_supported=True, summary="就労準備に向けた支援")
    item = discussed_last_time(w, subject, decisions="精神科受診を勧める", next_review_on=TODAY())
    services.add_action(
        w.supervisor,
        item,
        description="受診同行の調整",
        assignee=w.counsellor,
        due_on=TODAY() - datetime.timedelta(days=1),
    )
    casework.log_contact(w.counsellor, case=subject, summary="母親から電話")
    other = open_case(w)
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(w.supervisor)
    page_url = reverse("meetings:detail", kwargs={"pk": w.meeting.pk})
    form = next(
        f for f in post_forms(browser.get(page_url).content.decode()) if f.named("question")
    )
    for case, presenter, question in (
        (subject, w.counsellor, "受診を本人にどう勧めるか"),
        (other, w.colleague, ""),
    ):
        response = submit(
            browser,
            form,
            page_url,
            {"code": case.code, "presenter": str(presenter.pk), "question": question},
        )
        assert response.status_code == 302
    services.add_external_attendance(
        w.supervisor, w.meeting, organisation_type="medical", profession="精神科医", count=2
    )
    services.add_external_attendance(
        w.supervisor, w.meeting, organisation_type="municipality", profession="保健師"
    )

    html = printed(w)

    assert CANARY not in html
    sections = re.findall(r'<section class="sheet[^"]*" id="([^"]+)">(.*?)</section>', html, re.S)
    assert [name for name, _body in sections] == ["agenda", "case-1", "case-2", "attendance"]
    for _name, body in sections:
        assert "取扱注意" in body  # every page section opens with it
    pages = dict(sections)
    # The agenda page: items in order, with presenter and question; the meeting in 令和.
    agenda = pages["agenda"]
    assert era_date(timezone.localdate(w.meeting.held_at)) in agenda
    assert re.search(r"令和\d+年\d+月\d+日 \d\d:\d\d", agenda)
    assert agenda.index(subject.code) < agenda.index(other.code)
    assert "鈴木" in agenda and "受診を本人にどう勧めるか" in agenda
    # The case page: profile, earlier decision (decrypted for the print), open action.
    case_page = pages["case-1"]
    assert subject.code in case_page and other.code not in case_page
    assert "30代" in case_page and "8050世帯" in case_page
    assert "鈴木（精神保健福祉士）" in case_page  # the lead worker
    assert "多職種連携チーム支援" in case_page and "就労準備に向けた支援" in case_page
    assert "精神科受診を勧める" in case_page
    assert era_date(timezone.localdate(item.meeting.held_at)) in case_page
    assert "受診同行の調整" in case_page and "期限切れ" in case_page
    assert "母親から電話" in case_page
    # The attendance page: staff by name, outsiders counted by type.
    attendance = pages["attendance"]
    for name in ("佐藤", "鈴木", "田中"):
        assert name in attendance
    assert "医療機関" in attendance and "精神科医" in attendance and "市町村" in attendance
    assert re.search(r">3<", attendance)  # 2 + 1 outsiders
    # The decisions are minutes: on the print, not on the meeting page.
    assert "精神科受診を勧める" not in detail(w)
    # The print is one audited export naming the cases and the minutes it showed.
    event = Event.objects.filter(action="export", object_ref=str(w.meeting.pk)).latest("seq")
    assert event.detail["pack_cases"] == [subject.code, other.code]
    assert str(item.pk) in event.detail["minutes"]
    assert "精神科受診を勧める" not in str(event.detail)


def test_the_print_uses_a_static_stylesheet_with_page_numbers_and_the_mark_per_page(pack, client):
    html = printed(pack)
    assert "style=" not in html and "<style" not in html  # the CSP allows no inline style
    css_url = re.search(r'href="([^"]+print[^"]*\.css)"', html).group(1)
    css = b"".join(client.get(css_url).streaming_content).decode()
    assert "counter(page)" in css and "counter(pages)" in css and '"取扱注意"' in css


def test_a_presenter_from_elsewhere_is_refused_with_the_field_error_and_nothing_added(pack):
    w = pack
    case = open_case(w)
    outsider = w.world.other_counsellor
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(w.supervisor)
    page_url = reverse("meetings:detail", kwargs={"pk": w.meeting.pk})
    form = next(
        f for f in post_forms(browser.get(page_url).content.decode()) if f.named("question")
    )

    response = submit(browser, form, page_url, {"code": case.code, "presenter": str(outsider.pk)})

    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not AgendaItem.objects.filter(meeting=w.meeting).exists()


def _agenda_of(w, n: int) -> None:
    for _ in range(n):
        case = open_case(w, contact_days_ago=None)
        casework.update_case(
            w.counsellor,
            case,
            expected_version=case.version,
            changes={},
            lead_workers=[w.counsellor, w.colleague],
        )
        item = discussed_last_time(w, case, next_review_on=TODAY())
        services.add_action(
            w.supervisor, item, description="電話", assignee=w.counsellor, due_on=TODAY()
        )
        casework.log_contact(w.counsellor, case=case, summary="経過")
        services.add_to_agenda(w.supervisor, w.meeting, case=case, presenter=w.counsellor)
        open_case(w, contact_days_ago=None)  # and a suggestion


def _queries(w, url: str) -> int:
    browser = HttpClient()
    browser.force_login(w.supervisor)
    browser.get(url)  # warm: the session, the permission cache of the first request
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", ["meetings:detail", "meetings:print"])
def test_the_pack_pages_run_a_fixed_number_of_queries_whatever_the_number_of_cases(pack, name):
    w = pack
    url = reverse(name, kwargs={"pk": w.meeting.pk})
    _agenda_of(w, 2)
    few = _queries(w, url)
    _agenda_of(w, 10)
    assert _queries(w, url) == few


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (datetime.date(2025, 5, 12), "令和7年5月12日"),
        (datetime.date(2019, 5, 1), "令和元年5月1日"),
        (datetime.date(2019, 4, 30), "平成31年4月30日"),
        (datetime.date(1989, 1, 8), "平成元年1月8日"),
        (datetime.date(1989, 1, 7), "昭和64年1月7日"),
    ],
)
def test_era_dates(day, expected):
    assert era_date(day) == expected
