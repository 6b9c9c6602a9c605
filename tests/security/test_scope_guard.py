"""Organisation and visibility scope below the views (accounts.scoping): in request code a
scoped model is read through its scoped methods or not at all; views, the API and forms
never use the escape nor filter by organisation by hand."""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path

import pytest
from django.apps import apps
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path

from accounts.access import needs
from accounts.roles import Role
from accounts.scoping import ScopeError, is_scoped, request_scope, unscoped
from casework import services
from casework.models import Case, Contact, Milestone
from casework.models import Client as Person
from tests.factories import make_organisation, make_user

ROOT = Path(__file__).resolve().parents[2]

# The models that hold an organisation's records, each read in request code only through
# its scoped methods. A new model holding such records belongs here and on the list.
SCOPED = {
    "casework.Case",
    "casework.Client",
    "casework.Contact",
    "casework.Milestone",
    "outreach.Visit",
    "outreach.Programme",
    "outreach.Session",
    "outreach.Attendance",
    "meetings.Meeting",
    "meetings.AgendaItem",
    "meetings.ActionItem",
    "referrals.Referral",
    "referrals.Transfer",
    "indicators.Plan",
    "indicators.Direction",
    "indicators.Indicator",
    "indicators.Target",
    "indicators.ManualValue",
    "indicators.Assessment",
    "indicators.Snapshot",
}


def scoped_models() -> list:
    return [model for model in apps.get_models() if is_scoped(model)]


def test_the_scoped_models_are_exactly_those_holding_an_organisations_records():
    assert {model._meta.label for model in scoped_models()} == SCOPED


def test_every_scoped_model_offers_a_scoped_read():
    for model in scoped_models():
        manager = model.objects
        assert hasattr(manager, "visible_to"), model._meta.label


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(SCOPED))
def test_every_scoped_models_default_manager_refuses_an_unscoped_query_in_request_code(label):
    model = apps.get_model(label)
    with request_scope():
        for query in (
            lambda: list(model.objects.all()),
            lambda: model.objects.filter(pk=1).exists(),
            lambda: model.objects.count(),
            lambda: model._default_manager.get(pk=1),
        ):
            with pytest.raises(ScopeError, match=model.__name__):
                query()
        # What reads no row, and the explicit escape, are allowed.
        assert list(model.objects.none()) == []
        assert model.objects.unscoped().filter(pk__in=[]).count() == 0
        with unscoped():
            assert model.objects.filter(pk__in=[]).count() == 0
    # Outside a request (commands, the demo, migrations) nothing changes.
    assert model.objects.filter(pk__in=[]).count() == 0


@pytest.fixture
def centre(db):
    org = make_organisation()
    counsellor = make_user(Role.COUNSELLOR, organisation=org)
    case = services.open_case(counsellor, identity={"name": "範囲 試験"}, case_fields={})
    services.log_contact(counsellor, case=case, summary="記録")
    return types.SimpleNamespace(org=org, counsellor=counsellor, case=case)


def test_related_managers_follow_a_scoped_parent_but_not_an_organisation_or_a_user(centre):
    with request_scope():
        case = Case.objects.visible_to(centre.counsellor).get()
        assert case.contacts.count() == 1  # reached through the case's scope
        assert Case.objects.visible_to(centre.counsellor).prefetch_related("contacts")[0]
        assert case.client.code  # a forward key: the plain base manager
        with pytest.raises(ScopeError):
            list(centre.org.cases.all())  # an organisation filter by hand, in disguise
        with pytest.raises(ScopeError):
            list(centre.counsellor.contacts.all())


def test_scoped_reads_give_the_visibility_policy(centre):
    other = make_user(Role.COUNSELLOR, organisation=make_organisation())
    with request_scope():
        assert list(Case.objects.visible_to(centre.counsellor)) == [centre.case]
        assert Case.objects.visible_to(other).count() == 0
        assert Person.objects.visible_to(centre.counsellor).get() == centre.case.client
        assert Person.objects.visible_to(other).count() == 0
        assert Contact.objects.visible_to(other).count() == 0
        assert Milestone.objects.visible_to(other).count() == 0


def test_writes_through_the_services_pass_the_guard_and_full_clean(centre):
    with request_scope():  # as in a request: codes are checked unique across scope
        case = services.open_case(
            centre.counsellor, identity={"name": "範囲 二"}, confirm_duplicate=True
        )
        services.log_contact(centre.counsellor, case=case, summary="記録")
    assert case.contacts.count() == 1


# --- through a real request -----------------------------------------------------------------


def _leaky_view(request):
    """A view written the wrong way: every case of the organisation, filtered by hand."""
    codes = [c.code for c in Case.objects.filter(organisation_id=request.user.organisation_id)]
    return HttpResponse(",".join(codes))


def _urlconf() -> str:
    module = types.ModuleType("tests.security.scope_guard_urls")
    vars(module)["urlpatterns"] = [
        path("", include("config.urls")),
        path("leaky/", _leaky_view, name="leaky"),
    ]
    sys.modules[module.__name__] = module
    return module.__name__


def _matrix() -> str:
    from config.access import MATRIX

    module = types.ModuleType("tests.security.scope_guard_access")
    vars(module)["MATRIX"] = {**MATRIX, "leaky": needs("casework.view_org_cases")}
    sys.modules[module.__name__] = module
    return module.__name__ + ".MATRIX"


def test_an_unscoped_query_in_a_view_raises_in_tests(client, centre):
    client.force_login(centre.counsellor)
    with (
        override_settings(ROOT_URLCONF=_urlconf(), ACCESS_MATRIX=_matrix()),
        pytest.raises(ScopeError, match=r"Case\.objects used without a scope"),
    ):
        client.get("/leaky/")


def test_in_production_it_is_a_500_and_no_record_is_served(centre):
    browser = Client(raise_request_exception=False)
    browser.force_login(centre.counsellor)
    with override_settings(ROOT_URLCONF=_urlconf(), ACCESS_MATRIX=_matrix()):
        response = browser.get("/leaky/")
    assert response.status_code == 500
    assert centre.case.code.encode() not in response.content
    # The guard ends with the request: the test's own reads are not refused afterwards.
    assert Case.objects.filter(pk=centre.case.pk).exists()


# --- the source of views, the API and forms --------------------------------------------------

ORGANISATION_FIELDS = ("organisation", "organiser", "host")
ESCAPES = {"unscoped", "_default_manager", "_base_manager"}
# Calls that narrow a query by their keywords.
FILTERS = {"filter", "exclude", "get", "get_or_create", "update_or_create"}
FILTER_FUNCTIONS = {"Q", "get_object_or_404", "get_list_or_404"}


def _request_modules() -> list[Path]:
    found = sorted(ROOT.glob("*/views.py")) + sorted(ROOT.glob("*/*_views.py"))
    found += sorted(ROOT.glob("*/forms.py")) + sorted((ROOT / "api").glob("*.py"))
    return [p for p in found if ".venv" not in p.parts and "tests" not in p.parts]


def _by_hand(keyword: str) -> bool:
    parts = keyword.split("__")
    return any(
        part.removesuffix("_id").removeprefix("from_").removeprefix("to_") in ORGANISATION_FIELDS
        for part in parts
    )


def _filters(call: ast.Call) -> bool:
    function = call.func
    if isinstance(function, ast.Attribute):
        return function.attr in FILTERS
    return isinstance(function, ast.Name) and function.id in FILTER_FUNCTIONS


def offences(source: str) -> list[str]:
    """Escapes, and keyword filters on an organisation, host or organiser field."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ESCAPES:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Name) and node.id in ESCAPES:
            found.append(f"line {node.lineno}: {node.id}")
        elif isinstance(node, ast.Call) and _filters(node):
            for keyword in node.keywords:
                if keyword.arg and _by_hand(keyword.arg):
                    found.append(f"line {node.lineno}: {keyword.arg}=")
    return found


def test_views_the_api_and_forms_neither_escape_nor_filter_by_organisation_by_hand():
    modules = _request_modules()
    assert ROOT / "referrals" / "views.py" in modules and ROOT / "api" / "views.py" in modules
    found = {
        str(p.relative_to(ROOT)): bad for p in modules if (bad := offences(p.read_text("utf-8")))
    }
    assert found == {}


def test_templates_never_name_the_escape():
    templates = [p for p in ROOT.rglob("*.html") if ".venv" not in p.parts]
    assert templates
    assert [str(p) for p in templates if "unscoped" in p.read_text("utf-8")] == []


@pytest.mark.parametrize(
    "source",
    [
        "Transfer.objects.filter(from_organisation_id=request.user.organisation_id)",
        "Programme.objects.filter(organiser_id=user.organisation_id, is_active=True)",
        "get_object_or_404(Session, pk=pk, programme__organiser_id=org)",
        "Meeting.objects.filter(host=request.user.organisation)",
        "Case.objects.unscoped()",
        "Case._default_manager.all()",
        "with unscoped():\n    pass",
    ],
)
def test_the_source_check_catches_each_way_of_going_around_the_scope(source):
    assert offences(source)


def test_the_source_check_leaves_the_ordinary_alone():
    assert offences("form = ReferralForm(request.POST or None, user=request.user)") == []
    assert offences("Case.objects.visible_to(user).filter(code=code)") == []
    assert offences("metrics.Scope(kind, organisation_id=organisation.pk)") == []
    assert offences("services.transfer_case(user, case, to_organisation=chosen)") == []


def test_a_related_manager_keeps_its_parent_in_scoped_methods_and_the_escape(centre):
    other = services.open_case(centre.counsellor, identity={"name": "別 件"}, case_fields={})
    services.log_contact(centre.counsellor, case=other, summary="別")
    with request_scope():
        assert centre.case.contacts.unscoped().count() == 1
        assert centre.case.contacts.visible_to(centre.counsellor).count() == 1
        assert Contact.objects.visible_to(centre.counsellor).count() == 2
