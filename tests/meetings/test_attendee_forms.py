"""The meeting page's attendee and external-attendee forms, read and submitted as a
browser does: the fields are there with the current values, an unchanged submission
keeps the attendees and the MDT members' case access, bad input is refused with the
field's error and changes nothing."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from casework import services as casework
from meetings import services
from meetings.models import ExternalAttendance, Meeting
from tests.html_forms import form_posting_to, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def centre(world):
    """A supervisor preparing next week's MDT meeting with a psychiatrist (MDT member)
    attending and one of the counsellor's cases on the agenda, review open."""
    org, counsellor, supervisor = world.centre, world.counsellor, world.supervisor
    psychiatrist, outsider = world.mdt, world.other_counsellor
    case = casework.open_case(counsellor, identity={"name": "出席 試験"}, case_fields={})
    meeting = services.plan_meeting(
        supervisor,
        kind=Meeting.Kind.MDT_MONTHLY,
        held_at=timezone.now() + datetime.timedelta(days=7),
        legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
        attendees=[supervisor, psychiatrist],
    )
    services.add_to_agenda(supervisor, meeting, case=case)
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(supervisor)
    return SimpleNamespace(
        world=world,
        org=org,
        counsellor=counsellor,
        supervisor=supervisor,
        psychiatrist=psychiatrist,
        outsider=outsider,
        case=case,
        meeting=meeting,
        browser=browser,
        page=reverse("meetings:detail", kwargs={"pk": meeting.pk}),
    )


def attendee_ids(meeting: Meeting) -> set[int]:
    return set(Meeting.objects.get(pk=meeting.pk).attendees.values_list("pk", flat=True))


def case_status_for(user, case) -> int:
    reader = HttpClient()
    reader.force_login(user)
    return reader.get(reverse("casework:case_detail", kwargs={"code": case.code})).status_code


def open_page(c):
    response = c.browser.get(c.page)
    assert response.status_code == 200
    return response.content.decode()


def attendee_form(c, html: str):
    return form_posting_to(html, c.page, reverse("meetings:attendees", kwargs={"pk": c.meeting.pk}))


def external_form(c, html: str):
    return form_posting_to(
        html, c.page, reverse("meetings:external_add", kwargs={"pk": c.meeting.pk})
    )


def test_the_attendee_form_lists_the_host_staff_with_the_attendees_ticked(centre):
    form = attendee_form(centre, open_page(centre))

    assert form.hidden.get("csrfmiddlewaretoken")
    boxes = {int(b.value): b.checked for b in form.named("attendees") if b.type == "checkbox"}
    w = centre.world
    staff = {w.counsellor.pk, w.colleague.pk, w.outreach.pk, w.supervisor.pk, w.mdt.pk}
    # The host's staff who take part in meetings: nobody from elsewhere, and not its
    # statistics viewer, auditor or administrator.
    assert set(boxes) == staff
    assert {pk for pk, ticked in boxes.items() if ticked} == {
        centre.supervisor.pk,
        centre.psychiatrist.pk,
    }


def test_submitting_the_attendee_form_as_rendered_keeps_attendees_and_their_case_access(
    centre,
):
    assert case_status_for(centre.psychiatrist, centre.case) == 200
    before = attendee_ids(centre.meeting)
    html = open_page(centre)

    response = submit(centre.browser, attendee_form(centre, html), centre.page)

    assert response.status_code in (200, 302)
    assert attendee_ids(centre.meeting) == before == {centre.supervisor.pk, centre.psychiatrist.pk}
    assert case_status_for(centre.psychiatrist, centre.case) == 200


def test_ticking_a_colleague_adds_them_and_unticking_the_psychiatrist_ends_their_access(
    centre,
):
    form = attendee_form(centre, open_page(centre))
    response = submit(
        centre.browser,
        form,
        centre.page,
        {"attendees": [str(centre.supervisor.pk), str(centre.counsellor.pk)]},
    )

    assert response.status_code == 302
    assert attendee_ids(centre.meeting) == {centre.supervisor.pk, centre.counsellor.pk}
    assert case_status_for(centre.psychiatrist, centre.case) == 404
    page = centre.browser.get(response["Location"]).content.decode()
    assert "出席者を更新しました。" in page
    ticked = {int(b.value) for b in attendee_form(centre, page).named("attendees") if b.checked}
    assert ticked == {centre.supervisor.pk, centre.counsellor.pk}


def test_unticking_everybody_is_refused_with_the_reason_and_changes_nothing(centre):
    form = attendee_form(centre, open_page(centre))
    response = submit(centre.browser, form, centre.page, {"attendees": []})

    assert response.status_code == 200
    page = response.content.decode()
    assert "出席者を少なくとも1人選んでください。" in page
    assert "出席者を更新しました。" not in page
    assert attendee_ids(centre.meeting) == {centre.supervisor.pk, centre.psychiatrist.pk}
    assert case_status_for(centre.psychiatrist, centre.case) == 200


def test_an_attendee_of_another_organisation_is_refused_and_changes_nothing(centre):
    form = attendee_form(centre, open_page(centre))
    response = submit(
        centre.browser,
        form,
        centre.page,
        {"attendees": [str(centre.supervisor.pk), str(centre.outsider.pk)]},
    )

    assert response.status_code == 200
    assert attendee_ids(centre.meeting) == {centre.supervisor.pk, centre.psychiatrist.pk}
    assert centre.outsider.pk not in attendee_ids(centre.meeting)


def test_a_deactivated_attendee_stays_listed_and_ticked_and_is_kept(centre):
    type(centre.psychiatrist).objects.filter(pk=centre.psychiatrist.pk).update(is_active=False)
    form = attendee_form(centre, open_page(centre))
    ticked = {int(b.value) for b in form.named("attendees") if b.checked}
    assert ticked == {centre.supervisor.pk, centre.psychiatrist.pk}

    submit(centre.browser, form, centre.page)

    assert attendee_ids(centre.meeting) == {centre.supervisor.pk, centre.psychiatrist.pk}


def test_a_form_drawn_before_a_colleague_changed_the_attendees_is_refused(centre):
    form = attendee_form(centre, open_page(centre))
    services.set_attendees(  # a colleague adds the counsellor meanwhile
        centre.supervisor,
        centre.meeting,
        attendees=[centre.supervisor, centre.psychiatrist, centre.counsellor],
    )

    response = submit(centre.browser, form, centre.page)  # would drop the counsellor

    assert response.status_code == 200
    page = response.content.decode()
    assert "出席者は他の職員によって更新されました。" in page
    assert attendee_ids(centre.meeting) == {
        centre.supervisor.pk,
        centre.psychiatrist.pk,
        centre.counsellor.pk,
    }
    ticked = {int(b.value) for b in attendee_form(centre, page).named("attendees") if b.checked}
    assert ticked == attendee_ids(centre.meeting)  # the page now shows the list as it is


def test_the_set_attendees_service_refuses_an_empty_list(centre):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.set_attendees(centre.supervisor, centre.meeting, attendees=[])
    assert attendee_ids(centre.meeting) == {centre.supervisor.pk, centre.psychiatrist.pk}
    with pytest.raises(ValidationError):
        services.set_attendees(centre.supervisor, centre.meeting, attendees=[centre.outsider])
    assert attendee_ids(centre.meeting) == {centre.supervisor.pk, centre.psychiatrist.pk}


def test_the_external_attendee_form_has_its_fields_and_records_what_is_entered(centre):
    form = external_form(centre, open_page(centre))
    assert form.hidden.get("csrfmiddlewaretoken")
    kinds = form.named("organisation_type")
    assert len(kinds) == 1 and kinds[0].tag == "select"
    offered = {value for value, _selected, _disabled in kinds[0].options if value}
    assert offered == set(ExternalAttendance.OrganisationType.values)
    assert [c.tag for c in form.named("profession")] == ["input"]
    assert [c.type for c in form.named("count")] == ["number"]

    response = submit(
        centre.browser,
        form,
        centre.page,
        {"organisation_type": "medical", "profession": "精神保健福祉士", "count": "2"},
    )

    assert response.status_code == 302
    row = ExternalAttendance.objects.get(meeting=centre.meeting)
    assert (row.organisation_type, row.profession, row.count) == ("medical", "精神保健福祉士", 2)
    page = centre.browser.get(response["Location"]).content.decode()
    assert "外部出席者を記録しました。" in page and "精神保健福祉士" in page


@pytest.mark.parametrize("count", ["0", "-1", "abc", ""])
def test_a_bad_external_count_shows_the_field_error_and_records_nothing(centre, count):
    form = external_form(centre, open_page(centre))
    response = submit(
        centre.browser,
        form,
        centre.page,
        {"organisation_type": "medical", "profession": "看護師", "count": count},
    )

    assert response.status_code == 200
    assert not ExternalAttendance.objects.filter(meeting=centre.meeting).exists()
    rerendered = external_form(centre, response.content.decode())
    # What was typed stays in the form, so the person can correct it.
    assert rerendered.named("profession")[0].value == "看護師"
    kind = rerendered.named("organisation_type")[0]
    assert kind.selected() == ["medical"]
    # The count field is marked invalid and its error is shown (no message is copied here).
    assert rerendered.named("count")[0].attrs.get("aria-invalid") == "true"
    # The attendee form on the same page still shows the attendees.
    ticked = {
        int(b.value)
        for b in attendee_form(centre, response.content.decode()).named("attendees")
        if b.checked
    }
    assert ticked == {centre.supervisor.pk, centre.psychiatrist.pk}
