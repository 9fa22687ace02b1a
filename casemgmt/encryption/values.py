"""What an encrypted attribute holds: a stored value not yet opened, the erased marker, and the errors.

``Sealed`` wraps the bytes the database gave until the value is first read; ``ERASED`` is what a value of an
erased (crypto-shredded) subject reads as; ``RecordDamaged`` is raised for a value that does not authenticate.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from casemgmt.encryption import crypto


class Sealed:
    """A stored value not yet opened: the bytes the database gave, kept out of sight.

    A wrapper rather than a ``bytes`` subclass: ``force_str``, template filters and the like
    would show a subclass's bytes; this shows nothing but a marker.
    """

    __slots__ = ("stored",)

    def __init__(self, stored: bytes = b"") -> None:
        self.stored = stored

    def __repr__(self) -> str:
        return "<Sealed>"

    def __str__(self) -> str:
        return "[encrypted]"

    def __eq__(self, other) -> bool:
        return isinstance(other, Sealed) and other.stored == self.stored

    def __hash__(self) -> int:
        return hash(self.stored)


class _Erased:
    """What an erased subject's values read as: a marker, in pages and PDFs alike."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __str__(self) -> str:
        return str(_("[erased]"))

    def __repr__(self) -> str:
        return "ERASED"

    def __bool__(self) -> bool:
        return False


ERASED = _Erased()


class RecordDamaged(crypto.DecryptionFailed):
    """A stored value failed authentication; shown to users as "record damaged"."""

    def __init__(self, label: str, row_id) -> None:
        super().__init__(f"{label} of row {row_id} failed authentication.")
        self.label = label
        self.row_id = row_id


class _Ciphertext(bytes):
    """Marks a value that went through ``pre_save``: the only thing the column accepts."""

    __slots__ = ()
