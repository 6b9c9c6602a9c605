"""The content security policy allows no inline style (config/settings: style-src 'self'):
a `<style>` block or a `style=` attribute in a template is silently dropped by the
browser. The case record's 取扱注意 on every page was such a block (issue 19 review)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.template import engines

ROOT = Path(settings.BASE_DIR)


def template_files() -> list[Path]:
    folders = {Path(d) for d in engines["django"].dirs}
    folders |= {p for p in ROOT.glob("*/templates") if ".venv" not in p.parts}
    return sorted(f for folder in folders for f in folder.rglob("*.html"))


def test_no_template_has_an_inline_style():
    files = template_files()
    assert len(files) > 20  # the templates were found
    offending = [
        str(f.relative_to(ROOT))
        for f in files
        if "<style" in (text := f.read_text(encoding="utf-8")) or ' style="' in text
    ]
    assert offending == []
