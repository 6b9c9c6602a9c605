"""Model fields that make field encryption and the blind index transparent to the ORM.

An encrypted field holds, on the instance, either a `Ciphertext` (as loaded from the
database; decrypted lazily on first read, so lists that never touch the field never
decrypt) or a plaintext set by code (encrypted in `pre_save`, which every save path,
`bulk_create` included, calls with the instance at hand). Writing a plaintext any other
way — `QuerySet.update(field=...)`, `filter(field=...)` — raises instead of silently
storing or matching nothing.

The row's `data_key` foreign key names the data key that encrypts new values; each stored
value names the key that encrypted it, so history rows and moved records stay readable.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.expressions import Combinable
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext

from . import crypto


class Ciphertext(str):
    """A stored value as it came from the database. Never a plaintext."""

    __slots__ = ()


class Erased(str):
    """What a value reads as once its data key was destroyed (retention ended, or an
    erasure): a marker for screens, never written back. Any other write under a destroyed
    key is refused with a ValidationError naming the record, not the content."""

    __slots__ = ()


def erased() -> Erased:
    return Erased(gettext("（消去済み）"))


def _original_model(instance: models.Model) -> type[models.Model]:
    # django-simple-history's historical models point at the model they record, so a
    # history row binds its values to the original model, field and row.
    return getattr(type(instance), "instance_type", type(instance))


def _row_binding(instance: models.Model, field_name: str) -> bytes:
    original = _original_model(instance)
    row_id = getattr(instance, original._meta.pk.attname)
    if row_id is None:
        raise crypto.EncryptionError(
            f"{original._meta.label}.{field_name}: the row needs its primary key before an "
            "encrypted value can be bound to it (use a UUID made in Python)."
        )
    return crypto.associated_data(original._meta.label_lower, field_name, row_id)


class _EncryptedAttribute(DeferredAttribute):
    def __get__(self, instance: models.Model | None, cls: type | None = None) -> Any:
        if instance is None:
            return self
        if self.field.attname not in instance.__dict__:
            super().__get__(instance, cls)  # loads a deferred column
        value = instance.__dict__[self.field.attname]
        if not isinstance(value, Ciphertext):
            return value
        cache = instance.__dict__.setdefault("_decrypted_values", {})
        cached = cache.get(self.field.attname)
        if cached is not None and cached[0] is value:
            return cached[1]
        try:
            plain = self.field.from_text(
                crypto.decrypt_value(value, _row_binding(instance, self.field.name))
            )
        except crypto.DataKeyDestroyed:
            plain = erased()
        cache[self.field.attname] = (value, plain)
        return plain

    def __set__(self, instance: models.Model, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedMixin:
    """Shared behaviour of the encrypted field types; subclasses define to/from text."""

    descriptor_class = _EncryptedAttribute

    def __init__(self, *args: Any, key_field: str = "data_key", **kwargs: Any) -> None:
        self.key_field = key_field
        kwargs.setdefault("blank", True)
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple:
        name, path, args, kwargs = super().deconstruct()
        if self.key_field != "data_key":
            kwargs["key_field"] = self.key_field
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "TextField"

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else Ciphertext(value)

    def to_python(self, value: Any) -> Any:
        return value

    def pre_save(self, model_instance: models.Model, add: bool) -> Ciphertext | None:
        value = model_instance.__dict__.get(self.attname)
        if value is None or isinstance(value, Ciphertext):
            return value
        if isinstance(value, Erased):
            raise ValidationError(
                gettext("この記録は保存期間を過ぎて消去されているため、変更できません。")
            )
        key_id = getattr(model_instance, f"{self.key_field}_id")
        if key_id is None:
            raise crypto.EncryptionError(
                f"{_original_model(model_instance)._meta.label}.{self.name}: no data key is "
                "assigned to this row, so its sensitive fields cannot be written."
            )
        try:
            encrypted = Ciphertext(
                crypto.encrypt_value(
                    self.to_text(value), key_id, _row_binding(model_instance, self.name)
                )
            )
        except crypto.DataKeyDestroyed:
            raise ValidationError(
                gettext("この記録は保存期間を過ぎて消去されているため、変更できません。")
            ) from None
        model_instance.__dict__[self.attname] = encrypted
        model_instance.__dict__.setdefault("_decrypted_values", {})[self.attname] = (
            encrypted,
            value,
        )
        return encrypted

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, Ciphertext):
            return value
        raise TypeError(
            f"{self.model._meta.label}.{self.name} is encrypted: it can only be written by "
            "saving a model instance, and cannot be filtered on (use its blind index)."
        )

    def value_to_string(self, obj: models.Model) -> str:
        # Serialisation (dumpdata, fixtures) carries the ciphertext, never the plaintext.
        stored = obj.__dict__.get(self.attname)
        return "" if stored is None else str(stored)

    def formfield(self, **kwargs: Any) -> Any:
        return None  # forms declare sensitive inputs explicitly, never by model reflection


# The values these fields take and give, for django-stubs (which reads a field's nullability
# only from a `null=` argument, while EncryptedMixin makes them nullable): a text, or a
# date, or None is written. What is read stays typed as the value (the plugin's default
# for a text field); it is None when nothing was written, and `Erased` text once the key
# is destroyed, which readers of such rows check.
if TYPE_CHECKING:
    _TextBase = models.TextField[str | Combinable | None, str]
    _DateBase = models.TextField[datetime.date | Combinable | None, datetime.date]
else:
    _TextBase = _DateBase = models.TextField


class EncryptedTextField(EncryptedMixin, _TextBase):
    pass


class EncryptedDateField(EncryptedMixin, _DateBase):
    def to_text(self, value: datetime.date) -> str:
        return value.isoformat()

    def from_text(self, text: str) -> datetime.date:
        return datetime.date.fromisoformat(text)


class BlindIndexField(models.CharField):
    """HMAC of normalised source fields, computed on every save path (bulk ones too).

    Null when any source is empty, so an absent phone number matches nothing.
    """

    def __init__(
        self,
        *args: Any,
        sources: tuple[str, ...] = (),
        normalisers: tuple[Callable[[Any], str], ...] = (),
        **kwargs: Any,
    ) -> None:
        self.sources = tuple(sources)
        self.normalisers = tuple(normalisers) or (crypto.normalise_text,) * len(self.sources)
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple:
        name, path, args, kwargs = super().deconstruct()
        kwargs["sources"] = self.sources
        # Normalisers are code, not schema; they need not be in migrations.
        for key, default in (("max_length", 64), ("null", True), ("blank", True)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        kwargs.pop("editable", None)
        kwargs.pop("db_index", None)
        return name, path, args, kwargs

    def compute(self, instance: models.Model) -> str | None:
        parts = []
        for source, normalise in zip(self.sources, self.normalisers, strict=True):
            value = getattr(instance, source)
            if isinstance(value, Erased):
                return None  # an erased person can no longer be matched
            text = normalise(value.isoformat() if isinstance(value, datetime.date) else value or "")
            if not text:
                return None
            parts.append(text)
        label = _original_model(instance)._meta.label_lower
        return crypto.blind_index(f"{label}.{self.name}", *parts)

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value
