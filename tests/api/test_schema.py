"""The OpenAPI schema is valid and describes every API view; schemathesis, driven by the
schema, finds no server error and no answer that breaks the schema."""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.access import iter_view_names
from casework import services
from referrals import services as referral_services

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25


def raw_schema() -> dict:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


def test_the_schema_is_valid_openapi_and_covers_every_api_view():
    schema = raw_schema()
    validate_schema(schema)  # raises on an invalid document
    routes = {
        re.sub(r"<\w+:(\w+)>", r"{\1}", route)
        for name, route in iter_view_names()
        if name.startswith("api:") and name != "api:schema"
    }
    assert set(schema["paths"]) == routes
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
            assert operation["security"], (method, path)


def test_the_schema_endpoint_serves_the_same_document(api):
    response = api.as_("statistics").get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    assert json.loads(response.content)["paths"].keys() == raw_schema()["paths"].keys()


@pytest.fixture
def fuzz_world(api):
    """A case, a sent referral to the town and one the town accepted, so fixed path
    parameters reach real objects."""
    case = services.open_case(api.counsellor, identity={"name": "試験 一郎"})
    services.log_contact(api.counsellor, case=case, channel="phone")
    sent = referral_services.move(
        api.supervisor,
        referral_services.create_referral(
            api.supervisor, case, to_organisation=api.town, kind="residence"
        ),
        to_status="sent",
    )
    return {"case": case, "referral": sent}


@pytest.fixture
def application():
    """The WSGI application, in this process and this test's transaction. Like Django's
    test client, keep the end of each request from closing the database connection (it
    would end the test transaction on PostgreSQL)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _operations():
    return [
        result.ok() for result in schemathesis.openapi.from_dict(raw_schema()).get_all_operations()
    ]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("who", ["supervisor", "liaison"])
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_schema(
    api, fuzz_world, application, who, mode
):
    headers = {"Authorization": f"Bearer {api.raw[who]}"}
    fixed = {"pk": str(fuzz_world["referral"].pk), "key": "contacts"}
    ran = 0
    for operation in _operations():
        names = {p.name for p in operation.path_parameters}
        # Generated path parameters (mostly unknown objects), then the real objects.
        variants = [None, {k: v for k, v in fixed.items() if k in names}] if names else [None]
        for path_parameters in variants:

            @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def exercise(case):
                response = case.call(app=application, headers=headers)
                case.validate_response(response, checks=CHECKS, headers=headers)

            exercise()
            ran += 1
    assert ran == 13  # ten operations, three of them with path parameters
