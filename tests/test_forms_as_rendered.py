"""Every page's POST forms, read from the HTML and submitted unchanged, as a browser would.

For each role, each page the access matrix knows (tests/security/test_access_matrix.py's
PROBES, on a small seeded world) is opened; every `<form method="post">` on it is parsed
(stdlib html.parser, tests/html_forms.py) and submitted exactly as rendered: ticked boxes,
selected options, hidden inputs, the CSRF token, with CSRF checks on. Each submission runs
in a transaction that is rolled back, so a destructive button (logout, revoke, drop from
the agenda) is exercised without changing what the next form sees.

What must hold, for every form:
- never a 500;
- a form that renders no field a person fills in (only hidden inputs and a button) posts
  to a view that takes no more than that (BUTTON_FORMS); the view does not answer with
  "this field is required" — the bug class of issue 19: a template that included a form
  the view never passed rendered an empty form, and posting it wiped the attendees;
- a form that does render fields, submitted unchanged, removes no row anywhere (the
  attendee form removed every attendee and, with them, their case grants).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client as HttpClient
from django.urls import Resolver404, resolve, reverse

from accounts.models import Organisation
from accounts.roles import Role
from imports.models import PendingUpload
from meetings import services as meeting_services
from meetings.models import ExternalAttendance, Meeting
from tests.factories import make_organisation
from tests.html_forms import Form, form_posting_to, post_forms, submit
from tests.imports.conftest import CONTACT_HEADER, contact_row, csv_file
from tests.security import test_access_matrix as matrix

# The access-matrix test's scene: one organisation with a case, a contact awaiting
# follow-up, a sent referral, a transfer, a visit, a programme session, a meeting with the
# case on its agenda and an action, a plan with an indicator and a snapshot, an API token.
scene = matrix.scene

# Forms that are a button by design: the view reads the URL and hidden inputs only.
# A form posting anywhere else must render at least one field a person fills in.
BUTTON_FORMS = {
    "accounts:logout",
    "set_language",  # one button per language: name="language" value="ja"/"en"
    "accounts:unlock",  # hidden: the lockout record
    "casework:identity_reveal",
    "casework:follow_up_done",
    "casework:case_link_anonymous",  # one button per anonymous contact: name="contact"
    "casework:break_glass_review",  # hidden: the grant
    "meetings:agenda_add",  # the pack's "add" buttons carry the case code as hidden input
    "meetings:agenda_drop",
    "meetings:action_done",
    "outreach:visit_start",
    "outreach:visit_cancel",
    "outreach:visit_checkin",  # the quick "back safely" button; the full form has fields
    "referrals:move",
    "referrals:consent_withdraw",
    "referrals:transfer_end_access",
    "api_tokens:revoke",
    "imports:cancel",
    "imports:review",  # "取り込む": confirms the file and mapping chosen on earlier steps
    "audit:verify",
    "admin:logout",
    "accounts:approval_decide",  # 承認する / 却下する: the decision is the button pressed
    "referrals:shared",  # 個人情報を表示: asks for the consented identity (step-up)
}


def _is_button_form(view_name: str) -> bool:
    # Django admin's changelist form wraps the result table; it carries fields only when
    # the model has actions or editable columns, and takes an empty post as "nothing".
    return view_name in BUTTON_FORMS or (
        view_name.startswith("admin:") and view_name.endswith("_changelist")
    )


# Forms whose unchanged submission removes rows today, each with its issue. An entry
# that no longer removes anything fails the test, so the list cannot outlive the bug.
KNOWN_TO_REMOVE: dict[str, str] = {}

# Tables whose rows an unchanged submission may legitimately remove: sessions (a
# sign-in rotates the session) and django-axes' failure records (reset on success).
MAY_SHRINK = {"django_session", "axes_accessattempt"}

ANONYMOUS = None
ROLES = [ANONYMOUS, *Role]


def _get_pages(w, people) -> list[tuple[str, str]]:
    """(view name, URL) of every GET page in the access matrix's probes, with the import
    steps pointed at the supervisor's own uploads instead of the probes' unknown id."""
    pages = []
    for name, probe in sorted(matrix.PROBES.items()):
        if probe.get("method") == "post":
            continue
        if name in people.kwargs:
            kwargs = people.kwargs[name]
        else:
            kwargs = probe["kwargs"](w) if "kwargs" in probe else None
        pages.append((name, reverse(name, kwargs=kwargs)))
    return pages + people.pages


def _upload_through_the_page(client, *, map_columns: bool) -> PendingUpload:
    """A contact spreadsheet uploaded with the upload page's own form, as a person would;
    optionally its column mapping accepted as the mapping page proposes it."""
    url = reverse("imports:upload")
    form = next(f for f in post_forms(client.get(url).content.decode()) if f.named("file"))
    data = csv_file([CONTACT_HEADER, contact_row("R6.4.1")])
    response = submit(
        client,
        form,
        url,
        {"kind": "contacts", "file": [SimpleUploadedFile("相談記録.csv", data)]},
    )
    assert response.status_code == 302, response.status_code
    mapping = response["Location"]
    pending = PendingUpload.objects.get(pk=resolve(mapping).kwargs["pk"])
    if map_columns:
        step = form_posting_to(client.get(mapping).content.decode(), mapping, mapping)
        assert submit(client, step, mapping).status_code == 302
    return pending


def _row_counts() -> dict[str, int]:
    """Rows per table, in one query (every table of the database, m2m and history too)."""
    tables = sorted(connection.introspection.table_names())
    quote = connection.ops.quote_name
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(t)})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))


def _required_message() -> str:
    return str(forms.Field.default_error_messages["required"])


@dataclass
class Problem:
    role: str
    page: str
    action: str
    what: str

    def __str__(self) -> str:
        return f"{self.role} on {self.page}: form to {self.action}: {self.what}"


def _view_name(url: str) -> str:
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return f"(no view: {url})"


def _is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def _submit_unchanged(client, form: Form, page_url: str):
    """Submit, follow one redirect to see what the person is told, then roll it all back
    (the client's cookies too: a logout must not sign the next submission out)."""
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        before = _row_counts()
        response = submit(client, form, page_url)
        seen = response.content.decode(errors="replace") if _is_html(response) else ""
        if response.status_code == 302 and response["Location"].startswith("/"):
            followed = client.get(response["Location"])
            if _is_html(followed):
                seen += followed.content.decode(errors="replace")
        after = _row_counts()
        transaction.set_rollback(True)
    client.cookies = cookies
    return response, seen, before, after


@pytest.fixture
def people(scene):
    """One user per role in the scene's organisation; the MDT member attends the meeting
    (so holds the agenda case while its review is open), as in the demo."""
    users = {role: scene.world.user(role) for role in Role}
    supervisor = users[Role.SUPERVISOR]
    meeting_services.set_attendees(
        supervisor, scene.meeting, attendees=[supervisor, users[Role.MDT_MEMBER]]
    )
    ExternalAttendance.objects.create(
        meeting=scene.meeting, organisation_type="medical", profession="精神科医", count=1
    )
    make_organisation(Organisation.Kind.MUNICIPALITY, name="津市")  # the sheet's 居住地
    uploader = HttpClient()
    uploader.force_login(supervisor)
    mapping = _upload_through_the_page(uploader, map_columns=False)
    review = _upload_through_the_page(uploader, map_columns=True)
    kwargs = {"imports:mapping": {"pk": mapping.pk}, "imports:review": {"pk": review.pk}}
    # A case conference's page too: its count of residents not in the system.
    conference = meeting_services.plan_meeting(
        supervisor,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=scene.meeting.held_at,
        legal_basis=Meeting.LegalBasis.SUPPORT_MEETING,
    )
    pages = [
        ("meetings:detail", reverse("meetings:detail", kwargs={"pk": conference.pk})),
        # Pages a probe does not open: the purpose asked before a print with the name, and
        # linking an anonymous contact (its probe posts).
        (
            "casework:case_print",
            reverse("casework:case_print", kwargs={"code": scene.case.code}) + "?identity=1",
        ),
        ("casework:contact_link", reverse("casework:contact_link", args=[scene.anonymous.pk])),
    ]
    return SimpleNamespace(users=users, kwargs=kwargs, pages=pages)


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_every_form_on_every_page_survives_being_submitted_as_rendered(scene, people, role):
    client = HttpClient(enforce_csrf_checks=True, raise_request_exception=False)
    if role is not None:
        client.force_login(people.users[role])
    problems: list[Problem] = []
    who = role or "anonymous"
    reached: set[str] = set()
    known_seen: set[str] = set()
    known_removing: set[str] = set()

    for page_name, page_url in _get_pages(scene, people):
        page = client.get(page_url)
        if page.status_code == 500:
            problems.append(Problem(who, page_name, "-", "the page itself answers 500"))
        if page.status_code != 200 or not _is_html(page):
            continue
        for form in post_forms(page.content.decode()):
            target = form.url(page_url)
            action = _view_name(target)
            response, seen, before, after = _submit_unchanged(client, form, page_url)
            reached.add(action)
            if response.status_code >= 500:
                problems.append(Problem(who, page_name, action, f"{response.status_code}"))
            if response.status_code == 403:
                problems.append(Problem(who, page_name, action, "refused (403)"))
            if not form.entry_fields:
                if not _is_button_form(action):
                    problems.append(Problem(who, page_name, action, "renders no field to fill in"))
                if _required_message() in seen:
                    problems.append(
                        Problem(who, page_name, action, "no fields rendered, yet required")
                    )
            else:
                lost = {
                    table: before[table] - after[table]
                    for table in before
                    if after.get(table, 0) < before[table] and table not in MAY_SHRINK
                }
                if action in KNOWN_TO_REMOVE:
                    known_seen.add(action)
                    if lost.pop(KNOWN_TO_REMOVE[action], None):
                        known_removing.add(action)
                if lost:
                    problems.append(
                        Problem(who, page_name, action, f"unchanged submission removed {lost}")
                    )

    for action in known_seen - known_removing:
        problems.append(Problem(who, "-", action, "KNOWN_TO_REMOVE entry no longer needed"))
    assert not problems, "\n".join(map(str, problems))
    if role == Role.SUPERVISOR:  # the walk does reach the forms that matter most
        assert {
            "meetings:attendees",
            "meetings:external_add",
            "meetings:minutes",
            "meetings:unregistered_cases",
            "casework:case_edit",
            "casework:contact_new",
            "imports:mapping",
            "imports:review",
        } <= reached
