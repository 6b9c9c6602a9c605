"""The shared test world: organisations and one user per role (as healthchecks' BaseTestCase).

Every test that needs people asks for the `world` fixture (tests/conftest.py) instead of
building its own. The centre holds one user of each role but the municipal liaison, who
belongs to a municipality; the other centre's staff reach none of the centre's cases. A
test area that needs more (a second administrator, a meeting, a case) builds it on top of
the world in its own fixture, with `world.user(...)` for extra people.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Self, TypeVar

from accounts.models import Organisation, Region, User
from accounts.roles import Role
from tests.factories import make_organisation, make_region, make_user

W = TypeVar("W", bound="World")


@dataclasses.dataclass
class World:
    north: Region  # 北部
    south: Region  # 南部
    centre: Organisation  # the prefectural support centre, テストセンター
    other: Organisation  # another centre, 別の組織: nothing of the centre's is theirs
    town: Organisation  # a municipality in the north, A町
    village: Organisation  # a municipality in the south, B村
    npo: Organisation  # a partner agency, NPO法人
    # One user of each role at the centre (and a second counsellor).
    counsellor: User
    colleague: User
    outreach: User
    mdt: User
    supervisor: User
    statistics: User
    auditor: User
    admin: User
    # The town's people.
    liaison: User
    town_supervisor: User
    # The other centre's people.
    other_counsellor: User
    other_supervisor: User

    @classmethod
    def build(cls) -> Self:
        north, south = make_region("北部"), make_region("南部")
        centre = make_organisation(name="テストセンター")
        other = make_organisation(name="別の組織")
        municipality = Organisation.Kind.MUNICIPALITY
        town = make_organisation(municipality, name="A町", region=north)
        village = make_organisation(municipality, name="B村", region=south)
        npo = make_organisation(Organisation.Kind.PARTNER, name="NPO法人")

        def staff(role: Role, organisation: Organisation, username: str) -> User:
            return make_user(role, organisation=organisation, username=username)

        return cls(
            north=north,
            south=south,
            centre=centre,
            other=other,
            town=town,
            village=village,
            npo=npo,
            counsellor=staff(Role.COUNSELLOR, centre, "counsellor"),
            colleague=staff(Role.COUNSELLOR, centre, "colleague"),
            outreach=staff(Role.OUTREACH_WORKER, centre, "outreach"),
            mdt=staff(Role.MDT_MEMBER, centre, "mdt"),
            supervisor=staff(Role.SUPERVISOR, centre, "supervisor"),
            statistics=staff(Role.STATISTICS_VIEWER, centre, "statistics"),
            auditor=staff(Role.AUDITOR, centre, "auditor"),
            admin=staff(Role.SYSTEM_ADMIN, centre, "admin"),
            liaison=staff(Role.MUNICIPAL_LIAISON, town, "liaison"),
            town_supervisor=staff(Role.SUPERVISOR, town, "town_supervisor"),
            other_counsellor=staff(Role.COUNSELLOR, other, "other_counsellor"),
            other_supervisor=staff(Role.SUPERVISOR, other, "other_supervisor"),
        )

    def user(
        self, role: Role | None = None, organisation: Organisation | None = None, **fields: Any
    ) -> User:
        """One more person (of the centre unless told), for the tests that need two of a
        role or someone without one."""
        return make_user(role, organisation=organisation or self.centre, **fields)

    def named(self, user: User, display_name: str, **fields: Any) -> User:
        """Give one of the world's people the name (and fields) a test shows."""
        for name, value in {"display_name": display_name, **fields}.items():
            setattr(user, name, value)
        user.save(update_fields=["display_name", *fields])
        return user

    def by_role(self) -> dict[Role, User]:
        """The centre's user of each role, and the town's liaison."""
        return {
            Role.COUNSELLOR: self.counsellor,
            Role.OUTREACH_WORKER: self.outreach,
            Role.MDT_MEMBER: self.mdt,
            Role.SUPERVISOR: self.supervisor,
            Role.MUNICIPAL_LIAISON: self.liaison,
            Role.STATISTICS_VIEWER: self.statistics,
            Role.AUDITOR: self.auditor,
            Role.SYSTEM_ADMIN: self.admin,
        }

    def extended(self, cls: type[W]) -> W:
        """This world as an instance of a subclass that adds an area's helpers."""
        return cls(**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)})

    def publish(self, year: int, *metric_keys: str) -> None:
        """Store the publications of `year` (every count about people when no metric
        is named), as the month-end `publish_statistics` run does: what viewers outside
        an organisation read."""
        from indicators.disclosure.publication import publish, published_metrics

        for key in metric_keys or published_metrics():
            publish(key, year)
