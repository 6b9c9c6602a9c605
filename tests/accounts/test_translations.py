"""English is available for every screen string: the catalogue has no gaps and no guesses."""

from __future__ import annotations

import re

from django.conf import settings

CATALOGUE = settings.BASE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po"
ENTRY = re.compile(
    r"((?:#[^\n]*\n)*)"  # comments and flags
    r"msgid ((?:\".*\"\n)+)"
    r"(?:msgid_plural (?:\".*\"\n)+)?"
    r"((?:msgstr(?:\[\d\])? (?:\".*\"\n)+)+)"
)


def entries():
    text = CATALOGUE.read_text()
    for comments, msgid, msgstrs in ENTRY.findall(text):
        source = "".join(re.findall(r'"(.*)"', msgid))
        if source and not comments.lstrip().startswith("#~"):
            yield source, comments, msgstrs


def test_every_message_has_an_english_translation_and_none_is_fuzzy():
    missing, fuzzy = [], []
    for source, comments, msgstrs in entries():
        if "fuzzy" in comments:
            fuzzy.append(source)
        for block in re.split(r"msgstr(?:\[\d\])? ", msgstrs)[1:]:
            if not "".join(re.findall(r'"(.*)"', block)):
                missing.append(source)
    assert missing == [] and fuzzy == []
    assert sum(1 for _ in entries()) > 300


def test_the_casework_dashboard_reads_in_english(client, db):
    from accounts.roles import Role
    from tests.factories import make_user

    client.force_login(make_user(Role.COUNSELLOR))
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert "Dashboard" in page and "ダッシュボード" not in page
