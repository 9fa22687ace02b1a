"""The manager every model with encrypted fields uses: no filtering, ordering or bulk writing around the
encryption; data keys loaded with a page of rows; exact search through blind indexes (docs/encryption.md)."""

from __future__ import annotations

from django.core.exceptions import FieldError, ValidationError
from django.db import models

from casemgmt.encryption import crypto
from casemgmt.encryption.fields import (
    ERROR_LOOKUP,
    ERROR_UPDATE,
    VERSION_ATTNAME,
    EncryptedField,
    RecordDamaged,
    subject_of,
)
from casemgmt.encryption.indexes import BlindIndexField


class EncryptedQuerySet(models.QuerySet):
    _load_data_keys = False

    def with_data_keys(self):
        """Fetch the rows' data keys in one query when the rows are fetched (for list pages)."""
        clone = self._chain()
        clone._load_data_keys = True
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._load_data_keys = self._load_data_keys
        return clone

    def _fetch_all(self):
        fetched = self._result_cache is None
        super()._fetch_all()
        if fetched and self._load_data_keys and self._result_cache and isinstance(self._result_cache[0],
                                                                                   models.Model):
            crypto.load_data_keys(subject_of(row) for row in self._result_cache)

    def _encrypted_names(self) -> set[str]:
        return {f.name for f in self.model._meta.concrete_fields if isinstance(f, EncryptedField)} | {
            f.attname for f in self.model._meta.concrete_fields if isinstance(f, EncryptedField)
        }

    def only(self, *fields):
        # The version is part of every value's associated data: it is loaded whenever a value may be.
        if fields and fields != (None,) and any(f.name == VERSION_ATTNAME for f in self.model._meta.concrete_fields):
            fields = (*fields, VERSION_ATTNAME)
        return super().only(*fields)

    def defer(self, *fields):
        return super().defer(*(f for f in fields if f != VERSION_ATTNAME))

    def order_by(self, *field_names):
        encrypted = self._encrypted_names()
        for name in field_names:
            if isinstance(name, str) and name.lstrip("-?") in encrypted:
                raise FieldError(ERROR_LOOKUP.format(field=f"{self.model._meta.label_lower}.{name.lstrip('-')}",
                                                     lookup="order_by"))
        return super().order_by(*field_names)

    def update(self, **kwargs):
        encrypted = self._encrypted_names()
        for name, value in kwargs.items():
            if name in encrypted and value is not None:
                raise FieldError(ERROR_UPDATE.format(field=f"{self.model._meta.label_lower}.{name}"))
        return super().update(**kwargs)

    update.alters_data = True
    update.queryset_only = False

    def blind_search(self, index: str, *values) -> list:
        """Rows of this queryset whose ``index`` sources equal ``values`` after normalising.

        One indexed lookup for the candidates (a handful, by the index's width), then
        each candidate's source fields are decrypted and compared exactly.
        """
        field = self.model._meta.get_field(index)
        if not isinstance(field, BlindIndexField):
            raise FieldError(f"{index} is not a blind index of {self.model._meta.label}.")
        try:
            wanted = field.normalised(values)
        except (ValidationError, ValueError):
            return []
        if wanted is None:
            return []
        candidates = crypto.blind_index_candidates(field.index_name, wanted, bits=field.bits)
        found = []
        for row in self.filter(**{f"{field.attname}__in": candidates}).with_data_keys():
            try:
                matches = field.normalised([getattr(row, source) for source in field.sources]) == wanted
            except RecordDamaged:
                continue
            if matches:
                found.append(row)
        return found


class EncryptedManager(models.Manager.from_queryset(EncryptedQuerySet)):
    pass


def encrypted_models():
    from django.apps import apps

    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, (EncryptedField, BlindIndexField))]
        if fields:
            yield model, fields
