"""Serialisers that write an encrypted field as its ciphertext's text form, whatever its type.

Django's Python-based serialisers (json, jsonl, yaml and python: what ``dumpdata`` uses) read each
field with ``value_from_object`` and pass dates, numbers and None through as they are, calling
``value_to_string`` only for other values. For an encrypted field ``value_from_object`` is the
opened value, so a date of birth or a number kept in an encrypted JSON field would be written in
clear. These serialisers ask every encrypted field for ``value_to_string`` instead. XML already does.
They are registered over Django's in ``settings.SERIALIZATION_MODULES``.
"""

from __future__ import annotations

from casemgmt.encryption.fields import EncryptedField


class EncryptedValuesMixin:
    def _value_from_field(self, obj, field):
        if isinstance(field, EncryptedField):
            return field.value_to_string(obj)
        return super()._value_from_field(obj, field)
