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
import statistics
import time
import uuid

from django_setup import configure


def timed(func, repeat: int = 5) -> float:
    """Median wall time of `repeat` runs, in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    configure(args.database_url)

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from django.db import connection, models, transaction

    from casework import crypto
    from casework.fields import EncryptedTextField
    from casework.models import DataKey

    text = ("電話相談：本人は昼夜逆転が続き、母親が来所を希望。次回は訪問を検討。" * 3)[:200]
    payload = text.encode()
    n_values = 20_000

    # 1. per value --------------------------------------------------------------------
    key = DataKey.create()
    aad = crypto.associated_data("casework.contact", "summary", uuid.uuid4())
    crypto.decrypt_value(crypto.encrypt_value(text, key.id, aad), aad)  # warm the key cache
    raw = AESGCM(os.urandom(32))
    nonce = os.urandom(12)

    def app_path() -> None:
        for _ in range(n_values):
            crypto.decrypt_value(crypto.encrypt_value(text, key.id, aad), aad)

    def primitive() -> None:
        for _ in range(n_values):
            raw.decrypt(nonce, raw.encrypt(nonce, payload, aad), aad)

    app_s, prim_s = timed(app_path), timed(primitive)

    # 2. model saves ------------------------------------------------------------------
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

    rows = args.rows

    def make(model):
        return [
            model(data_key=key, summary=text, follow_up=text[:80], notes=text[:120])
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

    save_plain, save_enc = timed(save_each(BenchPlain), 3), timed(save_each(BenchEncrypted), 3)
    bulk_plain, bulk_enc = timed(bulk(BenchPlain), 3), timed(bulk(BenchEncrypted), 3)
    read_plain, read_enc = timed(read(BenchPlain), 3), timed(read(BenchEncrypted), 3)

    vendor = connection.vendor
    print(f"database: {vendor}; values: {n_values:,} x {len(payload)} bytes; rows: {rows:,}")
    print("1. one field value, encrypt + decrypt")
    print(f"   application path : {app_s / n_values * 1e6:7.2f} µs per value")
    print(f"   bare AES-GCM     : {prim_s / n_values * 1e6:7.2f} µs per value")
    print(f"   ratio app/bare   : {app_s / prim_s:7.2f}x")
    print("2. model with 3 encrypted fields vs 3 plain fields (per row)")
    for label, plain, enc in (
        ("save() one by one", save_plain, save_enc),
        ("bulk_create      ", bulk_plain, bulk_enc),
        ("read 3 fields    ", read_plain, read_enc),
    ):
        print(
            f"   {label}: plain {plain / rows * 1e6:8.1f} µs, encrypted {enc / rows * 1e6:8.1f} µs,"
            f" ratio {enc / plain:5.2f}x"
        )


if __name__ == "__main__":
    main()
