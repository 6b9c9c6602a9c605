"""Benchmark: the cost of field encryption, as ratios measured in one run.

1. One field value through the application's path (AES-256-GCM under a cached data key,
   associated data, base64 text form): encrypt + decrypt per value, next to the bare
   AESGCM primitive on the same bytes.
2. Saving a model with three encrypted fields vs the same model with three plain text
   fields: one-by-one saves and bulk_create, and reading the three fields back.

Usage:  .venv/bin/python benchmarks/crypto_overhead.py [--rows 5000] [--database-url URL]
Without --database-url it uses a fresh SQLite file in a temporary folder; keys are
generated for the run (never read from the repository).
"""

from __future__ import annotations

import argparse
import os
import uuid

from _common import timed
from django_setup import configure

TEXT = ("電話相談：本人は昼夜逆転が続き、母親が来所を希望。次回は訪問を検討。" * 3)[:200]
N_VALUES = 20_000


def seconds(func, repeat: int = 5) -> float:
    """Median wall time of `repeat` runs, in seconds."""
    return timed(func, repeat)[0]


def per_value(key) -> tuple[float, float]:
    """1. Seconds for N_VALUES encrypt + decrypt round trips: the application's path, and
    the bare primitive on the same bytes."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from casework import crypto

    payload = TEXT.encode()
    aad = crypto.associated_data("casework.contact", "summary", uuid.uuid4())
    crypto.decrypt_value(crypto.encrypt_value(TEXT, key.id, aad), aad)  # warm the key cache
    raw = AESGCM(os.urandom(32))
    nonce = os.urandom(12)

    def app_path() -> None:
        for _ in range(N_VALUES):
            crypto.decrypt_value(crypto.encrypt_value(TEXT, key.id, aad), aad)

    def primitive() -> None:
        for _ in range(N_VALUES):
            raw.decrypt(nonce, raw.encrypt(nonce, payload, aad), aad)

    return seconds(app_path), seconds(primitive)


def bench_models():
    """Two throwaway tables, three text fields each: plain, and encrypted."""
    from django.db import connection, models

    from casework.fields import EncryptedTextField
    from casework.models import DataKey

    class BenchPlain(models.Model):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
        summary = models.TextField(null=True)
        follow_up = models.TextField(null=True)
        notes = models.TextField(null=True)

        class Meta:
            app_label = "casework"

    class BenchEncrypted(models.Model):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
        summary = EncryptedTextField()
        follow_up = EncryptedTextField()
        notes = EncryptedTextField()

        class Meta:
            app_label = "casework"

    with connection.schema_editor() as editor:
        editor.create_model(BenchPlain)
        editor.create_model(BenchEncrypted)
    return BenchPlain, BenchEncrypted


def per_row(key, rows: int) -> list[tuple[str, float, float]]:
    """2. (label, plain seconds, encrypted seconds) for saves, bulk inserts and reads."""
    from django.db import transaction

    def make(model):
        return [
            model(data_key=key, summary=TEXT, follow_up=TEXT[:80], notes=TEXT[:120])
            for _ in range(rows)
        ]

    def save_each(model):
        def run() -> None:
            objs = make(model)
            with transaction.atomic():
                for obj in objs:
                    obj.save(force_insert=True)
            model.objects.all().delete()

        return run

    def bulk(model):
        def run() -> None:
            with transaction.atomic():
                model.objects.bulk_create(make(model), batch_size=1000)
            model.objects.all().delete()

        return run

    def read(model):
        model.objects.bulk_create(make(model), batch_size=1000)

        def run() -> None:
            for obj in model.objects.all():
                (obj.summary, obj.follow_up, obj.notes)

        return run

    plain, encrypted = bench_models()
    return [
        (label, seconds(way(plain), 3), seconds(way(encrypted), 3))
        for label, way in (
            ("save() one by one", save_each),
            ("bulk_create      ", bulk),
            ("read 3 fields    ", read),
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    configure(args.database_url)

    from django.db import connection

    from casework.models import DataKey

    key = DataKey.create()
    app_s, prim_s = per_value(key)
    timings = per_row(key, args.rows)
    rows = args.rows
    print(
        f"database: {connection.vendor}; values: {N_VALUES:,} x {len(TEXT.encode())} bytes; "
        f"rows: {rows:,}"
    )
    print("1. one field value, encrypt + decrypt")
    print(f"   application path : {app_s / N_VALUES * 1e6:7.2f} µs per value")
    print(f"   bare AES-GCM     : {prim_s / N_VALUES * 1e6:7.2f} µs per value")
    print(f"   ratio app/bare   : {app_s / prim_s:7.2f}x")
    print("2. model with 3 encrypted fields vs 3 plain fields (per row)")
    for label, plain, enc in timings:
        print(
            f"   {label}: plain {plain / rows * 1e6:8.1f} µs, encrypted {enc / rows * 1e6:8.1f} µs,"
            f" ratio {enc / plain:5.2f}x"
        )


if __name__ == "__main__":
    main()
