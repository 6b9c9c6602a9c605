"""Finding a person's case by what a caller says: the name in kana (whole or the family
name), a phone number, a birth date, alone or together.

Only keyed blind indexes are compared (`casework.fields.BlindIndexField`: HMAC-SHA256
under BLIND_INDEX_KEY of the normalised value); nothing is decrypted to search and the
terms are never stored or logged: the audit event names which kinds of term were used
and how many cases came back. Matching is exact after normalisation (`crypto.
normalise_kana`: width, spaces, katakana/hiragana, small kana, long vowel marks), so a
partial name finds nothing. Results are the cases the user may see
(`selectors.visible_cases`), listed by code. docs/security.md ("Search by name") says what
a blind index reveals.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from accounts.models import User
from audit.models import Action
from audit.services import record

from . import crypto
from .fields import BlindIndexField, Erased
from .models import Case, Client
from .selectors import listed, visible_cases

# A search answers at most this many cases: a name that common is narrowed with a
# birth date or a phone number, not paged through.
LIMIT = 50


@dataclass(frozen=True)
class Terms:
    kana: str = ""
    phone: str = ""
    birth_date: datetime.date | None = None

    @property
    def kinds(self) -> list[str]:
        """Which kinds of term were given (what the audit event records)."""
        given = {
            "kana": bool(self.kana),
            "phone": bool(self.phone),
            "birth_date": bool(self.birth_date),
        }
        return [kind for kind, present in given.items() if present]


def _index_field(name: str) -> BlindIndexField:
    field = Client._meta.get_field(name)
    if not isinstance(field, BlindIndexField):
        raise TypeError(f"Client.{name} is not a blind index")
    return field


def _index(field: str, value: str) -> str | None:
    """The blind index `field` of Client would hold for a client with this value."""
    parts = [normalise(value) for normalise in _index_field(field).normalisers]
    if not all(parts):
        return None
    return crypto.blind_index(f"{Client._meta.label_lower}.{field}", *parts)


def matching_clients(terms: Terms) -> QuerySet[Client] | None:
    """Clients whose indexes match every term given (None when no term is usable),
    across organisations: the caller narrows to visible cases."""
    condition = Q()
    if terms.kana:
        whole = _index("kana_index", terms.kana)
        if whole is None:
            return None
        # The whole name, or the family name of a name written with a space.
        condition &= Q(kana_index=whole) | Q(
            family_kana_index=crypto.blind_index(
                f"{Client._meta.label_lower}.family_kana_index", crypto.normalise_kana(terms.kana)
            )
        )
    if terms.phone:
        phone = _index("phone_index", terms.phone)
        if phone is None:
            return None
        condition &= Q(phone_index=phone)
    if terms.birth_date:
        condition &= Q(birth_index=_index("birth_index", terms.birth_date.isoformat()))
    if not condition:
        return None
    return Client.objects.unscoped().filter(condition)


def search_cases(user: User, terms: Terms) -> list[Case]:
    """The visible cases of the clients matching `terms`, most recently contacted first;
    audited with the kinds of term and the number found, never the terms. Searching by
    identity is for those who may see cases and reveal identity (else PermissionDenied),
    whoever calls."""
    if not user.has_perms(["casework.view_case", "casework.reveal_identity"]):
        raise PermissionDenied
    clients = matching_clients(terms)
    cases: list[Case] = []
    if clients is not None:
        cases = list(listed(visible_cases(user).filter(client__in=clients))[:LIMIT])
    record(
        Action.VIEW,
        object_type="casework.Client",
        object_ref="search",
        detail={"terms": terms.kinds, "found": len(cases)},
        actor=user,
    )
    return cases


def reindex_clients(*, fields: Iterable[str] | None = None, batch: int = 500) -> int:
    """Compute the blind indexes of every client again (after a normaliser changes or a
    new index is added); erased clients stay cleared. Reads only the identity fields the
    indexes need. Returns how many clients were written."""
    names = list(fields or Client.blind_index_fields())
    index_fields = [_index_field(name) for name in names]
    sources = sorted({source for field in index_fields for source in field.sources})
    written = 0
    queryset = Client.objects.unscoped().only("pk", "data_key", *sources).order_by("pk")
    chunk: list[Client] = []
    for client in queryset.iterator(chunk_size=batch):
        if any(isinstance(getattr(client, s), Erased) for s in sources):
            continue
        for field in index_fields:
            setattr(client, field.attname, field.compute(client))
        chunk.append(client)
        if len(chunk) >= batch:
            Client.objects.unscoped().bulk_update(chunk, names)
            written += len(chunk)
            chunk = []
    if chunk:
        Client.objects.unscoped().bulk_update(chunk, names)
        written += len(chunk)
    return written
