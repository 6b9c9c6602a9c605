"""Import contacts or cases from an XLSX or CSV file, through the same service as the page.

    manage.py import_records --kind contacts --user sv1 相談記録.xlsx
    manage.py import_records --kind cases --user sv1 cases.csv --mapping '管理No=case_ref' --dry-run

Columns are mapped from the organisation's saved mapping and the known header words;
`--mapping 'header=field'` overrides one column (`header=` leaves it out). Errors are
printed by row and column, nothing is written, and the command exits non-zero. The file is
read once, through the same reader and within the same limits (`IMPORT_*` settings) as the
upload page.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from accounts.models import User
from imports import services
from imports.models import ImportBatch, ImportKind
from imports.sheets import Limits, Sheet, UnreadableFile


class Command(BaseCommand):
    help = "Import contacts or cases from an XLSX or CSV file (all rows or none)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--kind", required=True, choices=ImportKind.values)
        parser.add_argument("--user", required=True, help="the importing user's username")
        parser.add_argument(
            "--mapping",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="map a source column to a field (empty FIELD: leave the column out)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check only; write nothing")
        parser.add_argument("--force", action="store_true", help="import a file imported before")

    def handle(self, *args: Any, file: Path, kind: str, user: str, **options: Any) -> None:
        actor = User.objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(_("ユーザー「%(user)s」が見つかりません。") % {"user": user})
        limits = Limits.from_settings()
        try:
            with file.open("rb") as handle:
                data = handle.read(limits.bytes + 1)  # one byte more tells "too large"
            sheet = services.read(data, kind, limits)
        except OSError as exc:
            reason = {"reason": exc.strerror}
            raise CommandError(_("ファイルを読めません：%(reason)s") % reason) from None
        except UnreadableFile as exc:
            raise CommandError(exc.message) from None
        mapping = self._mapping(actor, kind, sheet, options["mapping"])
        try:
            self._run(actor, kind, sheet, mapping, file.name, data, options)
        except PermissionDenied:
            raise CommandError(
                _("「%(user)s」にはこの取り込みの権限がありません。") % {"user": user}
            ) from None
        except services.MappingInvalid as exc:
            raise CommandError("\n".join(exc.problems)) from None
        except services.AlreadyImported as exc:
            raise CommandError(f"{exc} (--force)") from None
        except services.ImportRefused as exc:
            self._print_errors(exc.check)
            raise CommandError(str(exc)) from None

    def _mapping(self, actor: User, kind: str, sheet: Sheet, overrides: list[str]) -> dict:
        mapping = services.suggest_mapping(actor, sheet, kind=kind)
        for item in overrides:
            header, sep, target = item.partition("=")
            if not sep:
                raise CommandError(_("--mapping は「見出し=項目」の形で指定してください。"))
            mapping[header.strip()] = target.strip()
        for header, target in mapping.items():
            if target:
                self.stdout.write(f"  {header} → {target}")
        return mapping

    def _run(
        self,
        actor: User,
        kind: str,
        sheet: Sheet,
        mapping: dict[str, str],
        file_name: str,
        data: bytes,
        options: dict[str, Any],
    ) -> None:
        sha256 = services.file_sha256(data)
        dry_run = options["dry_run"]
        with ExitStack() as stack:
            bars = {
                stage: stack.enter_context(
                    tqdm(total=len(sheet.rows), desc=label, unit="行", file=self.stderr)
                )
                for stage, label in (("check", _("検査")), ("write", _("書き込み")))
                if stage == "check" or not dry_run
            }

            def progress(stage: str, count: int) -> None:
                bars[stage].update(count)

            if dry_run:
                result = services.check(
                    actor, sheet, kind=kind, mapping=mapping, sha256=sha256, progress=progress
                )
            else:
                batch = services.import_sheet(
                    actor,
                    sheet,
                    kind=kind,
                    mapping=mapping,
                    file_name=file_name,
                    sha256=sha256,
                    force=options["force"],
                    progress=progress,
                )
        if dry_run:
            self._report_check(result)
        else:
            self._report_batch(batch)

    def _report_check(self, result: services.Check) -> None:
        if not result.ok:
            self._print_errors(result)
            raise CommandError(_("%(count)s件の誤りがあります。") % {"count": len(result.errors)})
        self.stdout.write(
            _(
                "%(rows)s行：新しいケース %(cases)s件、新しい当事者 %(clients)s人、"
                "新しい相談記録 %(contacts)s件（うち既存のケースへ %(linked)s件）"
            )
            % {
                "rows": result.rows,
                "cases": result.cases_created,
                "clients": result.clients_created,
                "contacts": result.contacts_created,
                "linked": result.contacts_linked,
            }
        )
        if result.previous is not None:
            self.stdout.write(services.previously_imported_message(result.previous))
        self.stdout.write(self.style.SUCCESS(_("検査のみです。何も書き込んでいません。")))

    def _report_batch(self, batch: ImportBatch) -> None:
        message = _(
            "取り込みました（%(id)s）：%(rows)s行、ケース %(cases)s件、当事者 %(clients)s人、"
            "相談記録 %(contacts)s件"
        ) % {
            "id": batch.id,
            "rows": batch.rows,
            "cases": batch.cases_created,
            "clients": batch.clients_created,
            "contacts": batch.contacts_created,
        }
        if batch.forced:
            message += _("（重複を承知で取り込み）")
        self.stdout.write(self.style.SUCCESS(message))

    def _print_errors(self, result: services.Check) -> None:
        for error in result.errors:
            self.stderr.write(str(error))
