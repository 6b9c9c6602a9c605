"""Shared fixtures: the test world (tests/world.py), the rule that PostgreSQL-only tests
run in the PostgreSQL pass, and the language and second-factor policy of every test."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from tests.world import World


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    """`@pytest.mark.postgres` tests run in the PostgreSQL pass of `make test`. Elsewhere
    they skip on a developer's machine and fail in CI, which always provides PostgreSQL."""
    if request.node.get_closest_marker("postgres") is None:
        return
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    message = "needs PostgreSQL: `make test` runs it in its PostgreSQL pass"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def world(db) -> World:
    """Organisations and one user per role (tests/world.py)."""
    return World.build()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """The statistics replica alias (config/routers.py) exists in every test session, as a
    test mirror of the default database, so that tests can route reads to it; its router
    is installed only by the tests that exercise it (tests/performance)."""
    from django.db import connections

    # connections.settings is settings.DATABASES, with Django's defaults filled in.
    if "statistics" not in connections.settings:
        test = {"CHARSET": None, "COLLATION": None, "MIGRATE": True, "NAME": None}
        connections.settings["statistics"] = {
            **connections.settings["default"],
            "TEST": {**test, "MIRROR": "default"},
        }


def set_audit_triggers(enabled: bool) -> None:
    if connection.vendor == "postgresql":
        state = "ENABLE" if enabled else "DISABLE"
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE audit_event {state} TRIGGER USER")


def restore_roles() -> None:
    """A flush empties the groups the data migrations made; put them back as specified
    (tests/accounts/test_roles.py proves the specification equals the migrations)."""
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import ROLE_PERMISSIONS

    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(
            [
                Permission.objects.get(
                    content_type__app_label=n.split(".")[0], codename=n.split(".")[1]
                )
                for n in names
            ]
        )


@pytest.fixture
def transactional_db(transactional_db):
    """Transactional tests end with a flush (TRUNCATE), which the audit table refuses on
    PostgreSQL; the triggers are on during the test and off only for that flush."""
    set_audit_triggers(True)
    restore_roles()
    yield transactional_db
    set_audit_triggers(False)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request in English activates English
    for the thread, which must not leak into the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _second_factor_policy(request: pytest.FixtureRequest, settings) -> None:
    """Tests sign users in with `force_login`, which cannot pass a second factor; the
    two-factor policy is switched off for them. Tests marked `two_factor` keep the
    production policy (tests/accounts/test_two_factor.py)."""
    if request.node.get_closest_marker("two_factor") is None:
        settings.TWO_FACTOR_ENFORCED = False
