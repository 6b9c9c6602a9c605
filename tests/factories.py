"""Small factories for test data: real rows in the real database."""

from __future__ import annotations

import functools
import itertools
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from accounts.models import Organisation, Region, User, local_government_code_check_digit
from accounts.roles import Role
from casework.models import Case, Client

_seq = itertools.count(1)

PASSWORD = "correct horse battery staple 7"


@functools.cache
def _password_hash() -> str:
    # Hashed once with the production hasher, then shared: login tests stay real and fast.
    return make_password(PASSWORD)


def make_region(name: str | None = None) -> Region:
    return Region.objects.get_or_create(name=name or f"圏域{next(_seq)}")[0]


def make_organisation(
    kind: str = Organisation.Kind.PREFECTURE_CENTRE, **fields: Any
) -> Organisation:
    n = next(_seq)
    if kind == Organisation.Kind.MUNICIPALITY and "local_government_code" not in fields:
        five = f"9{n % 10000:04d}"  # five digits however long the session
        fields["local_government_code"] = five + local_government_code_check_digit(five)
    fields.setdefault("name", f"テスト組織{n}")
    return Organisation.objects.create(kind=kind, **fields)


def make_user(
    role: Role | None = None, organisation: Organisation | None = None, **fields: Any
) -> User:
    n = next(_seq)
    user = User.objects.create(
        username=fields.pop("username", f"user{n}"),
        password=_password_hash(),
        organisation=organisation or make_organisation(),
        is_staff=role == Role.SYSTEM_ADMIN,
        **fields,
    )
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    return user


def make_client(organisation: Organisation | None = None, **fields: Any) -> Client:
    client = Client(organisation=organisation or make_organisation(), **fields)
    client.save()
    return client


def make_case(organisation: Organisation | None = None, **fields: Any) -> Case:
    case = Case(organisation=organisation or make_organisation(), **fields)
    case.save()
    return case
