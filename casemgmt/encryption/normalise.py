"""Normalisers for blind indexes: equal after normalising means "the same value".

Each returns ``None`` for a value that has nothing to index.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DEFAULT_COUNTRY_CODE = "855"  # Cambodia

ERROR_PHONE = _("Enter a phone number such as 012 345 678 or +855 12 345 678.")

_SPACE = re.compile(r"\s+")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def name(value: str | None) -> str | None:
    """Unicode NFKC, case-folded, white space collapsed. Khmer script is kept as entered."""
    if value is None:
        return None
    folded = _SPACE.sub(" ", unicodedata.normalize("NFKC", str(value)).casefold()).strip()
    return folded or None


def phone(value: str | None) -> str | None:
    """E.164 (``+85512345678``); a national number (leading 0) is taken as Cambodian."""
    if value is None or not str(value).strip():
        return None
    digits = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", str(value)))
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = DEFAULT_COUNTRY_CODE + digits[1:]
    if not digits.isascii() or not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise ValidationError(ERROR_PHONE, code="invalid_phone")
    return "+" + digits


def id_number(value: str | None) -> str | None:
    """Upper-case letters and digits only: ``n° 0123-456 a`` and ``N0123456A`` are one."""
    if value is None:
        return None
    cleaned = _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", str(value)).upper())
    return cleaned or None


def date(value: datetime.date | str | None) -> str | None:
    """ISO 8601 (``YYYY-MM-DD``)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value.strip())
    return value.isoformat()


NORMALISERS = {"name": name, "phone": phone, "id_number": id_number, "date": date}
