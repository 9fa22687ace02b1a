"""Keys: the key-encryption keys, blind-index root keys and audit key, loaded from a key file or the
environment, never from the database (docs/encryption.md). Key files are written with mode 0600.

Nothing in here logs, prints or puts into an exception message a key.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils import timezone

KEY_BYTES = 32
KEY_FILE_VERSION = 1


class CryptoError(Exception):
    """Base class. Messages never contain key material or plaintext."""


class KeyConfigurationError(CryptoError):
    pass


class DecryptionFailed(CryptoError):
    """A ciphertext did not authenticate: altered, moved to another row or column, or the wrong key."""


class SubjectErased(CryptoError):
    """The subject's data key was destroyed (crypto-shredding)."""


# --------------------------------------------------------------------------------------------
# Keys


@dataclass(frozen=True, repr=False)
class Keyring:
    keks: dict[str, bytes]
    active_kek: str
    index_keys: dict[str, bytes]
    active_index_key: str
    audit_key: bytes
    _kek_ciphers: dict[str, AESGCM] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:  # never show key material
        return f"<Keyring keks={sorted(self.keks)} active={self.active_kek} index={sorted(self.index_keys)}>"

    def __reduce__(self):
        raise TypeError("key material is not picklable")

    def kek_cipher(self, kek_id: str) -> AESGCM:
        cipher = self._kek_ciphers.get(kek_id)
        if cipher is None:
            if kek_id not in self.keks:
                raise KeyConfigurationError(
                    f"A data key is wrapped under key-encryption key {kek_id!r}, which is not configured."
                )
            cipher = self._kek_ciphers[kek_id] = AESGCM(self.keks[kek_id])
        return cipher


_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _shown_id(key_id, *, quoted: bool = True) -> str:
    """A key id for a message. Anything else (a key pasted where an id belongs) is never echoed."""
    if key_id is None or (isinstance(key_id, str) and _KEY_ID.fullmatch(key_id)):
        return repr(key_id) if quoted else str(key_id)
    return "(not a valid key id; not shown)"


def _decode_key(label: str, encoded: str) -> bytes:
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError, AttributeError):
        raise KeyConfigurationError(f"{label} is not valid base64.") from None
    if len(raw) != KEY_BYTES:
        raise KeyConfigurationError(f"{label} must be {KEY_BYTES} bytes (base64 of 32 random bytes), not {len(raw)}.")
    return raw


def _parse_pairs(label: str, raw: str) -> dict[str, str]:
    """``id1:base64,id2:base64`` as environment variables give several keys."""
    pairs: dict[str, str] = {}
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not _KEY_ID.fullmatch(key_id.strip()):
            raise KeyConfigurationError(
                f"{label} must be a comma-separated list of id:base64-key pairs "
                "(an id is up to 64 letters, digits, '.', '_' or '-')."
            )
        pairs[key_id.strip()] = encoded
    return pairs


def load_keyring() -> Keyring:
    """Read keys from ``CASEMGMT_KEY_FILE`` and the ``CASEMGMT_*`` variables (which win)."""
    data: dict = {}
    key_file = getattr(settings, "CASEMGMT_KEY_FILE", None)
    if key_file:
        path = Path(key_file)
        if not path.exists():
            raise KeyConfigurationError(
                f"The key file {path} does not exist: create one with `manage.py generate_keys --output {path}`."
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise KeyConfigurationError(f"The key file {path} cannot be read as JSON.") from None
        if not isinstance(data, dict) or data.get("version") != KEY_FILE_VERSION:
            raise KeyConfigurationError(f"The key file {path} is not a version {KEY_FILE_VERSION} key file.")

    keks = dict(data.get("keks") or {})
    if settings.CASEMGMT_KEKS:
        keks = _parse_pairs("CASEMGMT_KEKS", settings.CASEMGMT_KEKS)
    index_keys = dict(data.get("index_keys") or {})
    if settings.CASEMGMT_INDEX_KEYS:
        index_keys = _parse_pairs("CASEMGMT_INDEX_KEYS", settings.CASEMGMT_INDEX_KEYS)
    active_kek = settings.CASEMGMT_ACTIVE_KEK or data.get("active_kek")
    active_index = settings.CASEMGMT_ACTIVE_INDEX_KEY or data.get("active_index_key")
    audit_key = settings.CASEMGMT_AUDIT_KEY or data.get("audit_key")

    if not keks:
        raise KeyConfigurationError(
            "No key-encryption key is configured: set CASEMGMT_KEY_FILE or CASEMGMT_KEKS (see README.md, Keys)."
        )
    if not active_kek:
        raise KeyConfigurationError("No active key-encryption key: set CASEMGMT_ACTIVE_KEK.")
    if active_kek not in keks:
        raise KeyConfigurationError(
            f"The active key-encryption key {_shown_id(active_kek)} is not among the configured ones "
            f"({', '.join(_shown_id(kid, quoted=False) for kid in sorted(keks))})."
        )
    if not index_keys:
        raise KeyConfigurationError("No blind-index key is configured: set CASEMGMT_INDEX_KEYS or use a key file.")
    if not active_index or active_index not in index_keys:
        raise KeyConfigurationError(
            f"The active blind-index key {_shown_id(active_index)} is not among the configured ones "
            f"({', '.join(_shown_id(kid, quoted=False) for kid in sorted(index_keys))})."
        )
    if not audit_key:
        raise KeyConfigurationError("No audit key is configured: set CASEMGMT_AUDIT_KEY or use a key file.")

    return Keyring(
        keks={kid: _decode_key(f"Key-encryption key {_shown_id(kid)}", v) for kid, v in keks.items()},
        active_kek=active_kek,
        index_keys={kid: _decode_key(f"Blind-index key {_shown_id(kid)}", v) for kid, v in index_keys.items()},
        active_index_key=active_index,
        audit_key=_decode_key("The audit key", audit_key),
    )


_keyring: Keyring | None = None
_keyring_lock = threading.Lock()


def keyring() -> Keyring:
    global _keyring
    ring = _keyring
    if ring is None:
        with _keyring_lock:
            if _keyring is None:
                _keyring = load_keyring()
            ring = _keyring
    return ring


def forget_keyring() -> None:
    global _keyring
    with _keyring_lock:
        _keyring = None


def new_key() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def new_key_id(prefix: str) -> str:
    return f"{prefix}-{timezone.now():%Y%m%d}-{os.urandom(3).hex()}"


def key_file_content(*, previous: dict | None = None) -> dict:
    """A key file with a new active KEK (keeping older ones), and the other keys kept or made."""
    previous = previous or {}
    kek_id = new_key_id("kek")
    keks = dict(previous.get("keks") or {})
    keks[kek_id] = new_key()
    index_keys = dict(previous.get("index_keys") or {})
    active_index = previous.get("active_index_key")
    if not index_keys:
        active_index = new_key_id("idx")
        index_keys[active_index] = new_key()
    return {
        "version": KEY_FILE_VERSION,
        "keks": keks,
        "active_kek": kek_id,
        "index_keys": index_keys,
        "active_index_key": active_index,
        "audit_key": previous.get("audit_key") or new_key(),
    }


def write_key_file(path: Path, content: dict) -> None:
    """Write with mode 0600, atomically (a crash never leaves half a key file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=2)
        handle.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
