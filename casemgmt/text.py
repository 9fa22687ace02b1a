"""Text that is text: what free-text and identity fields accept.

Names, addresses and notes are normalised to Unicode NFC (one stored form for
what looks the same), and refused, with a message that names the character and
where it is, when they hold something a reader cannot see:

- control characters (Unicode category Cc; multi-line text keeps newlines and tabs),
- text-direction controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C),
  which make text display in another order than it is stored,
- other invisible formatting characters (Cf: soft hyphen, byte-order mark, word
  joiner, tags ...) and the line and paragraph separators U+2028, U+2029;
- zero-width space, non-joiner and joiner (U+200B-U+200D), except between two
  Khmer characters, where Khmer writing uses them (word breaks, shaping);
- unpaired surrogates and noncharacters, which are not text at all.

Khmer script itself (consonants, coeng U+17D2 stacks, vowel signs, diacritics)
is letters and marks, and passes. ``PlainText`` is the model validator (so that
services refuse such text too); ``PlainTextField`` and ``PlainTextareaField``
are the form fields, which normalise before they validate.
"""

from __future__ import annotations

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

ERROR_INVISIBLE = _(
    "Remove the invisible character %(character)s at position %(position)d: control, text-direction and other "
    "invisible formatting characters are not accepted."
)
ERROR_ZERO_WIDTH = _(
    "Remove the invisible character %(character)s at position %(position)d: zero-width characters are accepted "
    "only between two Khmer characters."
)
ERROR_BROKEN = _("The text has a broken character (%(character)s) at position %(position)d: type it again.")

ZERO_WIDTH = frozenset("\u200b\u200c\u200d")
DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_MULTILINE_KEEPS = frozenset("\n\r\t")


def normalise_text(value: str, *, multiline: bool = False) -> str:
    """NFC; multi-line text gets one kind of line break (browsers send CR LF), one-line text spaces for tabs."""
    text = unicodedata.normalize("NFC", value)
    if multiline:
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
    elif "\t" in text:
        text = text.replace("\t", " ")  # pasted from a table: white space, not a hidden character
    return text


def is_khmer(char: str) -> bool:
    return "\u1780" <= char <= "\u17ff" or "\u19e0" <= char <= "\u19ff"


def _shown(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def check_text(value: str, *, multiline: bool = False) -> None:
    """Raise ``ValidationError`` naming the first character that is not accepted, and its position (from 1)."""
    if value.isprintable():  # no Cc, Cf, Cs, Zl, Zp, Cn at all: the usual case, at C speed
        return
    for index, char in enumerate(value):
        code = ord(char)
        params = {"character": _shown(char), "position": index + 1}
        if 0xD800 <= code <= 0xDFFF or _is_noncharacter(code):
            raise ValidationError(ERROR_BROKEN, code="broken_character", params=params)
        if char in ZERO_WIDTH:
            if 0 < index < len(value) - 1 and is_khmer(value[index - 1]) and is_khmer(value[index + 1]):
                continue
            raise ValidationError(ERROR_ZERO_WIDTH, code="zero_width", params=params)
        if multiline and char in _MULTILINE_KEEPS:
            continue
        if char in DIRECTION_CONTROLS or unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise ValidationError(ERROR_INVISIBLE, code="invisible_character", params=params)


@deconstructible(path="casemgmt.text.PlainText")
class PlainText:
    """Model field validator: the text holds no character ``check_text`` refuses."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value) -> None:
        if isinstance(value, str):  # not None, not an erased value
            check_text(value, multiline=self.multiline)

    def __eq__(self, other) -> bool:
        return isinstance(other, PlainText) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash((PlainText, self.multiline))


plain_text = PlainText()
multiline_text = PlainText(multiline=True)


class PlainTextField(forms.CharField):
    """A one-line text field: normalised to NFC, then checked (``check_text``)."""

    multiline = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validators.append(PlainText(multiline=self.multiline))

    def to_python(self, value):
        value = super().to_python(value)
        return normalise_text(value, multiline=self.multiline) if value else value


class PlainTextareaField(PlainTextField):
    """Multi-line text: newlines and tabs are kept (as LF), everything else as for ``PlainTextField``."""

    multiline = True
    widget = forms.Textarea
