"""The unique identifier code (UIC) of key-population HIV programmes.

Default scheme (``CASEMGMT_UIC_SCHEME = "clients.uic.default_scheme"``):

    first two letters of the mother's first name
  + first two letters of the father's first name
  + sex code (male 1, female 2, other 3)
  + date of birth as DDMMYY

romanised (Khmer script is transliterated with anyascii) and upper-cased, e.g.
mother "Srey Mom", father "Dara", male, born 2 January 1990 → ``SRDA1020190``.
A name with fewer than two Latin letters is padded with ``X``. Another scheme
is a function with the same keyword arguments, named in the setting.
"""

from __future__ import annotations

import datetime
import re

from anyascii import anyascii
from django.conf import settings
from django.utils.module_loading import import_string

SEX_CODES = {"M": "1", "F": "2", "X": "3"}
_NOT_LETTER = re.compile(r"[^A-Z]")


def _letters(name: str, count: int = 2) -> str:
    letters = _NOT_LETTER.sub("", anyascii(name or "").upper())
    return (letters + "X" * count)[:count]


def default_scheme(*, mother_first_name: str, father_first_name: str, sex: str,
                   date_of_birth: datetime.date) -> str:
    return (
        _letters(mother_first_name)
        + _letters(father_first_name)
        + SEX_CODES[sex]
        + date_of_birth.strftime("%d%m%y")
    )


def compute_uic(*, mother_first_name: str, father_first_name: str, sex: str, date_of_birth: datetime.date) -> str:
    scheme = import_string(getattr(settings, "CASEMGMT_UIC_SCHEME", "clients.uic.default_scheme"))
    return scheme(mother_first_name=mother_first_name, father_first_name=father_first_name, sex=sex,
                  date_of_birth=date_of_birth)
