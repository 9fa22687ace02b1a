"""Envelope encryption, blind indexes and key loading (docs/encryption.md).

Key hierarchy
    key-encryption keys (KEKs), from a key file or the environment, each with an id, one active
      └─ one data key (DEK) per subject (a client), stored only wrapped by a KEK (``DataKey``)
           └─ every encrypted value of that subject: AES-256-GCM, 96-bit random nonce,
              associated data = format version | app_label.model.field | row UUID | row version
    blind-index root keys, separate, each with an id, one active
      └─ one HMAC key per index, derived with HKDF

Nothing in here logs, prints or puts into an exception message a key or a plaintext.
"""

from __future__ import annotations

import binascii
import hmac
import math
import os
import threading
import time
import uuid
from collections import OrderedDict

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from casemgmt.encryption import keys as _keys
from casemgmt.encryption.keys import (  # noqa: F401 - the keys' public names, here as they always were
    KEY_BYTES,
    KEY_FILE_VERSION,
    CryptoError,
    DecryptionFailed,
    KeyConfigurationError,
    Keyring,
    SubjectErased,
    key_file_content,
    keyring,
    load_keyring,
    new_key,
    new_key_id,
    write_key_file,
)

NONCE_BYTES = 12
# A stored value, format version 1: one version byte, then nonce | ciphertext | tag, in a binary
# column (bytea, BLOB). Its text form, for serialisation (dumpdata) and the columns of before
# binary storage: "cm1:" + base64(nonce | ciphertext | tag). Both carry the same bytes.
#
# Format version 2 (every value written now) binds the row's write counter (its ``version`` column, bumped
# on every save) into the associated data, so that an older value of the same field of the same row, written
# back, no longer opens. Version 1 values (written before row versions existed) open only while their row
# is still at version 0, that is, never saved since; the next save rewrites them as version 2.
FORMAT_V1 = b"\x01"
FORMAT_V2 = b"\x02"
FORMATS = (FORMAT_V1, FORMAT_V2)
TOKEN_PREFIX = "cm1:"
TOKEN_PREFIX_V2 = "cm2:"
_TOKEN_PREFIXES = {TOKEN_PREFIX: FORMAT_V1, TOKEN_PREFIX_V2: FORMAT_V2}
_TEXT_PREFIX_OF = {FORMAT_V1: TOKEN_PREFIX, FORMAT_V2: TOKEN_PREFIX_V2}
_AAD_VERSION = b"cm1|"
_AAD_VERSION_V2 = b"cm2|"
_WRAP_AAD = b"casemgmt-dek-v1|"


def reset_keyring() -> None:
    """Forget loaded keys and unwrapped data keys (after a configuration change)."""
    _keys.forget_keyring()
    data_key_cache.clear()


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("CASEMGMT_"):
        reset_keyring()


# --------------------------------------------------------------------------------------------
# Data keys


_monotonic = time.monotonic
_UUID = uuid.UUID


class _DataKeyCache:
    """Unwrapped data keys, in this process only: bounded and short-lived.

    The time limit bounds how long another app server may go on decrypting a
    subject after it was erased here; every hit checks it.

    Eviction is approximately least-recently-used ("second chance", as in CLOCK):
    a hit only sets a flag on its entry, and the entry at the old end of the queue
    is evicted unless its flag is set, in which case the flag is cleared and the
    entry goes to the young end. A hit thus costs a dictionary lookup, a clock read
    and a store, with no reordering; the size stays bounded.

    Entries are keyed by the subject's UUID as an integer, whose hash and equality
    are computed in C (``uuid.UUID`` computes both in Python).
    """

    def __init__(self) -> None:
        # subject_id.int -> [expires (monotonic seconds), cipher, used since queued]
        self._items: OrderedDict[int, list] = OrderedDict()
        self._lock = threading.Lock()

    def __reduce__(self):
        raise TypeError("data keys are not picklable")

    def get(self, subject_id) -> AESGCM | None:
        if subject_id.__class__ is not _UUID:
            subject_id = _as_uuid(subject_id)
        return _cached_cipher(subject_id.int)

    def put(self, subject_id, cipher: AESGCM) -> None:
        key = _as_uuid(subject_id).int
        now = _monotonic()
        limit = settings.CASEMGMT_DATA_KEY_CACHE_SIZE
        with self._lock:
            items = self._items
            items.pop(key, None)
            items[key] = [now + settings.CASEMGMT_DATA_KEY_CACHE_SECONDS, cipher, False]
            chances = len(items)  # at most one pass over the entries, even while other threads hit
            while len(items) > limit:
                oldest, entry = items.popitem(last=False)
                if chances and entry[2] and entry[0] > now:
                    chances -= 1
                    entry[2] = False
                    items[oldest] = entry

    def discard(self, subject_id) -> None:
        with self._lock:
            self._items.pop(_as_uuid(subject_id).int, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


data_key_cache = _DataKeyCache()
_cache_lookup = data_key_cache._items.get  # the dictionary is never replaced, only cleared


def _cached_cipher(key: int) -> AESGCM | None:
    """A subject's cached cipher (by ``subject_id.int``), or None if absent or expired.

    No lock: the lookup and the flag store are each atomic under the GIL, and an entry
    evicted meanwhile only turns the hit into a miss. ``encrypt`` and ``decrypt`` have
    these lines written out, to save a call on every value.
    """
    entry = _cache_lookup(key)
    if entry is None or entry[0] <= _monotonic():
        return None
    entry[2] = True
    return entry[1]


def _as_uuid(subject_id) -> uuid.UUID:
    return subject_id if isinstance(subject_id, uuid.UUID) else uuid.UUID(str(subject_id))


def wrap_data_key(subject_id: uuid.UUID, dek: bytes, kek_id: str, ring: Keyring | None = None) -> bytes:
    ring = ring or keyring()
    nonce = os.urandom(NONCE_BYTES)
    aad = _WRAP_AAD + subject_id.bytes + kek_id.encode()
    return nonce + ring.kek_cipher(kek_id).encrypt(nonce, dek, aad)


def unwrap_data_key(subject_id: uuid.UUID, wrapped: bytes, kek_id: str, ring: Keyring | None = None) -> bytes:
    ring = ring or keyring()
    wrapped = bytes(wrapped)
    aad = _WRAP_AAD + subject_id.bytes + kek_id.encode()
    try:
        return ring.kek_cipher(kek_id).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
    except InvalidTag:
        raise DecryptionFailed(
            f"The data key of subject {subject_id} does not authenticate under key-encryption key {kek_id!r}."
        ) from None


class MissingDataKey(DecryptionFailed):
    """Values exist for a subject that has no data key row at all: damage, not an erasure."""


def data_key(subject_id, *, create: bool = False) -> AESGCM:
    """The subject's data key as a cipher; made (and stored wrapped) on first use when ``create``."""
    if subject_id.__class__ is not _UUID:
        subject_id = _as_uuid(subject_id)
    cipher = _cached_cipher(subject_id.int)
    if cipher is not None:
        return cipher
    from casemgmt.models import DataKey

    row = DataKey.objects.filter(subject_id=subject_id).first()
    if row is None:
        if not create:
            raise MissingDataKey(f"Subject {subject_id} has no data key.")
        row = _create_data_key(subject_id)
    if row.destroyed_at is not None:
        raise SubjectErased(f"The data key of subject {subject_id} was destroyed.")
    cipher = AESGCM(unwrap_data_key(subject_id, row.wrapped_key, row.kek_id))
    data_key_cache.put(subject_id, cipher)
    return cipher


def load_data_keys(subject_ids) -> None:
    """Unwrap the data keys of many subjects with one query (a page of a list), into the cache.

    The query is written out (one short statement): on every list page and duplicate check, building it
    through the ORM cost more than unwrapping the keys."""
    from django.db import connection

    from casemgmt.models import DataKey

    wanted = {_as_uuid(s) for s in subject_ids}
    missing = [s for s in wanted if data_key_cache.get(s) is None]
    if not missing:
        return
    ring = keyring()
    column = DataKey._meta.get_field("subject_id")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('subject_id')}, {quote('wrapped_key')}, {quote('kek_id')} "  # noqa: S608 (fixed names)
            f"FROM {quote(DataKey._meta.db_table)} WHERE {quote('destroyed_at')} IS NULL AND "
            f"{quote('subject_id')} IN ({', '.join(['%s'] * len(missing))})",
            [column.get_db_prep_value(s, connection) for s in missing],
        )
        rows = cursor.fetchall()
    for subject_id, wrapped, kek_id in rows:
        subject_id = _as_uuid(subject_id)
        data_key_cache.put(subject_id, AESGCM(unwrap_data_key(subject_id, bytes(wrapped), kek_id, ring)))


def new_subject(subject_id) -> None:
    """Make a new subject's data key now, and keep it in the cache: its first values then encrypt without
    asking the database whether it has a key (a registration's client is new by construction)."""
    from django.db import connection

    from casemgmt.models import DataKey

    subject_id = _as_uuid(subject_id)
    ring = keyring()
    dek = AESGCM.generate_key(bit_length=256)
    quote = connection.ops.quote_name
    # A fresh random UUID has no key yet: one plain INSERT (a collision would be refused by the primary key).
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(DataKey._meta.db_table)} ({quote('subject_id')}, {quote('wrapped_key')}, "  # noqa: S608
            f"{quote('kek_id')}, {quote('created_at')}) VALUES (%s, %s, %s, %s)",
            [DataKey._meta.get_field("subject_id").get_db_prep_value(subject_id, connection),
             wrap_data_key(subject_id, dek, ring.active_kek, ring), ring.active_kek,
             DataKey._meta.get_field("created_at").get_db_prep_value(timezone.now(), connection)],
        )
    data_key_cache.put(subject_id, AESGCM(dek))


def _create_data_key(subject_id: uuid.UUID):
    from casemgmt.models import DataKey

    ring = keyring()
    dek = AESGCM.generate_key(bit_length=256)
    try:
        with transaction.atomic():
            return DataKey.objects.create(
                subject_id=subject_id,
                wrapped_key=wrap_data_key(subject_id, dek, ring.active_kek, ring),
                kek_id=ring.active_kek,
            )
    except IntegrityError:  # another request made it first
        return DataKey.objects.get(subject_id=subject_id)


def destroy_data_key(subject_id) -> bool:
    """Crypto-shred: forget the wrapped key for good. True if a live key was destroyed."""
    from casemgmt.models import DataKey

    subject_id = _as_uuid(subject_id)
    with transaction.atomic():
        row = DataKey.objects.select_for_update().filter(subject_id=subject_id).first()
        if row is None:
            row = DataKey(subject_id=subject_id, kek_id="")
        elif row.destroyed_at is not None:
            data_key_cache.discard(subject_id)
            return False
        row.wrapped_key = None
        row.kek_id = ""
        row.destroyed_at = timezone.now()
        row.save()
    data_key_cache.discard(subject_id)
    return True


# --------------------------------------------------------------------------------------------
# Values


def aad_prefix(label: str, fmt: bytes = FORMAT_V2) -> bytes:
    return (_AAD_VERSION_V2 if fmt == FORMAT_V2 else _AAD_VERSION) + label.encode() + b"|"


def row_binding(row_id, version: int | None) -> bytes:
    """What follows the prefix: the row's UUID (16 bytes), then, from format 2 on, its version (8 bytes)."""
    binding = _as_uuid(row_id).bytes
    return binding if version is None else binding + version.to_bytes(8, "big")


def associated_data(label: str, row_id, version: int | None = None) -> bytes:
    """Binds a ciphertext to its column (``app_label.model.field``), its row (the UUID) and, given a
    ``version``, the row's write counter (format 2). Without one: format 1's associated data."""
    fmt = FORMAT_V1 if version is None else FORMAT_V2
    return aad_prefix(label, fmt) + row_binding(row_id, version)


_TOKEN_PREFIX_LENGTH = len(TOKEN_PREFIX)
_VALUE_OFFSET = len(FORMAT_V1) + NONCE_BYTES  # where the ciphertext begins in a stored value
_urandom = os.urandom


def encrypt(subject_id, aad: bytes, plaintext: bytes, value_class: type[bytes] = bytes,
            fmt: bytes = FORMAT_V2) -> bytes:
    """The stored value: format byte | nonce | ciphertext | tag, as a ``value_class``. ``aad`` must be the
    associated data of format ``fmt`` (see ``associated_data``)."""
    if subject_id.__class__ is not _UUID:
        subject_id = _as_uuid(subject_id)
    entry = _cache_lookup(subject_id.int)  # _cached_cipher, written out
    if entry is not None and entry[0] > _monotonic():
        entry[2] = True
        cipher = entry[1]
    else:
        cipher = data_key(subject_id, create=True)
    nonce = _urandom(NONCE_BYTES)
    return value_class(fmt + nonce + cipher.encrypt(nonce, plaintext, aad))


def decrypt(subject_id, aad: bytes, stored: bytes) -> bytes:
    """Raises ``SubjectErased`` for a destroyed key, ``DecryptionFailed`` for anything that does not authenticate.

    ``aad`` is the associated data of the stored value's format (its first byte): the caller picks it."""
    if subject_id.__class__ is not _UUID:
        subject_id = _as_uuid(subject_id)
    entry = _cache_lookup(subject_id.int)  # _cached_cipher, written out
    if entry is not None and entry[0] > _monotonic():
        entry[2] = True
        cipher = entry[1]
    else:
        cipher = data_key(subject_id)
    if stored[:1] not in FORMATS:  # an empty value too
        raise DecryptionFailed("The stored value is not in a known format.")
    try:  # a value too short for a nonce and a tag fails as ValueError or InvalidTag
        return cipher.decrypt(stored[1:_VALUE_OFFSET], stored[_VALUE_OFFSET:], aad)
    except (InvalidTag, ValueError):
        raise DecryptionFailed("The stored value does not authenticate.") from None


def to_text(stored: bytes) -> str:
    """The text form of a stored value: ``cm1:`` or ``cm2:`` (its format) + base64(nonce | ciphertext | tag)."""
    prefix = _TEXT_PREFIX_OF.get(stored[:1])
    if prefix is None:
        raise DecryptionFailed("The stored value is not in a known format.")
    return prefix + binascii.b2a_base64(stored[1:], newline=False).decode("ascii")


def from_text(text: str) -> bytes:
    """The stored value of a text form made by ``to_text``; ``DecryptionFailed`` if it is not one."""
    if not looks_like_token(text):
        raise DecryptionFailed("The value is not an encrypted value's text form.")
    return _TOKEN_PREFIXES[text[:_TOKEN_PREFIX_LENGTH]] + binascii.a2b_base64(text[_TOKEN_PREFIX_LENGTH:],
                                                                            strict_mode=True)


def looks_like_token(value) -> bool:
    """Whether a text is the text form of a stored value (``cm1:``/``cm2:`` + base64 of at least a nonce and a
    tag)."""
    if not isinstance(value, str) or value[:_TOKEN_PREFIX_LENGTH] not in _TOKEN_PREFIXES:
        return False
    try:
        raw = binascii.a2b_base64(value[_TOKEN_PREFIX_LENGTH:], strict_mode=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) >= NONCE_BYTES + 16


# --------------------------------------------------------------------------------------------
# Blind indexes


def blind_index_bits(expected_rows: int | None = None) -> int:
    """CipherSweet's sizing rule: every index value shared by between 2 and √R rows.

    With R rows and b bits, about R / 2**b rows share a value. The widest index
    that keeps that at 2 or more is b = floor(log2(R / 2)); it is also well under
    √R for any R above 16, so a search decrypts only a handful of candidates.
    """
    rows = expected_rows or settings.CASEMGMT_EXPECTED_SUBJECTS
    return max(1, min(62, int(math.floor(math.log2(max(rows, 4) / 2)))))


_index_key_cache: dict[tuple[str, str, bytes], bytes] = {}


def _index_key(index_name: str, key_id: str, root: bytes) -> bytes:
    cache_key = (index_name, key_id, root)  # a changed root under the same id derives anew; bytes keep their hash
    key = _index_key_cache.get(cache_key)
    if key is None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"casemgmt-blind-index|" + index_name.encode()
        ).derive(root)
        _index_key_cache[cache_key] = key
    return key


def blind_index(index_name: str, normalised: str, *, bits: int, key_id: str | None = None) -> int:
    """HMAC-SHA256 of the normalised value, truncated to ``bits`` (a non-negative integer)."""
    ring = keyring()
    key_id = key_id or ring.active_index_key
    digest = hmac.digest(_index_key(index_name, key_id, ring.index_keys[key_id]), normalised.encode(), "sha256")
    return int.from_bytes(digest[:8], "big") >> (64 - bits)


def blind_index_candidates(index_name: str, normalised: str, *, bits: int) -> list[int]:
    """The index value under every configured index key (two while a rotation is under way)."""
    ring = keyring()
    return sorted({blind_index(index_name, normalised, bits=bits, key_id=kid) for kid in ring.index_keys})
