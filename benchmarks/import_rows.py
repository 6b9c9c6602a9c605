"""Benchmark: importing 10,000 contact rows from XLSX and CSV through imports.services.

Builds the files with openpyxl and the csv module (Japanese headers, era dates, numbers
stored as text, half the rows naming a case by its legacy number), imports 1,000 cases
first so those numbers exist, then for each file measures: reading (parse), checking every
row (validate, the dry run) and the import itself (validate again inside the transaction,
then the bulk write with history and the one audit event). Prints rows per second.

Usage:  .venv/bin/python benchmarks/import_rows.py [--rows 10000] [--database-url URL]
Without --database-url it uses a fresh SQLite file in a temporary folder. A PostgreSQL URL
must name a scratch database: it is migrated and filled. Keys are generated for the run.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import os
import random
import time

from django_setup import configure

HEADER = [
    "相談日",
    "相談方法",
    "相談者",
    "新規・継続",
    "対応時間",
    "ケース番号",
    "相談内容",
    "年代",
    "性別",
    "居住地",
]
CASE_HEADER = [
    "管理番号",
    "氏名",
    "フリガナ",
    "生年月日",
    "電話番号",
    "性別",
    "居住地",
    "受付日",
    "状態",
]


def contact_rows(count: int, cases: int, rng: random.Random) -> list[list]:
    channels = ["電話", "来所", "家庭訪問", "メール", "オンライン", "同行支援"]
    consulters = ["本人", "母", "父", "両親", "姉", "関係機関"]
    rows = []
    for i in range(count):
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        year = 2024 if month < 4 else 2023
        date = rng.choice(
            [
                f"R{year - 2018}.{month}.{day}",
                f"{year}/{month}/{day}",
                f"令和{year - 2018}年{month}月{day}日",
            ]
        )
        rows.append(
            [
                date,
                rng.choice(channels),
                rng.choice(consulters),
                rng.choice(["新規", "継続"]),
                rng.choice(["30", "３０分", "45", "60.0", "15分"]),
                f"K-{rng.randrange(cases):05d}" if i % 2 else "",
                "電話相談：本人は昼夜逆転が続き、母親が来所を希望。次回は訪問を検討。" * 2,
                rng.choice(["10代", "20代", "30歳代", "40代", "50代", "60代以上"]),
                rng.choice(["男", "女"]),
                "津市",
            ]
        )
    return rows


def case_rows(count: int) -> list[list]:
    return [
        [
            f"K-{i:05d}",
            f"試験 {i}",
            f"シケン {i}",
            "H2.6.1",
            f"059-{i:07d}",
            "男性",
            "津市",
            "R5.4.1",
            "支援中",
        ]
        for i in range(count)
    ]


def as_xlsx(header: list[str], rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["令和5年度 相談記録"])  # a title row above the header, as the old files have
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_csv(header: list[str], rows: list[list], encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def measure(user, kind: str, data: bytes, name: str) -> dict[str, float]:
    from imports import services

    start = time.perf_counter()
    sheet = services.read(data, kind)
    parsed = time.perf_counter()
    mapping = services.suggest_mapping(user, sheet, kind=kind)
    sha = services.file_sha256(data)
    result = services.check(user, sheet, kind=kind, mapping=mapping, sha256=sha)
    checked = time.perf_counter()
    if not result.ok:
        raise SystemExit("\n".join(str(e) for e in result.errors[:5]))
    services.import_sheet(user, sheet, kind=kind, mapping=mapping, file_name=name, sha256=sha)
    imported = time.perf_counter()
    return {
        "rows": len(sheet.rows),
        "parse": parsed - start,
        "validate": checked - parsed,
        "import": imported - checked,
    }


def _rate(rows: int, seconds: float) -> str:
    return f"{seconds:6.2f}s {rows / seconds:7,.0f}/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=1_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    configure(args.database_url)

    from django.contrib.auth.models import Group
    from django.db import connection

    from accounts.models import Organisation, User
    from casework.models import Contact

    org = Organisation.objects.create(kind="prefecture_centre", name="ベンチマークセンター")
    Organisation.objects.get_or_create(
        kind="municipality", name="津市", defaults={"local_government_code": "242012"}
    )
    user = User.objects.create(username=f"bench{os.getpid()}", organisation=org)
    user.groups.add(Group.objects.get(name="supervisor"))

    rng = random.Random(20240401)
    contacts = contact_rows(args.rows, args.cases, rng)
    files = [
        ("cases", "cases.xlsx", as_xlsx(CASE_HEADER, case_rows(args.cases))),
        ("contacts", "contacts.xlsx", as_xlsx(HEADER, contacts)),
        ("contacts", "contacts.csv", as_csv(HEADER, contacts, "cp932")),
    ]
    print(
        f"database: {connection.vendor}; contact rows per file: {args.rows:,}; "
        f"cases imported first: {args.cases:,}"
    )
    print(
        f"{'file':<15}{'size':>9}{'rows':>8}{'parse':>16}{'validate':>17}"
        f"{'parse+validate':>20}{'import':>17}{'write only':>17}"
    )
    for kind, name, data in files:
        user = User.objects.get(pk=user.pk)  # a fresh permission cache, as a new request
        m = measure(user, kind, data, name)
        rows = m["rows"]
        write = max(m["import"] - m["validate"], 1e-9)
        rate = functools.partial(_rate, rows)
        print(
            f"{name:<15}{len(data) / 1024:>7.0f}KB{rows:>8,}{rate(m['parse']):>16}"
            f"{rate(m['validate']):>17}{rate(m['parse'] + m['validate']):>20}"
            f"{rate(m['import']):>17}{rate(write):>17}"
        )
    print(f"contacts in the database: {Contact.objects.count():,}")


if __name__ == "__main__":
    main()
