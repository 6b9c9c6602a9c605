"""The demo prefecture: Mie's regions and municipalities, the centre, partners, and one
demo user per role.

Idempotent: what exists is kept. Passwords are generated on this machine and returned
once, for the users created now; none is stored anywhere else.
"""

from __future__ import annotations

import datetime
import random
import secrets

from django.contrib.auth.models import Group

from accounts.data import mie
from accounts.models import Organisation, Region, User
from accounts.roles import Role

CENTRE_NAME = "三重県ひきこもり地域支援センター"

# Fictional partner agencies (the names say so) standing in for the real kinds of partner.
PARTNERS = [
    ("デモ地域若者サポートステーション", "中勢"),
    ("デモ生活相談支援センター", "北勢"),
    ("デモ居場所NPO「みちくさ」", "南勢志摩"),
    ("デモこころのクリニック", "伊賀"),
]

# One demo user per role: (username, role, display name, profession, organisation key).
# Fictional staff with ordinary names (the role is the account's, not the name's).
DEMO_USERS = [
    ("counsellor", Role.COUNSELLOR, "佐藤 花子", User.Profession.COUNSELLOR, "centre"),
    (
        "outreach",
        Role.OUTREACH_WORKER,
        "鈴木 太郎",
        User.Profession.OUTREACH_WORKER,
        "centre",
    ),
    ("mdt", Role.MDT_MEMBER, "高橋 一郎", User.Profession.PSYCHIATRIST, "centre"),
    ("supervisor", Role.SUPERVISOR, "田中 次郎", User.Profession.PSW, "centre"),
    (
        "liaison",
        Role.MUNICIPAL_LIAISON,
        "伊藤 三郎",
        User.Profession.PUBLIC_HEALTH_NURSE,
        "242012",
    ),
    (
        "statistics",
        Role.STATISTICS_VIEWER,
        "渡辺 四郎",
        User.Profession.ADMINISTRATIVE,
        "centre",
    ),
    ("auditor", Role.AUDITOR, "山本 五郎", User.Profession.ADMINISTRATIVE, "centre"),
    ("sysadmin", Role.SYSTEM_ADMIN, "中村 六郎", User.Profession.ADMINISTRATIVE, "centre"),
]


def seed_organisations(rng: random.Random) -> dict[str, Organisation]:
    """Regions, the centre, every municipality and the partners; returns the centre (as
    "centre") and the municipalities by local government code."""
    regions = {
        name: Region.objects.get_or_create(name=name, defaults={"sort_order": i})[0]
        for i, name in enumerate(mie.REGIONS)
    }
    organisations = {"centre": centre(regions)}
    for code, name, _kana, _kind, region in mie.MUNICIPALITIES:
        organisations[code] = municipality(code, name, regions[region], rng)
    for name, region in PARTNERS:
        Organisation.objects.get_or_create(
            name=name, defaults={"kind": Organisation.Kind.PARTNER, "region": regions[region]}
        )
    return organisations


def seed_users(organisations: dict[str, Organisation]) -> list[tuple[str, Role, str]]:
    """The demo users not yet present, each with a new password: (username, role,
    password) of those created now."""
    created = []
    for username, role, display, profession, org_key in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(
            username=username,
            password=password,
            display_name=display,
            profession=profession,
            organisation=organisations[org_key],
            is_staff=role == Role.SYSTEM_ADMIN,
        )
        user.groups.add(Group.objects.get(name=role.value))
        created.append((username, role, password))
    return created


def demo_users() -> dict[str, User]:
    """The demo users present, by username."""
    return {u.username: u for u in User.objects.filter(username__in=[d[0] for d in DEMO_USERS])}


def centre(regions: dict[str, Region]) -> Organisation:
    return Organisation.objects.get_or_create(
        name=CENTRE_NAME,
        defaults={"kind": Organisation.Kind.PREFECTURE_CENTRE, "region": regions["中勢"]},
    )[0]


def municipality(code: str, name: str, region: Region, rng: random.Random) -> Organisation:
    existing = Organisation.objects.filter(local_government_code=code).first()
    if existing is not None:
        return existing

    # Synthetic readiness: most have a window, fewer a survey, fewer still a platform.
    def maybe(probability: float) -> datetime.date | None:
        if rng.random() >= probability:
            return None
        return datetime.date(2021, 4, 1) + datetime.timedelta(days=rng.randrange(0, 1300))

    return Organisation.objects.create(
        kind=Organisation.Kind.MUNICIPALITY,
        name=name,
        local_government_code=code,
        region=region,
        consultation_window_established_on=maybe(0.85),
        needs_survey_done_on=maybe(0.5),
        platform_established_on=maybe(0.35),
    )
