"""Data keys and the base classes of records that carry encrypted data.

Records that carry encrypted data have UUID primary keys made in Python, so a value can be
bound to its row before the row is first written.
"""

from __future__ import annotations

import os
import secrets
import unicodedata
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import crypto

# Crockford's base32 without I, L, O, U: short codes that read aloud and type cleanly.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_code(prefix: str) -> str:
    """A random pseudonymous code such as ``C-7K3M9Q``; it says nothing about the person."""
    return prefix + "-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


# What a hyphen becomes when typed with Japanese input on: the long vowel mark, minus
# signs and dashes (full-width letters and digits NFKC folds).
_HYPHENS = str.maketrans(dict.fromkeys("ーｰ−‐‑–—―", "-"))


def normalise_code(value: str) -> str:
    """A code as typed (``ｃーａｋｂｙ２ｗ``) in the form it is stored (``C-AKBY2W``)."""
    return unicodedata.normalize("NFKC", value).translate(_HYPHENS).strip().upper()


class DataKeyQuerySet(models.QuerySet):
    def live(self) -> DataKeyQuerySet:
        return self.filter(destroyed_at__isnull=True)


class DataKey(models.Model):
    """A random data key, stored only wrapped by the key ring (envelope encryption)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kek_id = models.CharField(_("鍵暗号化鍵ID"), max_length=32, blank=True)
    wrapped = models.BinaryField(_("ラップ済みデータ鍵"), null=True)
    # Set only for the key of contacts that have no case (one per organisation and year).
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, related_name="+"
    )
    fiscal_year = models.PositiveSmallIntegerField(null=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    objects = DataKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("データ鍵")
        verbose_name_plural = _("データ鍵")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "fiscal_year"],
                condition=Q(organisation__isnull=False),
                name="datakey_one_per_organisation_year",
            ),
            models.CheckConstraint(
                condition=Q(destroyed_at__isnull=False) | Q(wrapped__isnull=False),
                name="datakey_live_has_material",
            ),
        ]
        indexes = [
            # The newest destruction, which every process reads once a request
            # (crypto._Destructions): a few entries, read from the index alone.
            models.Index(
                fields=["destroyed_at"],
                condition=Q(destroyed_at__isnull=False),
                name="datakey_destroyed",
            ),
        ]

    def __str__(self) -> str:
        return str(self.id)

    @classmethod
    def new(cls, **fields: object) -> DataKey:
        """An unsaved data key with fresh key material, wrapped by the active key."""
        key = cls(**fields)
        material = os.urandom(crypto.KEY_BYTES)
        key.kek_id, key.wrapped = crypto.keyring().wrap(material, key.id)
        crypto.cipher_cache.put(key.id.hex, crypto.AESGCM(material))
        return key

    @classmethod
    def create(cls, **fields: object) -> DataKey:
        key = cls.new(**fields)
        key.save(force_insert=True)
        return key

    @classmethod
    def for_organisation_year(cls, organisation_id: int, fiscal_year: int) -> DataKey:
        """The key for case-less records of one organisation and fiscal year."""
        found = cls.objects.filter(organisation_id=organisation_id, fiscal_year=fiscal_year)
        key = found.first()
        if key is not None:
            return key
        try:
            with transaction.atomic():
                return cls.create(organisation_id=organisation_id, fiscal_year=fiscal_year)
        except IntegrityError:  # another writer made it first
            return found.get()

    def destroy(self) -> None:
        """Crypto-shred: the key material is gone, so every value under it is unreadable."""
        self.wrapped = None
        self.kek_id = ""
        self.destroyed_at = timezone.now()
        self.save(update_fields=["wrapped", "kek_id", "destroyed_at"])
        crypto.cipher_cache.evict(self.id.hex)


class EncryptedRecord(models.Model):
    """A row with sensitive fields: UUID made in Python and a data key of its own or shared.

    A row saved without a data key gets a new one of its own; rows that share a key (the
    contacts of a case) are given it by their service.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = models.ForeignKey(
        DataKey, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.data_key_id is None:
            self.data_key = DataKey.create()
        super().save(*args, **kwargs)


class PseudonymousRecord(EncryptedRecord):
    """An encrypted record that lists, URLs and statistics show by a random code."""

    code_prefix = ""
    code = models.CharField(_("コード"), max_length=12, unique=True, editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.code

    def save(self, *args: Any, **kwargs: Any) -> None:
        # 32**6 codes per prefix: a clash is rare, but cheaper to avoid than to explain.
        while self._state.adding and (
            not self.code or type(self)._base_manager.filter(code=self.code).exists()
        ):
            self.code = new_code(self.code_prefix)
        super().save(*args, **kwargs)


class Versioned(models.Model):
    """Optimistic locking: an edit names the version it started from (services check it)."""

    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        abstract = True
