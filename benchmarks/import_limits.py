"""Benchmark: peak memory and time of the import pages for hostile files and a legitimate one
(issue 17, finding 9: a 167 KB XLSX took 28 s and 1.3 GB and gave an 18.8 MB mapping page).

Files, made here:
- bomb: about 167 KB of XLSX, like the review's: a header row as wide as Excel allows
  (16,384 columns, shared strings) over 100 rows of the same 16,384 cells, which unpacks
  to 34 MB (the sheet packs about 250 times);
- wide: the same width, 40 rows of different numbers in every cell, so that it packs only
  as an ordinary sheet does (3 MB, 5 times): only the column limit, checked while reading,
  stops it;
- legit: 20,000 contact rows as the centres' old spreadsheets have them
  (benchmarks/import_rows.py's generator, without case numbers), as XLSX.

Each pass is one file through the pages a supervisor uses, in a subprocess of its own, on a
fresh SQLite database (or --database-url): Django's test client posts the upload, reads and
posts the mapping page as pre-filled, reads the check page and posts the import. It prints
the wall time of each step and in all, the size of each page, the resident memory's peak
(ru_maxrss) before and after the pages, and with --tracemalloc a second pass per file with
Python's traced peak during the pages (tracemalloc slows allocation, so those passes' times
are not comparable). Passes alternate between the files, in reverse order every other round.
The load average is printed before and after: the machine may be shared.

Usage:  .venv/bin/python benchmarks/import_limits.py [--repeat 2] [--tracemalloc]
            [--rows 20000] [--timeout SECONDS] [--database-url URL]
A PostgreSQL URL must name a scratch database: it is migrated and written to.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
EXCEL_COLUMNS = 16_384


def xlsx_package(sheet_rows: str, strings: list[str]) -> bytes:
    """An XLSX package written as a hostile file would be: the parts Excel needs, no more."""
    items = "".join(f"<si><t>{text}</t></si>" for text in strings)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{SHEET_TYPE}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{SHEET_TYPE}.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{SHEET_TYPE}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
            f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{MAIN}"><dimension ref="A1:XFD1048576"/>'
            f"<sheetData>{sheet_rows}</sheetData></worksheet>"
        ),
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}">{items}</sst>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode())
    return out.getvalue()


def header_row() -> str:
    return (
        '<row r="1">' + "".join(f'<c t="s"><v>{n}</v></c>' for n in range(EXCEL_COLUMNS)) + "</row>"
    )


def bomb_file(rows: int = 100) -> bytes:
    """The review's kind of file: every data row the same 16,384 shared-string cells."""
    same = "<row>" + '<c t="s"><v>0</v></c>' * EXCEL_COLUMNS + "</row>"
    return xlsx_package(header_row() + same * rows, [f"列{n}" for n in range(EXCEL_COLUMNS)])


def wide_file(rows: int = 40) -> bytes:
    """As wide, but every cell a different number: it packs like an ordinary sheet."""
    rng = random.Random(17)
    body = "".join(
        "<row>"
        + "".join(f"<c><v>{rng.getrandbits(24)}</v></c>" for _c in range(EXCEL_COLUMNS))
        + "</row>"
        for _r in range(rows)
    )
    return xlsx_package(header_row() + body, [f"列{n}" for n in range(EXCEL_COLUMNS)])


def legit_file(rows: int) -> bytes:
    from import_rows import HEADER, as_xlsx, contact_rows

    contacts = contact_rows(rows, 1, random.Random(20240401))
    for row in contacts:
        row[HEADER.index("ケース番号")] = ""  # anonymous contacts: no cases to import first
    return as_xlsx(HEADER, contacts)


def describe(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    return f"{len(data) / 1024:,.0f} KB, unpacks to {unpacked / 2**20:,.1f} MB"


# --- one pass, in its own process ----------------------------------------------------------------

_SELECT = re.compile(r'<select name="(column_\d+)"[^>]*>(.*?)</select>', re.S)
_SELECTED = re.compile(r'<option value="([^"]*)"[^>]*\bselected\b')
_ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)


def mapping_choices(page: str) -> dict[str, str]:
    """The mapping form as the page pre-fills it."""
    choices = {}
    for name, options in _SELECT.findall(page):
        chosen = _SELECTED.search(options)
        choices[name] = chosen.group(1) if chosen else ""
    return choices


def signed_in_client(database_url: str | None):
    """Django on a fresh database, a supervisor of a centre signed in through the test
    client, and a first request made (it loads code and templates: not measured)."""
    os.environ["TWO_FACTOR_ENFORCED"] = "false"  # force_login cannot pass a second factor
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("STATIC_MANIFEST", "false")
    from django_setup import configure

    configure(database_url)
    from django.contrib.auth.models import Group
    from django.test import Client

    from accounts.models import Organisation, User

    org = Organisation.objects.create(kind="prefecture_centre", name="ベンチマークセンター")
    Organisation.objects.get_or_create(
        kind="municipality", name="津市", defaults={"local_government_code": "242012"}
    )
    user = User.objects.create(username=f"bench{os.getpid()}", organisation=org)
    user.groups.add(Group.objects.get(name="supervisor"))
    client = Client()
    client.force_login(user)
    client.get("/imports/")
    return client


def one_pass(path: Path, database_url: str | None, traced: bool) -> dict:
    client = signed_in_client(database_url)
    import tracemalloc

    from django.core.files.uploadedfile import SimpleUploadedFile

    from casework.models import Contact

    data = path.read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result: dict = {"steps": [], "pages": []}
    if traced:
        tracemalloc.start()
    started = time.perf_counter()

    def step(name: str, send) -> object:
        began = time.perf_counter()
        response = send()
        result["steps"].append((name, time.perf_counter() - began))
        result["pages"].append((name, response.status_code, len(response.content)))
        return response

    response = step(
        "upload",
        lambda: client.post(
            "/imports/", {"kind": "contacts", "file": SimpleUploadedFile(path.name, data)}
        ),
    )
    if response.status_code == 302:
        mapping_url = response.url
        page = step("mapping", lambda: client.get(mapping_url))
        response = step(
            "map", lambda: client.post(mapping_url, mapping_choices(page.content.decode()))
        )
        if response.status_code == 302:
            review_url = response.url
            step("check", lambda: client.get(review_url))
            step("import", lambda: client.post(review_url, {}))
        result["outcome"] = f"{Contact.objects.count():,} contacts imported"
    else:
        errors = _ERROR.findall(response.content.decode())
        result["outcome"] = "refused: " + (errors[0] if errors else f"HTTP {response.status_code}")
    result["seconds"] = time.perf_counter() - started
    if traced:
        result["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    result["rss_before"] = before * 1024  # Linux reports kilobytes
    result["rss_peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return result


# --- the runs ------------------------------------------------------------------------------------


def megabytes(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def report(name: str, traced: bool, result: dict) -> None:
    steps = " ".join(f"{step} {seconds:.2f}s" for step, seconds in result["steps"])
    pages = " ".join(
        f"{step} {status} {size / 1024:,.0f}KB" for step, status, size in result["pages"]
    )
    memory = (
        f"traced peak {megabytes(result['traced_peak'])}"
        if traced
        else f"rss {megabytes(result['rss_before'])} -> peak {megabytes(result['rss_peak'])}"
    )
    print(f"{name:<6} {'traced' if traced else 'timed':<6} {result['seconds']:7.2f}s  {memory}")
    print(f"       steps: {steps}")
    print(f"       pages: {pages}")
    print(f"       {result['outcome']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--database-url")
    parser.add_argument("--timeout", type=float, help="give up a pass after this many seconds")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # a pass: the file
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_pass(args.one, args.database_url, args.traced)))
        return

    folder = Path(tempfile.mkdtemp(prefix="import-limits-"))
    files = {"bomb": bomb_file(), "wide": wide_file(), "legit": legit_file(args.rows)}
    for name, data in files.items():
        (folder / f"{name}.xlsx").write_bytes(data)
        print(f"{name:<6} {describe(data)}")
    modes = [False, True] if args.tracemalloc else [False]
    print(f"load average (1, 5, 15 min): {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    for round_ in range(args.repeat):
        order = list(files) if round_ % 2 == 0 else list(reversed(files))
        for name in order:
            for traced in modes:
                command = [sys.executable, __file__, "--one", str(folder / f"{name}.xlsx")]
                command += ["--traced"] if traced else []
                command += ["--database-url", args.database_url] if args.database_url else []
                began = time.perf_counter()
                try:
                    done = subprocess.run(  # noqa: S603 - this script, with our arguments
                        command, capture_output=True, text=True, check=False, timeout=args.timeout
                    )
                except subprocess.TimeoutExpired:
                    print(f"{name:<6} gave up after {time.perf_counter() - began:.0f}s (--timeout)")
                    continue
                if done.returncode != 0:
                    print(f"{name:<6} failed ({done.returncode}): {done.stderr.strip()[-300:]}")
                    continue
                report(name, traced, json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"load average (1, 5, 15 min): {' '.join(f'{n:.1f}' for n in os.getloadavg())}")


if __name__ == "__main__":
    main()
