"""Benchmark: rotating the key-encryption key over 10,000 cases.

Makes N cases (default 10,000), each with its own data key, a client with an encrypted
identity, and three contacts, all encrypted under the first key of the ring. Then appends
a second key, runs `rewrap_data_keys` (what `manage.py rotate_keys` runs), removes the
first key and reads every case summary and client name back.

Prints the rotation time, cases (and data keys) per second, and how many stored field
values changed: it must be zero, since only data keys are re-wrapped.

Usage:  .venv/bin/python benchmarks/key_rotation.py [--cases 10000] [--database-url URL]
Without --database-url it uses a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import hashlib
import time

from django_setup import configure


def fingerprint() -> tuple[int, str]:
    """(number of stored encrypted values, SHA-256 over all of them) — ciphertext only."""
    from django.apps import apps

    from casework.fields import EncryptedMixin

    digest, count = hashlib.sha256(), 0
    for model in apps.get_models():
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]
        if not fields:
            continue
        for row in model._default_manager.order_by("pk").values_list(*fields).iterator(5000):
            for value in row:
                if value is not None:
                    digest.update(str(value).encode())
                    count += 1
    return count, digest.hexdigest()


def fill(n: int) -> None:
    import datetime

    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Organisation, User
    from casework.models import Case, Client, Contact, DataKey

    organisation = Organisation.objects.create(kind="prefecture_centre", name="センター")
    staff = User.objects.create(username="bench", organisation=organisation)
    now = timezone.now()
    for start in range(0, n, 1000):
        with transaction.atomic():
            size = min(1000, n - start)
            keys = DataKey.objects.bulk_create([DataKey.new() for _ in range(2 * size)])
            clients = Client.objects.bulk_create(
                Client(
                    organisation=organisation,
                    data_key=keys[2 * i],
                    code=f"P{start + i}",
                    name=f"ベンチ 太郎{start + i}",
                    phone="000-0000-0000",
                )
                for i in range(size)
            )
            cases = Case.objects.bulk_create(
                Case(
                    organisation=organisation,
                    client=clients[i],
                    data_key=keys[2 * i + 1],
                    code=f"B{start + i}",
                    summary=f"概要{start + i}",
                )
                for i in range(size)
            )
            Contact.objects.bulk_create(
                Contact(
                    organisation=organisation,
                    staff=staff,
                    case=case,
                    data_key=case.data_key,
                    occurred_at=now - datetime.timedelta(days=k),
                    summary=f"相談{k}",
                )
                for case in cases
                for k in range(3)
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    first = configure(args.database_url, key_id="old")

    from django.conf import settings

    from casework import crypto
    from casework.models import Case, Client, DataKey
    from casework.services import rewrap_data_keys

    fill(args.cases)
    keys = DataKey.objects.count()
    values_before, digest_before = fingerprint()
    print(f"data: {args.cases:,} cases, {keys:,} data keys, {values_before:,} encrypted values")

    second = crypto.generate_key()
    settings.FIELD_ENCRYPTION_KEYS = f"old:{first},new:{second}"
    crypto.keyring.cache_clear()  # what a restart does
    started = time.perf_counter()
    rewrapped = rewrap_data_keys(batch_size=500)
    seconds = time.perf_counter() - started
    values_after, digest_after = fingerprint()
    changed = 0 if digest_after == digest_before else "SOME (digest differs)"

    settings.FIELD_ENCRYPTION_KEYS = f"new:{second}"  # the old key is gone
    crypto.keyring.cache_clear()
    crypto.cipher_cache.clear()
    started_read = time.perf_counter()
    readable = sum(1 for case in Case.objects.iterator(2000) if case.summary.startswith("概要"))
    readable += sum(
        1 for client in Client.objects.iterator(2000) if client.name.startswith("ベンチ")
    )
    read_seconds = time.perf_counter() - started_read

    print(
        f"re-wrapped {rewrapped:,} data keys in {seconds:.2f} s: "
        f"{args.cases / seconds:,.0f} cases/s ({rewrapped / seconds:,.0f} data keys/s)"
    )
    print(f"stored encrypted values changed: {changed} (of {values_after:,})")
    print(
        f"after removing the old key: {readable:,} of {2 * args.cases:,} case summaries and "
        f"client names read back in {read_seconds:.2f} s"
    )
    if changed or readable != 2 * args.cases or rewrapped != keys:
        raise SystemExit("rotation check FAILED")


if __name__ == "__main__":
    main()
