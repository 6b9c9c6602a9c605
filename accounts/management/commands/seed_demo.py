"""Seed a realistic demo prefecture: Mie's municipalities, the centre, partners, one user per role.

Then every installed app whose AppConfig defines `seed_demo(context)` adds its own demo
records, in INSTALLED_APPS order (casework: cases and contacts; later apps: theirs), so
accounts never imports the apps that build on it. Idempotent: a second run changes nothing
and prints no password. Passwords are generated on this machine and printed once, when
each user is created; none is stored anywhere else.
"""

from __future__ import annotations

import datetime
import random
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.data import mie
from accounts.models import Organisation, Region, User
from accounts.roles import Role
from audit.models import Action
from audit.services import record

CENTRE_NAME = "三重県ひきこもり地域支援センター"

# Fictional partner agencies (the names say so) standing in for the real kinds of partner.
PARTNERS = [
    ("デモ地域若者サポートステーション", "中勢"),
    ("デモ生活相談支援センター", "北勢"),
    ("デモ居場所NPO「みちくさ」", "南勢志摩"),
    ("デモこころのクリニック", "伊賀"),
]

# One demo user per role: (username, role, display name, profession, organisation key).
DEMO_USERS = [
    ("counsellor", Role.COUNSELLOR, "相談員 デモ花子", User.Profession.COUNSELLOR, "centre"),
    (
        "outreach",
        Role.OUTREACH_WORKER,
        "支援員 デモ太郎",
        User.Profession.OUTREACH_WORKER,
        "centre",
    ),
    ("mdt", Role.MDT_MEMBER, "医師 デモ一郎", User.Profession.PSYCHIATRIST, "centre"),
    ("supervisor", Role.SUPERVISOR, "センター長 デモ次郎", User.Profession.PSW, "centre"),
    (
        "liaison",
        Role.MUNICIPAL_LIAISON,
        "津市 デモ三郎",
        User.Profession.PUBLIC_HEALTH_NURSE,
        "242012",
    ),
    (
        "statistics",
        Role.STATISTICS_VIEWER,
        "県庁 デモ四郎",
        User.Profession.ADMINISTRATIVE,
        "centre",
    ),
    ("auditor", Role.AUDITOR, "監査 デモ五郎", User.Profession.ADMINISTRATIVE, "centre"),
    ("sysadmin", Role.SYSTEM_ADMIN, "管理者 デモ六郎", User.Profession.ADMINISTRATIVE, "centre"),
]


@dataclass
class SeedContext:
    """What app seed hooks receive: reproducible randomness and the seeded actors."""

    rng: random.Random
    today: datetime.date
    organisations: dict[str, Organisation]  # "centre" and municipalities by code
    users: dict[str, User]  # by demo username
    counts: dict[str, int] = field(default_factory=dict)  # hooks report what they made


class Command(BaseCommand):
    help = "Seed the demo prefecture (Mie) and one user per role; passwords print on creation."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=2024, help="Random seed for demo data.")

    @transaction.atomic
    def handle(self, *args: Any, seed: int, **options: Any) -> None:
        rng = random.Random(seed)
        regions = {
            name: Region.objects.get_or_create(name=name, defaults={"sort_order": i})[0]
            for i, name in enumerate(mie.REGIONS)
        }
        organisations = {"centre": self._centre(regions)}
        for code, name, _kana, _kind, region in mie.MUNICIPALITIES:
            organisations[code] = self._municipality(code, name, regions[region], rng)
        for name, region in PARTNERS:
            Organisation.objects.get_or_create(
                name=name, defaults={"kind": Organisation.Kind.PARTNER, "region": regions[region]}
            )
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
        context = SeedContext(
            rng=rng,
            today=timezone.localdate(),
            organisations=organisations,
            users={
                u.username: u for u in User.objects.filter(username__in=[d[0] for d in DEMO_USERS])
            },
        )
        for app_config in apps.get_app_configs():
            hook = getattr(app_config, "seed_demo", None)
            if hook is not None:
                hook(context)
        record(
            Action.IMPORT,
            object_type="seed_demo",
            object_ref="mie",
            detail={
                "organisations": Organisation.objects.count(),
                "users_created": len(created),
                **context.counts,
            },
        )
        self._report(created)
        for name, count in context.counts.items():
            self.stdout.write(f"  {name}: {count}")

    def _centre(self, regions: dict[str, Region]) -> Organisation:
        return Organisation.objects.get_or_create(
            name=CENTRE_NAME,
            defaults={"kind": Organisation.Kind.PREFECTURE_CENTRE, "region": regions["中勢"]},
        )[0]

    def _municipality(
        self, code: str, name: str, region: Region, rng: random.Random
    ) -> Organisation:
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

    def _report(self, created: list[tuple[str, Role, str]]) -> None:
        if not created:
            self.stdout.write("Demo data present; no new users (passwords are shown only once).")
            return
        self.stdout.write(self.style.SUCCESS("Demo users (shown only now; note them down):"))
        for username, role, password in created:
            self.stdout.write(f"  {role.label:<20} {username:<12} {password}")
