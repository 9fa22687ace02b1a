"""Checkpoints of the audit chain's head, kept outside the database (docs/audit.md).

The hash chain proves that no event was altered, inserted or removed *between*
the first and the last event, but not that the newest events are all still
there: deleting the tail leaves a shorter chain that verifies. A checkpoint
records the head (the last event's number and hash) with a time, under an
HMAC whose key is derived from the audit key for this purpose alone, so it
cannot be forged without that key. ``verify_audit`` compares the chain with
every checkpoint: a chain shorter than a checkpoint, or whose event at a
checkpoint's number has another hash, fails.

Checkpoints are written, after the event's transaction commits, every
``CASEMGMT_AUDIT_CHECKPOINT_EVERY`` events and at every verification: one JSON
line appended to ``CASEMGMT_AUDIT_CHECKPOINT_FILE`` (which belongs on another
machine or an append-only store) and the same line logged on the
``casemgmt.audit.checkpoint`` logger, for a log sink. A log sink's lines can be
given back to ``verify_audit --checkpoints``.
"""

from __future__ import annotations

import datetime
import hmac
import json
import logging
import os
from dataclasses import dataclass
from functools import partial
from hashlib import sha256
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt import crypto

logger = logging.getLogger("casemgmt.audit.checkpoint")
errors = logging.getLogger(__name__)

FORMAT_VERSION = 1
_HKDF_INFO = b"casemgmt-audit-checkpoint|v1"
_FIELDS = ("v", "seq", "hash", "at")

WHY_NOT_A_CHECKPOINT = _("it is not a checkpoint")
WHY_BAD_MAC = _("its HMAC does not verify (altered, forged, or written under another audit key)")


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: datetime.datetime
    source: str = ""
    line: int = 0

    @property
    def shown_at(self) -> str:
        return self.at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class BadCheckpoint:
    """A line that is not a checkpoint this installation wrote: malformed, altered or forged."""

    source: str
    line: int
    why: str  # translatable


_key_cache: dict[bytes, bytes] = {}


def _key() -> bytes:
    root = crypto.keyring().audit_key
    fingerprint = sha256(root).digest()
    key = _key_cache.get(fingerprint)
    if key is None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(root)
        _key_cache.clear()
        _key_cache[fingerprint] = key
    return key


def _mac(content: dict) -> str:
    body = json.dumps({name: content[name] for name in _FIELDS}, sort_keys=True, separators=(",", ":"))
    return hmac.new(_key(), body.encode("ascii"), sha256).hexdigest()


def checkpoint_line(*, seq: int, digest: str, at: datetime.datetime | None = None) -> str:
    """The JSON line of a checkpoint of the chain ending at event ``seq`` with ``hash``."""
    at = at or timezone.now()
    content = {"v": FORMAT_VERSION, "seq": seq, "hash": digest,
               "at": at.astimezone(datetime.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")}
    content["mac"] = _mac(content)
    return json.dumps(content, sort_keys=True, separators=(",", ":"))


def checkpoint_file() -> Path | None:
    path = getattr(settings, "CASEMGMT_AUDIT_CHECKPOINT_FILE", None)
    return Path(path) if path else None


def write(*, seq: int, digest: str) -> str | None:
    """Log the checkpoint and append it to the checkpoint file. Returns why the file was not written, or None."""
    line = checkpoint_line(seq=seq, digest=digest)
    logger.info(line)
    path = checkpoint_file()
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode("ascii"))  # one write: lines of concurrent writers do not mix
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        errors.error("Audit checkpoint of event #%d could not be written to %s: %s", seq, path, exc.strerror)
        return exc.strerror or exc.__class__.__name__
    return None


def write_after_commit(*, seq: int, digest: str) -> None:
    """Checkpoint event ``seq`` once its transaction commits (never for an append that is rolled back)."""
    transaction.on_commit(partial(write, seq=seq, digest=digest), robust=True)


def parse(text: str, *, source: str = "", line: int = 0) -> Checkpoint | BadCheckpoint:
    """One line: a checkpoint whose HMAC verifies, or why not. Text before the JSON (a log prefix) is ignored."""
    start = text.find("{")
    try:
        content = json.loads(text[start:]) if start >= 0 else None
    except ValueError:
        content = None
    if not isinstance(content, dict) or content.get("v") != FORMAT_VERSION:
        return BadCheckpoint(source, line, WHY_NOT_A_CHECKPOINT)
    seq, digest, at, mac = (content.get(name) for name in ("seq", "hash", "at", "mac"))
    if not (isinstance(seq, int) and seq >= 0 and isinstance(digest, str) and isinstance(at, str)
            and isinstance(mac, str)):
        return BadCheckpoint(source, line, WHY_NOT_A_CHECKPOINT)
    if not hmac.compare_digest(mac, _mac(content)):
        return BadCheckpoint(source, line, WHY_BAD_MAC)
    try:
        when = datetime.datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return BadCheckpoint(source, line, WHY_NOT_A_CHECKPOINT)
    return Checkpoint(seq=seq, hash=digest, at=when, source=source, line=line)


def read(path: Path) -> list[Checkpoint | BadCheckpoint]:
    """Every line of ``path``, parsed. Raises OSError if it cannot be read."""
    found = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, text in enumerate(lines, start=1):
            if text.strip():
                found.append(parse(text, source=str(path), line=number))
    return found
