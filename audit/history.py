"""Model history (django-simple-history), made cheaper to write.

- Every `instance.history` — including the one simple-history reads on each save to write
  the history row — builds a manager class with `Manager.from_queryset`, which inspects
  every method of the queryset class: about half a millisecond per save. The class
  depends only on the manager and queryset classes, so it is made once and reused.
- simple-history indexes every foreign key it copies into a history table. History is
  read by the recorded row's id (kept indexed) and by date, never by those keys, so the
  copies go unindexed: a contact's history row maintains 4 indexes instead of 11. The
  many-to-many history tables keep theirs: they are read by their history row.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Field, ForeignKey, Model
from simple_history import manager, models

_manager_classes: dict[tuple[type, type, str | None], type] = {}


class HistoryManager(manager.HistoryManager):
    @classmethod
    def from_queryset(cls, queryset_class: type, class_name: str | None = None) -> type:
        key = (cls, queryset_class, class_name)
        made = _manager_classes.get(key)
        if made is None:
            made = _manager_classes[key] = super().from_queryset(queryset_class, class_name)
        return made


class HistoricalRecords(models.HistoricalRecords):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("history_manager", HistoryManager)
        super().__init__(*args, **kwargs)

    def copy_fields(self, model: type[Model]) -> dict[str, Field]:
        fields = super().copy_fields(model)
        if model._meta.auto_created:  # a many-to-many table: read by its history row
            return fields
        for field in fields.values():
            if isinstance(field, ForeignKey):
                field.db_index = False
        return fields
