"""Forms of the import steps: upload, column mapping, confirmation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import services
from .columns import TARGETS
from .models import ImportKind
from .sheets import Column, Sheet, UnreadableFile, too_large

EXTENSIONS = (".xlsx", ".csv")


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("取り込む記録"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("ファイル"),
        help_text=_("Excel（.xlsx）または CSV（UTF-8 または Shift_JIS）。先頭のシートを読みます。"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(EXTENSIONS)}),
    )

    def __init__(self, *args: Any, request_size: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = settings.IMPORT_MAX_BYTES
        if request_size > self.limit:
            # Too large to be held in memory: the upload was dropped before this form.
            self.fields["file"].error_messages["required"] = too_large(self.limit)
        self.sheet: Sheet | None = None
        self.content: bytes = b""

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in EXTENSIONS:
            raise forms.ValidationError(
                _(
                    "取り込めるのは Excel（.xlsx）と CSV のファイルだけです。"
                    "ほかの形式は Excel で .xlsx か CSV に保存し直してください。"
                )
            )
        if upload.size > self.limit:
            raise forms.ValidationError(too_large(self.limit))
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        upload, kind = cleaned.get("file"), cleaned.get("kind")
        if upload is not None and kind:
            self.content = upload.read()
            try:  # the one reading of the file: the later steps use self.sheet, kept
                self.sheet = services.read(self.content, kind)
            except UnreadableFile as exc:
                self.add_error("file", exc.message)
        return cleaned


class MappingForm(forms.Form):
    """One select per source column: which field it fills, or none; its help shows the
    column's first values (`services.column_samples`), or says they are not shown."""

    def __init__(
        self,
        *args: Any,
        kind: str,
        columns: list[Column],
        initial_mapping: dict[str, str],
        samples: list[str | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.columns = columns
        choices = [("", _("（取り込まない）"))] + [
            (target.key, f"{target.label}{' *' if target.required else ''}")
            for target in TARGETS[kind]
        ]
        for index, column in enumerate(columns):
            sample = samples[index] if samples else ""
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=_("%(letter)s列「%(header)s」")
                % {"letter": column.letter, "header": column.header},
                choices=choices,
                required=False,
                initial=initial_mapping.get(column.header, ""),
                help_text=(
                    _("例：%(values)s") % {"values": sample}
                    if sample
                    else _("（個人を特定する項目・記録の本文のため、値は表示しません）")
                    if sample is None
                    else ""
                ),
            )

    def mapping(self) -> dict[str, str]:
        return {
            column.header: self.cleaned_data.get(f"column_{index}") or ""
            for index, column in enumerate(self.columns)
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            headers = [column.header for column in self.columns]
            for problem in services.mapping_problems(
                self.mapping(), kind=self.kind, headers=headers
            ):
                self.add_error(None, problem)
        return cleaned


class ConfirmForm(forms.Form):
    force = forms.BooleanField(
        label=_("重複を承知で取り込む"),
        required=False,
        help_text=_(
            "同じファイルを以前に取り込んでいる場合だけ使います。取り込んだことは記録されます。"
        ),
    )
