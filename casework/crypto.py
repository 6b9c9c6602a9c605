"""Envelope encryption of sensitive fields, and the keyed blind index.

Three layers (DESIGN.md section 5):

* the key ring (`FIELD_ENCRYPTION_KEYS`): key-encryption keys with ids; the last one wraps
  new data keys, every one of them can unwrap;
* data keys (`casework.DataKey`): one random 256-bit key per case (and per client, and per
  organisation and fiscal year for contacts without a case), stored only wrapped;
* values: AES-256-GCM under the data key with a fresh 96-bit nonce and associated data
  naming the model, field and row, stored as text ``e1.<data key id>.<base64 nonce|ct>``.

Rotating the key ring re-wraps data keys only; destroying a data key makes every value
under it unreadable, history tables included (crypto-shredding). Nothing here ever puts a
plaintext into an exception message or a log record.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_started, setting_changed
from django.dispatch import receiver

VALUE_PREFIX = "e1"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class EncryptionError(Exception):
    """Base class: a value could not be encrypted or decrypted."""


class KeyNotFound(EncryptionError):
    """The key needed is not in the key ring or the data key does not exist."""


class DataKeyDestroyed(EncryptionError):
    """The data key was destroyed (crypto-shredding): the value is gone for good."""


class DecryptionError(EncryptionError):
    """The ciphertext failed authentication: wrong row, field, key, or tampering."""


def _decode_key(name: str, encoded: str) -> bytes:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{name}: a key is not valid base64.") from None
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(
            f"{name}: each key must be {KEY_BYTES} random bytes (base64), got {len(raw)}."
        )
    return raw


def generate_key() -> str:
    """A fresh key in the base64 form the settings take."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


@dataclass(frozen=True)
class KeyRing:
    ciphers: dict[str, AESGCM]
    active_id: str

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        """Parse ``id:base64key,id:base64key``; the last key is the active one."""
        if not spec.strip():
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEYS is not set: sensitive fields cannot be read or written. "
                "Set it to 'id:base64key[,id:base64key...]' (the last key encrypts); "
                "`python scripts/make_env.py` writes a local one."
            )
        ciphers: dict[str, AESGCM] = {}
        for entry in spec.split(","):
            key_id, sep, encoded = entry.strip().partition(":")
            if not sep or not _KEY_ID.match(key_id):
                raise ImproperlyConfigured(
                    "FIELD_ENCRYPTION_KEYS: each entry must be 'id:base64key' with an id of "
                    "letters, digits, '-' or '_' (at most 32)."
                )
            if key_id in ciphers:
                raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: key id '{key_id}' repeats.")
            ciphers[key_id] = AESGCM(_decode_key("FIELD_ENCRYPTION_KEYS", encoded))
        return cls(ciphers=ciphers, active_id=key_id)

    def wrap(self, data_key: bytes, data_key_id: uuid.UUID) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.ciphers[self.active_id].encrypt(nonce, data_key, _wrap_aad(data_key_id))
        return self.active_id, nonce + sealed

    def unwrap(self, kek_id: str, wrapped: bytes, data_key_id: uuid.UUID) -> bytes:
        cipher = self.ciphers.get(kek_id)
        if cipher is None:
            raise KeyNotFound(
                f"Data key {data_key_id} is wrapped by key '{kek_id}', which is not in "
                "FIELD_ENCRYPTION_KEYS. Restore that key, or re-wrap before removing it."
            )
        try:
            return cipher.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(data_key_id)
            )
        except InvalidTag:
            raise DecryptionError(
                f"Data key {data_key_id} does not unwrap with key '{kek_id}': the key ring "
                "holds a different key under that id."
            ) from None


def _wrap_aad(data_key_id: uuid.UUID) -> bytes:
    return f"datakey|{data_key_id}".encode()


@cache
def keyring() -> KeyRing:
    return KeyRing.parse(settings.FIELD_ENCRYPTION_KEYS)


@cache
def _blind_index_key() -> bytes:
    if not settings.BLIND_INDEX_KEY:
        raise ImproperlyConfigured(
            "BLIND_INDEX_KEY is not set: identity search and duplicate detection need it. "
            "Set it to 32 random bytes in base64; `python scripts/make_env.py` writes one."
        )
    return _decode_key("BLIND_INDEX_KEY", settings.BLIND_INDEX_KEY)


def check_configuration() -> None:
    """Fail at startup, with a clear message, when a key is missing or malformed."""
    keyring()
    _blind_index_key()


class _CipherCache:
    """Unwrapped data keys, kept briefly so a page of values costs one key lookup.

    Entries expire after DATA_KEY_CACHE_SECONDS (default 300) so a key destroyed by
    another process stops working here too within that time; this process evicts at once.
    Reads take no lock (single dict operations are atomic); writes do.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: dict[str, tuple[float, AESGCM]] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, key_hex: str) -> AESGCM | None:
        entry = self._entries.get(key_hex)
        if entry is None or time.monotonic() > entry[0]:
            return None
        return entry[1]

    def put(self, key_hex: str, cipher: AESGCM) -> None:
        expires = time.monotonic() + getattr(settings, "DATA_KEY_CACHE_SECONDS", 300)
        with self._lock:
            if len(self._entries) >= self._max and key_hex not in self._entries:
                del self._entries[next(iter(self._entries))]  # the oldest insertion
            self._entries[key_hex] = (expires, cipher)

    def evict(self, key_hex: str) -> None:
        with self._lock:
            self._entries.pop(key_hex, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


cipher_cache = _CipherCache()


class _Destructions:
    """Makes a data key destroyed in another process stop working here at once.

    Destroying a key evicts it from this process's cache; other processes learn of it
    here: before the first use of a cached key in each request (and, outside requests, at
    most once a second) one indexed query reads the newest destruction time, and keys
    destroyed since the last look are evicted. A request therefore never reads or writes
    under a key destroyed before it began, in any process.
    """

    def __init__(self) -> None:
        self.seen: object = None  # the newest destroyed_at known here
        self.looked_at = 0.0
        self.local = threading.local()

    def request_started(self, **kwargs: object) -> None:
        self.local.checked = False

    def sync(self) -> None:
        in_request = getattr(self.local, "checked", None)
        if in_request is True:
            return
        if in_request is None and time.monotonic() - self.looked_at < 1.0:
            return
        from .models import DataKey  # the model depends on this module, not the reverse

        newest = (
            DataKey.objects.filter(destroyed_at__isnull=False)
            .order_by("-destroyed_at")
            .values_list("destroyed_at", flat=True)
            .first()
        )
        if newest is not None and newest != self.seen:
            since = DataKey.objects.filter(destroyed_at__isnull=False)
            if self.seen is not None:
                since = since.filter(destroyed_at__gt=self.seen)
            for key_id in since.values_list("id", flat=True):
                cipher_cache.evict(key_id.hex)
            self.seen = newest
        self.looked_at = time.monotonic()
        if in_request is False:
            self.local.checked = True


destructions = _Destructions()


def data_key_cipher(key_hex: str) -> AESGCM:
    """The cipher of a data key, by the key's id in hex."""
    cipher = cipher_cache.get(key_hex)
    if cipher is not None:
        destructions.sync()
        cipher = cipher_cache.get(key_hex)
    if cipher is not None:
        return cipher
    from .models import DataKey  # the model depends on this module, not the reverse

    key_id = uuid.UUID(hex=key_hex)
    row = DataKey.objects.filter(pk=key_id).values("kek_id", "wrapped", "destroyed_at").first()
    if row is None:
        raise KeyNotFound(f"Data key {key_id} does not exist.")
    if row["destroyed_at"] is not None or row["wrapped"] is None:
        raise DataKeyDestroyed(
            f"Data key {key_id} was destroyed on {row['destroyed_at']:%Y-%m-%d}: "
            "the values it protected are erased."
        )
    cipher = AESGCM(keyring().unwrap(row["kek_id"], bytes(row["wrapped"]), key_id))
    cipher_cache.put(key_hex, cipher)
    return cipher


def associated_data(model_label: str, field_name: str, row_id: object) -> bytes:
    return f"{model_label}|{field_name}|{row_id}".encode()


def encrypt_value(plaintext: str, key_id: uuid.UUID | str, aad: bytes) -> str:
    key_hex = key_id if isinstance(key_id, str) else key_id.hex
    nonce = os.urandom(NONCE_BYTES)
    sealed = data_key_cipher(key_hex).encrypt(nonce, plaintext.encode(), aad)
    body = binascii.b2a_base64(nonce + sealed, newline=False).decode("ascii")
    return f"{VALUE_PREFIX}.{key_hex}.{body}"


_KEY_HEX = re.compile(r"^[0-9a-f]{32}$")


def parse_value(ciphertext: str) -> tuple[str, bytes]:
    """(data key id in hex, nonce + sealed bytes) of a stored value."""
    prefix, _, rest = ciphertext.partition(".")
    key_hex, _, body = rest.partition(".")
    if prefix != VALUE_PREFIX or not body or not _KEY_HEX.match(key_hex):
        raise DecryptionError("Stored value is not in the e1 ciphertext format.")
    try:
        blob = binascii.a2b_base64(body, strict_mode=True)
    except (ValueError, binascii.Error):
        raise DecryptionError("Stored value is not in the e1 ciphertext format.") from None
    return key_hex, blob


def decrypt_value(ciphertext: str, aad: bytes) -> str:
    key_hex, blob = parse_value(ciphertext)
    try:
        plain = data_key_cipher(key_hex).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag:
        where = aad.decode(errors="replace")
        raise DecryptionError(
            f"Value for {where} failed authentication: it was not written for this row "
            "and field, or it was altered."
        ) from None
    return plain.decode()


# --- blind index ------------------------------------------------------------------------


def normalise_text(value: str) -> str:
    """NFKC, no spaces, katakana folded to hiragana, lower case: ｶﾅ ﾀﾛｳ == かな たろう."""
    text = unicodedata.normalize("NFKC", value)
    text = "".join(ch for ch in text if not ch.isspace())
    text = "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in text)
    return text.lower()


# Small kana and their full-size letters (hiragana; katakana are folded first).
_SMALL_KANA = str.maketrans("ぁぃぅぇぉっゃゅょゎゕゖぢづゐゑ", "あいうえおつやゆよわかけじずいえ")
_DASHES = dict.fromkeys(map(ord, "－―‐-−〜～"), "ー")  # typed for the long vowel mark
# The vowel each hiragana ends in, to fold long vowels (ユーコ, ユウコ; オーノ, オオノ, オウノ).
_VOWEL_OF = {
    ch: vowel
    for vowel, row in (
        ("あ", "あかさたなはまやらわがざだばぱ"),
        ("い", "いきしちにひみりぎじぢびぴ"),
        ("う", "うくすつぬふむゆるぐずづぶぷゔ"),
        ("え", "えけせてねへめれげぜでべぺ"),
        ("お", "おこそとのほもよろをごぞどぼぽ"),
    )
    for ch in row
}
# After a kana ending in the key, these letters only lengthen it (おう and えい as read).
_LENGTHENING = {"あ": "あ", "い": "い", "う": "う", "え": "えい", "お": "おう"}


def normalise_kana(value: str) -> str:
    """A name in kana as people type it, folded for search: `normalise_text` (width,
    spaces, katakana to hiragana, case), small kana made full size, ぢ/づ read じ/ず
    (and ゐ/ゑ い/え), and long vowels
    folded: a long vowel mark, or a vowel letter that only lengthens the one before it,
    is dropped. ﾕｰｺ, ゆうこ and ユウコ all read ゆこ; オオノ, オウノ and オーノ read おの.
    Names that differ only in a long vowel meet (ゆこ finds ゆうこ): a search shows
    candidates to confirm, never one person for sure."""
    text = normalise_text(value).translate(_DASHES).translate(_SMALL_KANA)
    folded: list[str] = []
    for ch in text:
        if ch == "ー":
            continue
        previous = _VOWEL_OF.get(folded[-1]) if folded else None
        if previous is not None and ch in _LENGTHENING[previous]:
            continue
        folded.append(ch)
    return "".join(folded)


def family_kana(value: str) -> str:
    """The family name of a kana name written with a space (ヤマダ　ユウコ → やまだ),
    folded as `normalise_kana`; empty when the name has no space to tell it by."""
    parts = unicodedata.normalize("NFKC", value).split()
    return normalise_kana(parts[0]) if len(parts) > 1 else ""


def normalise_phone(value: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isdigit())


def blind_index(purpose: str, *parts: str) -> str:
    """Keyed HMAC-SHA256 of normalised parts; equal inputs give equal digests."""
    message = "\x1f".join((purpose, *parts)).encode()
    return hmac.new(_blind_index_key(), message, hashlib.sha256).hexdigest()


@receiver(request_started)
def _new_request(**kwargs: object) -> None:
    destructions.request_started()


@receiver(setting_changed)
def _reset_on_setting_change(*, setting: str, **kwargs: object) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        keyring.cache_clear()
        cipher_cache.clear()
    elif setting == "BLIND_INDEX_KEY":
        _blind_index_key.cache_clear()
