"""Versions: no lost write, no replayed value (docs/concurrency.md, docs/encryption.md).

A model whose records several people edit, and every model with encrypted fields, derives from
``VersionedModel``. Its ``version`` column is the row's write counter:

- every save bumps it, and the UPDATE only applies where the row still has the version the instance was
  read at; otherwise the save raises ``Conflict`` and writes nothing (optimistic concurrency: the person
  whose save lost sees their unsaved values beside the current ones);
- encrypted values bind it into their associated data (format 2), so an older value of a field written
  back into its row does not open; each save therefore writes every encrypted field of the row again,
  opening first the ones never read;
- each save's ciphertexts are summed up in a keyed digest that the next audit event records
  (``casemgmt.integrity``), so that a whole row restored from an old copy is found by ``verify_rows``.

State changes do not rely on versions alone: they go through ``casemgmt.transitions.transition``, which
locks the row.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

ERROR_CONFLICT = _(
    "Someone else saved this record while you were working on it. Nothing was overwritten and nothing you "
    "typed is lost: compare your version with the current one below, then save again or leave it."
)


class Conflict(Exception):
    """A save from a stale version: nothing was written."""

    def __init__(self, model: type[models.Model], pk) -> None:
        super().__init__(f"{model._meta.label} {pk} was saved by someone else meanwhile.")
        self.model = model
        self.pk = pk

    @property
    def message(self) -> str:
        return str(ERROR_CONFLICT)


def check_version(instance: models.Model, expected_version: int | None) -> None:
    """Raise ``Conflict`` when a form was filled in from another version than the record now has."""
    if expected_version is not None and int(expected_version) != instance.version:
        raise Conflict(instance.__class__, instance.pk)


class VersionedModel(models.Model):
    version = models.PositiveIntegerField(_("version"), default=0, editable=False)

    class Meta:
        abstract = True

    def save(self, *, force_insert=False, force_update=False, using=None, update_fields=None):
        adding = self._state.adding or bool(force_insert)
        encrypted = self.encrypted_fields()
        if adding:
            expected = None
            self.version = 1
        else:
            for field in encrypted:  # every encrypted field is written again: load what was left out
                if field.attname not in self.__dict__:
                    field.load_deferred(self)
            expected = self.version
            self._open_unread(encrypted)  # under the version they were written with, before it moves on
            if update_fields is not None:
                update_fields = {*update_fields, "version", *(f.name for f in encrypted)}
            self.version = expected + 1
        self._expected_version = expected
        try:
            super().save(force_insert=force_insert, force_update=force_update, using=using,
                         update_fields=update_fields)
        except BaseException:
            self.version = 0 if expected is None else expected
            raise
        finally:
            del self._expected_version
        if encrypted:
            from casemgmt import integrity

            integrity.note_write(self, encrypted, using=using)

    save.alters_data = True

    @classmethod
    def encrypted_fields(cls) -> list:
        fields = cls.__dict__.get("_encrypted_fields")
        if fields is None:
            from casemgmt.fields import EncryptedField

            fields = [f for f in cls._meta.concrete_fields if isinstance(f, EncryptedField)]
            cls._encrypted_fields = fields
        return fields

    def _open_unread(self, encrypted) -> None:
        """Open every value never read, where the row is now (``ValueError`` if one does not belong here)."""
        from casemgmt.fields import ERASED, Sealed

        data = self.__dict__
        for field in encrypted:
            value = data.get(field.attname)
            if value.__class__ is Sealed:
                raw = field.open_sealed(self, value)
                if raw is None:  # erased: stored again as it was, unreadable for good
                    data[field.attname] = ERASED
                    data[field.sealed_key] = value
                else:
                    data[field.attname] = field.from_bytes(raw)

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        expected = getattr(self, "_expected_version", None)
        if expected is None:
            return super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        updated = super()._do_update(base_qs.filter(version=expected), using, pk_val, values, update_fields,
                                     forced_update)
        if not updated and base_qs.filter(pk=pk_val).exists():
            raise Conflict(self.__class__, pk_val)
        return updated
