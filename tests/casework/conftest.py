"""Fixtures for casework: an organisation with its staff, and another organisation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from accounts.roles import Role
from tests.factories import make_organisation, make_user


@pytest.fixture
def centre(db):
    org = make_organisation(name="テストセンター")
    return SimpleNamespace(
        org=org,
        counsellor=make_user(Role.COUNSELLOR, organisation=org, username="c1"),
        colleague=make_user(Role.COUNSELLOR, organisation=org, username="c2"),
        supervisor=make_user(Role.SUPERVISOR, organisation=org, username="sv"),
        mdt=make_user(Role.MDT_MEMBER, organisation=org, username="mdt"),
        statistics=make_user(Role.STATISTICS_VIEWER, organisation=org, username="stat"),
        auditor=make_user(Role.AUDITOR, organisation=org, username="aud"),
        admin=make_user(Role.SYSTEM_ADMIN, organisation=org, username="adm"),
    )


@pytest.fixture
def other(db):
    org = make_organisation(name="別の組織")
    return SimpleNamespace(org=org, counsellor=make_user(Role.COUNSELLOR, organisation=org))
