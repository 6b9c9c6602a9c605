"""manage.py import_records: the same service as the page, errors by row and column."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from casework.models import Case, Contact
from imports.models import ImportBatch
from tests.imports.conftest import CONTACT_HEADER, contact_row, csv_file, xlsx

pytestmark = pytest.mark.django_db


def command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_records", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_imports_a_file(centre, tmp_path):
    path = tmp_path / "相談記録.xlsx"
    path.write_bytes(xlsx([CONTACT_HEADER, contact_row(), contact_row("R6.4.2")]))

    out, _err = command("--kind", "contacts", "--user", "sv", str(path))

    assert "取り込みました" in out and "相談記録 2件" in out
    assert Contact.objects.count() == 2
    batch = ImportBatch.objects.get()
    assert (batch.imported_by, batch.file_name) == (centre.supervisor, "相談記録.xlsx")


def test_a_dry_run_writes_nothing(centre, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(csv_file([CONTACT_HEADER, contact_row()], "cp932"))

    out, _err = command("--kind", "contacts", "--user", "sv", "--dry-run", str(path))

    assert "新しい相談記録 1件" in out and "何も書き込んでいません" in out
    assert Contact.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_errors_are_printed_by_row_and_column_and_the_command_fails(centre, tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(xlsx([CONTACT_HEADER, contact_row(), contact_row(相談方法="狼煙")]))
    err = io.StringIO()

    with pytest.raises(CommandError, match="1件の誤り"):
        call_command("import_records", "--kind", "contacts", "--user", "sv", str(path), stderr=err)

    assert "3行目 B列「相談方法」：選択肢にない値です" in err.getvalue()
    assert Contact.objects.count() == 0


def test_mapping_overrides_and_refusals_fail_cleanly(centre, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(csv_file([["日", "メモ", "旧番号"], ["R6.4.1", "支援中", "X-1"]]))
    base = ["--kind", "cases", "--user", "sv", str(path)]

    with pytest.raises(CommandError, match="必須の項目「受付日」"):
        command(*base)
    _out, _ = command(*base, "--mapping", "日=opened_on", "--mapping", "旧番号=case_ref")
    assert Case.objects.count() == 1
    with pytest.raises(CommandError, match="取り込み済み"):
        command(*base, "--mapping", "日=opened_on")
    with pytest.raises(CommandError, match="見出し「ない」の列がありません"):
        command(*base, "--mapping", "ない=opened_on", "--dry-run")
    with pytest.raises(CommandError, match="権限がありません"):
        command("--kind", "cases", "--user", "c1", str(path), "--mapping", "日=opened_on")
    with pytest.raises(CommandError, match="見つかりません"):
        command("--kind", "cases", "--user", "nobody", str(path))
    with pytest.raises(CommandError, match="ファイルを読めません"):
        command("--kind", "cases", "--user", "sv", str(tmp_path / "missing.xlsx"))
    (tmp_path / "b.csv").write_bytes(b"\xff\xfe\x81\x00")
    with pytest.raises(CommandError, match="ではありません"):
        command("--kind", "cases", "--user", "sv", str(tmp_path / "b.csv"))


def test_the_command_reads_through_the_same_limits_as_the_page(centre, tmp_path, settings):
    path = tmp_path / "wide.csv"
    path.write_bytes(csv_file([CONTACT_HEADER, contact_row()]))
    base = ["--kind", "contacts", "--user", "sv", "--dry-run", str(path)]

    settings.IMPORT_MAX_COLUMNS = len(CONTACT_HEADER) - 1
    with pytest.raises(CommandError, match=f"列が多すぎます（上限 {len(CONTACT_HEADER) - 1} 列）"):
        command(*base)
    settings.IMPORT_MAX_COLUMNS = len(CONTACT_HEADER)
    settings.IMPORT_MAX_ROWS = 0
    with pytest.raises(CommandError, match="行数が多すぎます（上限 0 行）"):
        command(*base)
    settings.IMPORT_MAX_ROWS = 10
    settings.IMPORT_MAX_BYTES = path.stat().st_size - 1
    with pytest.raises(CommandError, match="ファイルが大きすぎます"):
        command(*base)
    assert Contact.objects.count() == 0 and ImportBatch.objects.count() == 0
