"""Correcting a saved contact and linking an anonymous one to its case: who may, what
stays in the history, what the timeline shows, what the statistics keep."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import Action, Event
from casework import services
from casework.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(world):
    return services.open_case(
        world.counsellor,
        identity={"name": "訂正 試験", "name_kana": "テイセイ シケン"},
        client_attributes={"gender": "female"},
    )


@pytest.fixture
def contact(world, case):
    return services.log_contact(
        world.counsellor, case=case, summary="母から電話。来週来所予定。", minutes=15
    )


def _correct_url(contact) -> str:
    return reverse("casework:contact_correct", args=[contact.pk])


def _form_data(contact, **changes) -> dict:
    data = {
        "occurred_at": timezone.localtime(contact.occurred_at).strftime("%Y-%m-%dT%H:%M"),
        "channel": contact.channel,
        "consulter": contact.consulter,
        "kind": contact.kind,
        "minutes": contact.minutes,
        "summary": contact.summary or "",
        "follow_up": "",
        "follow_up_due": "",
        "referring_organisation": "",
        "correction_reason": "",
    }
    data.update(changes)
    return data


def test_the_author_corrects_with_a_reason_and_the_history_keeps_the_earlier_text(
    client, world, case, contact
):
    client.force_login(world.counsellor)
    page = client.get(_correct_url(contact))
    assert page.status_code == 200 and "来週来所予定" in page.content.decode()

    refused = client.post(_correct_url(contact), _form_data(contact, summary="父から電話。"))
    assert refused.status_code == 400 and "訂正の理由" in refused.content.decode()
    contact.refresh_from_db()
    assert contact.summary == "母から電話。来週来所予定。" and contact.corrected_at is None

    done = client.post(
        _correct_url(contact),
        _form_data(contact, summary="父から電話。来週来所予定。", correction_reason="相談者の誤り"),
    )
    assert done.status_code == 302
    contact.refresh_from_db()
    assert contact.summary == "父から電話。来週来所予定。"
    assert contact.corrected_by == world.counsellor and contact.corrected_at is not None
    assert contact.correction_reason == "相談者の誤り"
    earlier = [h.summary for h in contact.history.all()]
    assert "母から電話。来週来所予定。" in earlier
    event = Event.objects.filter(action=Action.UPDATE, object_ref=str(contact.pk)).latest("pk")
    assert event.detail["correction"] == ["summary"]
    assert "父から電話" not in str(event.detail) and "誤り" not in str(event.detail)

    timeline = client.get(reverse("casework:case_detail", args=[case.code])).content.decode()
    assert "訂正あり" in timeline and str(world.counsellor) in timeline


def test_the_author_may_not_correct_after_the_window_a_supervisor_may(
    client, world, contact, settings
):
    settings.CONTACT_CORRECTION_DAYS = 7
    Contact.objects.filter(pk=contact.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=8)
    )
    contact.refresh_from_db()
    client.force_login(world.counsellor)
    refused = client.get(_correct_url(contact))
    assert refused.status_code == 403 and "保存してから7日以内" in refused.content.decode()
    with pytest.raises(PermissionDenied):
        services.correct_contact(world.counsellor, contact, reason="遅い", minutes=20)
    # A colleague who did not write it, even within the window, neither.
    fresh = services.log_contact(world.colleague, case=contact.case, summary="同僚の記録")
    assert client.get(_correct_url(fresh)).status_code == 403

    client.force_login(world.supervisor)
    response = client.post(
        _correct_url(contact), _form_data(contact, minutes=45, correction_reason="時間の誤り")
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.minutes == 45 and contact.corrected_by == world.supervisor


def test_another_organisation_never_reaches_the_contact(client, world, contact):
    other_supervisor = world.user(Role.SUPERVISOR, organisation=world.other)
    client.force_login(other_supervisor)
    assert client.get(_correct_url(contact)).status_code == 404
    assert client.post(_correct_url(contact), _form_data(contact)).status_code == 404


def test_a_correction_keeps_the_rules_of_a_new_contact(world, contact):
    with pytest.raises(ValidationError):
        services.correct_contact(
            world.counsellor,
            contact,
            reason="日付",
            occurred_at=timezone.now() + datetime.timedelta(days=3),
        )
    contact.refresh_from_db()
    assert contact.corrected_at is None
    with pytest.raises(ValidationError):
        services.correct_contact(world.counsellor, contact, reason="  ", minutes=5)


def test_an_anonymous_contact_is_linked_to_the_case_opened_after_it(client, world, case):
    anonymous = services.log_contact(
        world.counsellor,
        summary="名乗らずに電話。",
        age_band="20s",
        gender="male",
        municipality=world.town,
    )
    year_key = anonymous.data_key_id
    client.force_login(world.counsellor)
    dashboard = client.get(reverse("home")).content.decode()
    assert _correct_url(anonymous) in dashboard
    page = client.get(_correct_url(anonymous))
    assert reverse("casework:contact_link", args=[anonymous.pk]) in page.content.decode()
    assert client.get(reverse("casework:contact_link", args=[anonymous.pk])).status_code == 200
    wrong = client.post(
        reverse("casework:contact_link", args=[anonymous.pk]), {"case_code": "C-NOPE"}
    )
    assert wrong.status_code == 400 and "見つかりません" in wrong.content.decode()

    linked = client.post(
        reverse("casework:contact_link", args=[anonymous.pk]), {"case_code": case.code}
    )
    assert linked.status_code == 302
    anonymous.refresh_from_db()
    assert anonymous.case == case and anonymous.data_key_id == case.data_key_id != year_key
    assert anonymous.summary == "名乗らずに電話。"  # encrypted again under the case's key
    # The statistics of its date keep the snapshot it was counted with.
    assert (anonymous.age_band, anonymous.gender, anonymous.municipality) == (
        "20s",
        "male",
        world.town,
    )
    assert Event.objects.filter(detail__linked_to=case.code).exists()
    timeline = client.get(reverse("casework:case_detail", args=[case.code])).content.decode()
    assert "名乗らずに電話。" in timeline
    again = client.post(
        reverse("casework:contact_link", args=[anonymous.pk]), {"case_code": case.code}
    )
    assert again.status_code == 403  # linked already: no link form any more


def test_a_contact_cannot_be_linked_to_another_organisations_case(world, case):
    other = world.user(Role.COUNSELLOR, organisation=world.other)
    anonymous = services.log_contact(other, summary="他組織の匿名相談")
    with pytest.raises((PermissionDenied, ValidationError)):
        services.link_contact(other, anonymous, case)
    with pytest.raises(PermissionDenied):
        services.link_contact(world.counsellor, anonymous, case)
    anonymous.refresh_from_db()
    assert anonymous.case is None


def test_a_linked_contact_is_shredded_with_its_case_history_included(world, case):
    """Outside review: the text before the link stayed under the year's key, readable
    after the case's key was destroyed."""
    from casework.fields import Erased

    anonymous = services.log_contact(world.counsellor, summary="名乗らずに電話。")
    services.link_contact(world.counsellor, anonymous, case)
    services.purge_case(case)
    anonymous.refresh_from_db()
    assert isinstance(anonymous.summary, Erased)
    assert all(isinstance(row.summary, Erased) for row in anonymous.history.all())


def test_a_correction_keeps_the_attributes_the_contact_was_counted_with(world, case, contact):
    counted = (contact.age_band, contact.gender, contact.municipality_id)
    client = case.client
    client.gender = "male"
    client.municipality = world.village
    client.save()
    services.correct_contact(world.counsellor, contact, reason="誤字", summary="訂正後")
    contact.refresh_from_db()
    assert (contact.age_band, contact.gender, contact.municipality_id) == counted


def test_a_correction_stays_in_the_contacts_fiscal_year_and_never_writes_erased_text(
    world, contact
):
    from casework.models import DataKey

    with pytest.raises(ValidationError):
        services.correct_contact(
            world.counsellor,
            contact,
            reason="日付",
            occurred_at=contact.occurred_at - datetime.timedelta(days=800),
        )
    anonymous = services.log_contact(world.supervisor, summary="古い匿名相談")
    services.purge_year_key(DataKey.objects.get(pk=anonymous.data_key_id))
    anonymous.refresh_from_db()
    with pytest.raises(ValidationError):
        services.correct_contact(world.supervisor, anonymous, reason="上書き", summary="新しい")


def test_a_link_made_in_error_is_undone_with_the_reason(client, world, case):
    anonymous = services.log_contact(
        world.counsellor, summary="名乗らずに電話。", age_band="20s", gender="male"
    )
    year_key = anonymous.data_key_id
    services.link_contact(world.counsellor, anonymous, case)
    url = reverse("casework:contact_unlink", args=[anonymous.pk])
    client.force_login(world.counsellor)
    assert url in client.get(_correct_url(anonymous)).content.decode()
    assert client.get(url).status_code == 200
    missing = client.post(url, {"reason": ""})
    assert missing.status_code == 400 and "取り消しの理由" in missing.content.decode()
    assert Contact.objects.get(pk=anonymous.pk).case == case  # nothing changed

    assert client.post(url, {"reason": "別の方のケースだった"}).status_code == 302
    anonymous.refresh_from_db()
    assert anonymous.case is None and anonymous.data_key_id == year_key
    assert anonymous.summary == "名乗らずに電話。"
    assert all(row.data_key_id == year_key for row in anonymous.history.all())
    assert (anonymous.age_band, anonymous.gender) == ("20s", "male")  # still counted so
    assert anonymous.correction_reason == "別の方のケースだった"
    assert Event.objects.filter(detail__unlinked_from=case.code).exists()
    timeline = client.get(reverse("casework:case_detail", args=[case.code])).content.decode()
    assert "名乗らずに電話。" not in timeline
    # Back to anonymous: it may be linked again, and a contact never linked is not undone.
    services.link_contact(world.counsellor, anonymous, case)
    own = services.log_contact(world.counsellor, case=case, summary="ケースの記録")
    assert client.get(reverse("casework:contact_unlink", args=[own.pk])).status_code == 403
    with pytest.raises(ValidationError):
        services.unlink_contact(world.supervisor, own, reason="誤り")


def test_only_those_who_may_correct_undo_a_link(client, world, case):
    anonymous = services.log_contact(world.counsellor, summary="名乗らずに電話。")
    services.link_contact(world.counsellor, anonymous, case)
    url = reverse("casework:contact_unlink", args=[anonymous.pk])
    client.force_login(world.colleague)  # not the author, not a supervisor
    assert client.post(url, {"reason": "誤り"}).status_code == 403
    client.force_login(world.other_counsellor)
    assert client.post(url, {"reason": "誤り"}).status_code == 404
    assert Contact.objects.get(pk=anonymous.pk).case == case
    client.force_login(world.supervisor)
    assert client.post(url, {"reason": "誤り"}).status_code == 302


def test_a_case_offers_the_organisations_recent_anonymous_contacts_to_link(client, world, case):
    taken_by_colleague = services.log_contact(world.colleague, summary="匿名の電話の内容")
    elsewhere = services.log_contact(world.other_counsellor, summary="他組織")
    old = services.log_contact(world.counsellor, summary="古い")
    Contact.objects.filter(pk=old.pk).update(
        occurred_at=timezone.now() - datetime.timedelta(days=120)
    )
    url = reverse("casework:case_link_anonymous", args=[case.code])
    client.force_login(world.counsellor)
    assert url in client.get(reverse("casework:case_detail", args=[case.code])).content.decode()
    page = client.get(url).content.decode()
    assert str(taken_by_colleague.pk) in page
    assert str(elsewhere.pk) not in page and str(old.pk) not in page
    assert "匿名の電話の内容" not in page  # chosen by date, method and staff, not by text

    assert client.post(url, {"contact": str(elsewhere.pk)}).status_code == 404
    assert client.post(url, {"contact": "not-a-uuid"}).status_code == 400
    assert client.post(url, {"contact": str(taken_by_colleague.pk)}).status_code == 302
    assert Contact.objects.get(pk=taken_by_colleague.pk).case == case
    client.force_login(world.other_counsellor)
    assert client.get(url).status_code == 404


def test_two_people_linking_one_call_at_once_the_second_is_told(world, case):
    """Outside review: without a row lock both were told "linked"."""
    other_case = services.open_case(world.colleague, identity={"name": "別 人"})
    anonymous = services.log_contact(world.counsellor, summary="名乗らずに電話。")
    stale = Contact.objects.get(pk=anonymous.pk)  # the second person's page, read before
    services.link_contact(world.counsellor, anonymous, case)
    with pytest.raises(ValidationError):
        services.link_contact(world.colleague, stale, other_case)
    assert Contact.objects.get(pk=anonymous.pk).case == case
    assert not Event.objects.filter(detail__linked_to=other_case.code).exists()


def test_whoever_linked_may_undo_it_and_a_refusal_says_why(client, world, case):
    anonymous = services.log_contact(world.colleague, summary="同僚が受けた電話。")
    services.link_contact(world.counsellor, anonymous, case)  # linked by someone else
    url = reverse("casework:contact_unlink", args=[anonymous.pk])
    client.force_login(world.counsellor)
    assert client.post(url, {"reason": "別の方だった"}).status_code == 302
    assert Contact.objects.get(pk=anonymous.pk).case is None

    own = services.log_contact(world.counsellor, case=case, summary="ケースの記録")
    refused = client.get(reverse("casework:contact_unlink", args=[own.pk]))
    assert refused.status_code == 403
    assert "最初からケースの相談として記録されています" in refused.content.decode()


def test_linking_to_an_erased_case_is_a_400_with_the_reason(client, world, case):
    anonymous = services.log_contact(world.counsellor, summary="名乗らずに電話。")
    services.purge_case(case)
    client.force_login(world.counsellor)
    response = client.post(
        reverse("casework:case_link_anonymous", args=[case.code]), {"contact": str(anonymous.pk)}
    )
    assert response.status_code in (400, 404)
    assert Contact.objects.get(pk=anonymous.pk).case is None


def test_the_case_page_and_its_print_show_the_same_local_time(client, world, case):
    """Outside review: the case page showed UTC (03:35 for a call at 12:35 in Japan)."""
    at = datetime.datetime(2026, 4, 1, 12, 35, tzinfo=timezone.get_current_timezone())
    services.log_contact(world.counsellor, case=case, occurred_at=at, summary="昼の電話")
    client.force_login(world.supervisor)
    page = client.get(reverse("casework:case_detail", args=[case.code])).content.decode()
    printed = client.get(reverse("casework:case_print", args=[case.code])).content.decode()
    assert "2026/04/01 12:35" in page and "03:35" not in page
    assert "令和8年4月1日 12:35" in printed
