"""Encrypted model fields, built on ``casemgmt.encryption.crypto`` (docs/encryption.md).

Declare them on a model whose primary key is a UUID and whose manager is
``EncryptedManager``::

    class Client(models.Model):
        id = models.UUIDField(primary_key=True, default=uuid.uuid4)
        family_name = EncryptedCharField(max_length=100)
        date_of_birth = EncryptedDateField(null=True)
        family_dob_index = BlindIndexField(sources=["family_name", "date_of_birth"], normalisers=["name", "date"])
        objects = EncryptedManager()

A related record names its subject (the owner of the data key) with
``encryption_subject = "client_id"``; by default the subject is the row itself.

Such a model also derives from ``casemgmt.versioning.VersionedModel``: its ``version`` column, bumped on
every save, is bound into each value's associated data, so an older value of a field written back into
its row does not open (docs/encryption.md).

Values are decrypted lazily, on first attribute access, one field of one row at
a time. What the database gives back is held as ``Sealed`` until then.
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid

from django import forms
from django.core import checks, validators
from django.core.exceptions import FieldError, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from casemgmt.encryption import crypto
from casemgmt.encryption.values import ERASED, RecordDamaged, Sealed, _Ciphertext  # noqa: F401 - also named here

logger = logging.getLogger("casemgmt.fields")  # the name monitoring knows, from before the move
_UUID = uuid.UUID

ERROR_LOOKUP = (
    "{field} is encrypted: it cannot be filtered with '{lookup}' or ordered by. "
    "Search it through a blind index (BlindIndexField and .blind_search()), or filter on isnull."
)
ERROR_UPDATE = (
    "{field} is encrypted: set it on the instance and call save(); QuerySet.update() and bulk_update() "
    "would write around the encryption."
)
ERROR_CIPHERTEXT_AS_PLAINTEXT = "{field} was given a value that is already a ciphertext; it is not encrypted twice."
ERROR_BYTES = (
    "{field} was given bytes, the form its values are stored in: set the plaintext (text, a date, JSON data). A "
    "stored value is never encrypted twice."
)
ERROR_SEALED_ELSEWHERE = (
    "{field} holds a stored value that does not open for this row: it was read for another row or subject (a copy "
    "under a new primary key, a record given to another subject), or it is damaged. Read the value before saving "
    "the record under its new identity, so that it is encrypted for it."
)


def subject_of(instance):
    return getattr(instance, getattr(instance.__class__, "encryption_subject", "pk"))


# Where an instance keeps (primary key as given, version, the key as a UUID, the format 2 binding
# (UUID bytes and version), the format 1 binding (UUID bytes)): the row bound into the associated data,
# worked out once per instance rather than once per field and access, and again whenever the primary
# key or the version is replaced. Only the row is kept there, never a data key or a cipher: each value
# still asks crypto's cache, so an erasure (which empties that cache entry) holds at once for instances
# already loaded, and the cache's time limit holds for them too.
_ROW = "_encrypted_row"
VERSION_ATTNAME = "version"
_V1 = crypto.FORMAT_V1


def _row_of(instance, pk_attname: str) -> tuple:
    """Resolve the row from the primary key (a UUID, or its text) and version, and keep it on the instance."""
    data = instance.__dict__
    given = data.get(pk_attname)
    version = data.get(VERSION_ATTNAME)
    if version is None:  # a model without versions (a migration's historical model), or the version deferred
        version = getattr(instance, VERSION_ATTNAME, 0) or 0
    pk = given if given.__class__ is _UUID else crypto._as_uuid(given)
    row = data[_ROW] = (given, version, pk, pk.bytes + version.to_bytes(8, "big"), pk.bytes)
    return row


def _current_row(instance, pk_attname: str) -> tuple:
    data = instance.__dict__
    row = data.get(_ROW)
    if row is None or row[0] is not data.get(pk_attname) or row[1] != data.get(VERSION_ATTNAME, 0):
        row = _row_of(instance, pk_attname)
    return row


class EncryptedDescriptor:
    """Opens a stored value on first access, one field of one row at a time (lazy decryption).

    This is the hot path of every page that shows a name, so it is written flat: what it
    needs of the field is copied into slots once, the row is resolved once per instance,
    and the one call on the way is ``crypto.decrypt``.
    """

    __slots__ = ("field", "attname", "opened_key", "sealed_key", "aad_prefix", "aad_prefix_v1", "pk_attname",
                 "subject_attname", "from_bytes")

    def __init__(self, field: EncryptedField) -> None:
        self.field = field
        self.attname = field.attname
        self.opened_key = field.opened_key
        self.sealed_key = field.sealed_key
        self.aad_prefix = field.aad_prefix
        self.aad_prefix_v1 = field.aad_prefix_v1
        self.pk_attname = None  # the rest once the model is complete: see _prepare()

    def _prepare(self) -> str:
        field = self.field
        pk_attname = field.resolve_attnames()
        self.subject_attname = field.subject_attname
        # UTF-8 text, the common case, calls the C method itself rather than a Python method around it.
        self.from_bytes = bytes.decode if type(field).from_bytes is EncryptedField.from_bytes else field.from_bytes
        self.pk_attname = pk_attname  # last: the descriptor is ready
        return pk_attname

    def __get__(self, instance, owner):
        if instance is None:
            return self
        data = instance.__dict__
        try:
            value = data[self.attname]
        except KeyError:  # deferred
            self.field.load_deferred(instance)
            value = data[self.attname]
        if value.__class__ is not Sealed:
            return value
        pk_attname = self.pk_attname or self._prepare()
        row = data.get(_ROW)  # _current_row, written out
        if row is None or row[0] is not data.get(pk_attname) or row[1] != data.get(VERSION_ATTNAME, 0):
            row = _row_of(instance, pk_attname)
        subject = row[2] if self.subject_attname is None else self.field.subject(instance)
        stored = value.stored
        # A format 1 value is from before row versions: it opens only while its row was never saved since.
        aad = self.aad_prefix + row[3] if stored[:1] != _V1 else (
            self.aad_prefix_v1 + row[4] if row[1] == 0 else b"")
        try:
            raw = crypto.decrypt(subject, aad, stored)
        except crypto.SubjectErased:
            data[self.attname] = ERASED
            data[self.sealed_key] = value
            return ERASED
        except crypto.DecryptionFailed:
            self.field.record_damage(instance, subject)
        # Saving the value unchanged (same row, same version) stores this same ciphertext again (see pre_save).
        data[self.opened_key] = (stored, row[3], subject, raw)
        opened = data[self.attname] = self.from_bytes(raw)
        return opened

    def __set__(self, instance, value) -> None:
        instance.__dict__[self.attname] = value


class EncryptedField(models.Field):
    """Stored in a binary column: format version byte | nonce | AES-256-GCM ciphertext | tag.

    ``storage="text"`` describes the columns of before binary storage, holding the same bytes in
    their text form (``cm1:`` + base64). Only the migrations' historical states use it, so that a
    migration running before ``casemgmt.storage.binary_storage`` reads and writes what is there.
    """

    description = _("Encrypted value")
    empty_strings_allowed = True
    STORAGES = ("binary", "text")

    def __init__(self, *args, storage: str = "binary", **kwargs):
        if storage not in self.STORAGES:
            raise ValueError(f"storage must be one of {', '.join(self.STORAGES)}, not {storage!r}.")
        self.storage = storage
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.storage != "binary":
            kwargs["storage"] = self.storage
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "BinaryField" if self.storage == "binary" else "TextField"

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        # Plain attributes rather than cached properties: the hot paths read them for every value.
        self.label = f"{cls._meta.label_lower}.{self.name}"
        self.aad_prefix = crypto.aad_prefix(self.label)
        self.aad_prefix_v1 = crypto.aad_prefix(self.label, crypto.FORMAT_V1)
        # Where an instance keeps what it opened (or found erased), to save it unchanged.
        self.opened_key = "_opened_" + self.attname
        self.sealed_key = "_sealed_" + self.attname
        # The value the last save wrote (its ciphertext, or None), for the row's digest (casemgmt.integrity).
        self.written_key = "_written_" + self.attname
        self.utf8_text = type(self).to_bytes is EncryptedField.to_bytes
        self.pk_attname = self.subject_attname = None  # once the model is complete: resolve_attnames()
        setattr(cls, self.attname, EncryptedDescriptor(self))

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        pk = self.model._meta.pk
        if not isinstance(pk, models.UUIDField):
            errors.append(
                checks.Error(
                    "A model with encrypted fields needs a UUID primary key (it is bound into each ciphertext).",
                    obj=self,
                    id="casemgmt.E101",
                )
            )
        if self.unique or self.db_index or self.primary_key:
            errors.append(checks.Error("An encrypted field cannot be unique or indexed.", obj=self, id="casemgmt.E102"))
        from casemgmt.versioning import VersionedModel

        if not self.model._meta.abstract and not issubclass(self.model, VersionedModel):
            errors.append(
                checks.Error(
                    "A model with encrypted fields must derive from casemgmt.versioning.VersionedModel (its version "
                    "is bound into each ciphertext).",
                    obj=self,
                    id="casemgmt.E104",
                )
            )
        manager = self.model._default_manager
        if not isinstance(manager, EncryptedManager) and not self.model._meta.abstract:
            errors.append(
                checks.Error(
                    "A model with encrypted fields must use EncryptedManager as its default manager.",
                    obj=self,
                    id="casemgmt.E103",
                )
            )
        return errors

    # Serialising the plaintext: overridden by the typed subclasses.
    def to_bytes(self, value) -> bytes:
        return str(value).encode("utf-8")

    def from_bytes(self, raw: bytes):
        return raw.decode("utf-8")

    def resolve_attnames(self) -> str:
        """The primary key's attribute name; ``subject_attname`` stays None when the row is its own subject."""
        subject = getattr(self.model, "encryption_subject", "pk")
        pk_attname = self.model._meta.pk.attname
        self.versioned = any(f.attname == VERSION_ATTNAME for f in self.model._meta.concrete_fields)
        self.subject_attname = None if subject in ("pk", pk_attname) else subject
        self.pk_attname = pk_attname
        return pk_attname

    def load_deferred(self, instance) -> None:
        """Load a deferred value of ``instance``. Should the row have been saved since the instance was read,
        the value is opened under the row's version now and kept opened: the instance's other values still
        open under its own version, and saving it is a conflict, as it should be."""
        if VERSION_ATTNAME not in {f.attname for f in self.model._meta.concrete_fields}:
            instance.refresh_from_db(fields=[self.attname])
            return
        found = self.model._base_manager.filter(pk=instance.pk).values_list(VERSION_ATTNAME, self.attname).first()
        if found is None:
            raise self.model.DoesNotExist(f"{self.model._meta.label} {instance.pk} no longer exists.")
        version, value = found
        data = instance.__dict__
        data.setdefault(VERSION_ATTNAME, version)
        if value is None or version == data[VERSION_ATTNAME]:
            data[self.attname] = value
            return
        current = self.model(**{self.model._meta.pk.attname: instance.pk, VERSION_ATTNAME: version,
                                **({self.subject_attname: self.subject(instance)} if self.subject_attname else {})})
        current.__dict__[self.attname] = value
        data[self.attname] = getattr(current, self.attname)

    def subject(self, instance):
        """The subject owning the data key when it is not the row itself (loaded if deferred)."""
        attname = self.subject_attname
        data = instance.__dict__
        return data[attname] if attname in data else getattr(instance, attname)

    def record_damage(self, instance, subject):
        """Audit a value that failed authentication, then raise ``RecordDamaged``."""
        from casemgmt import audit

        logger.error("Record damaged: %s %s, field %s, failed authentication",
                     self.model._meta.label_lower, instance.pk, self.name)
        audit.record(
            action=audit.AuditAction.RECORD_DAMAGED,
            object_type=self.model._meta.label_lower,
            object_id=str(instance.pk),
            client_id=subject,
            fields=[self.name],
        )
        raise RecordDamaged(self.label, instance.pk) from None

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if value.__class__ is str:  # a text column (storage="text")
            try:
                return Sealed(crypto.from_text(value))
            except crypto.DecryptionFailed:
                return Sealed()  # not a stored value: reads as damaged, like any value that does not open
        return Sealed(value)

    def pre_save(self, model_instance, add):
        stored = self._stored_value(model_instance)
        model_instance.__dict__[self.written_key] = stored
        return stored

    def _stored_value(self, model_instance):
        data = model_instance.__dict__
        value = data.get(self.attname)
        if value is None:
            return None
        if value.__class__ is Sealed:  # never opened: stored again as it was, once it is known to belong here
            self._check_belongs(model_instance, value)
            return _Ciphertext(value.stored)
        if value is ERASED:
            return _Ciphertext(data[self.sealed_key].stored)
        if value.__class__ is not str and isinstance(value, (bytes, bytearray, memoryview)):
            raise ValueError(ERROR_BYTES.format(field=self.label))  # a stored value (or any bytes) as plaintext
        row = _current_row(model_instance, self.pk_attname or self.resolve_attnames())
        subject = row[2] if self.subject_attname is None else self.subject(model_instance)
        plaintext = value.encode() if value.__class__ is str and self.utf8_text else self.to_bytes(value)
        opened = data.get(self.opened_key)
        if opened is not None and opened[1] == row[3] and opened[3] == plaintext and opened[2] == subject:
            return _Ciphertext(opened[0])
        if isinstance(value, str) and value[:2] == "cm" and crypto.looks_like_token(value):
            raise ValueError(ERROR_CIPHERTEXT_AS_PLAINTEXT.format(field=self.label))
        if self.versioned:
            return crypto.encrypt(subject, self.aad_prefix + row[3], plaintext, _Ciphertext)
        # A model without versions (a migration's historical model) writes format 1, which opens at version 0.
        return crypto.encrypt(subject, self.aad_prefix_v1 + row[4], plaintext, _Ciphertext, fmt=crypto.FORMAT_V1)

    def _check_belongs(self, instance, sealed: Sealed) -> None:
        """Refuse to store a value that would not open for this row and subject.

        A value never read is saved as the ciphertext it was read as, bound to the row and subject it came
        from. Saved under another primary key or subject it could never be opened again, so it is opened
        here first (a save costs one decryption per unread field; reads are untouched).
        """
        self.open_sealed(instance, sealed)

    def open_sealed(self, instance, sealed: Sealed):
        """The plaintext bytes of a stored value of this field of ``instance`` as it stands (its row, version and
        subject); ``ValueError`` if it does not open there, None for an erased subject."""
        row = _current_row(instance, self.pk_attname or self.resolve_attnames())
        subject = row[2] if self.subject_attname is None else self.subject(instance)
        stored = sealed.stored
        aad = self.aad_prefix + row[3] if stored[:1] != _V1 else (self.aad_prefix_v1 + row[4] if row[1] == 0 else b"")
        try:
            return crypto.decrypt(subject, aad, stored)
        except crypto.SubjectErased:
            return None  # an erased subject's values stay as they are: unreadable
        except crypto.DecryptionFailed:
            raise ValueError(ERROR_SEALED_ELSEWHERE.format(field=self.label)) from None

    def get_db_prep_save(self, value, connection):
        if value is None:
            return None
        if value.__class__ is _Ciphertext:
            # What the database drivers know how to send.
            return bytes(value) if self.storage == "binary" else crypto.to_text(value)
        raise FieldError(ERROR_UPDATE.format(field=self.label))

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(ERROR_LOOKUP.format(field=self.label, lookup=lookup_name))

    def get_transform(self, lookup_name):
        raise FieldError(ERROR_LOOKUP.format(field=self.label, lookup=lookup_name))

    def value_to_string(self, obj):
        # Serialisers (dumpdata) get the ciphertext's text form, never the plaintext.
        stored = self._stored_value(obj)
        return None if stored is None else crypto.to_text(stored)

    def clean(self, value, model_instance):
        if value is ERASED or isinstance(value, Sealed):
            return value
        return super().clean(value, model_instance)


class EncryptedTextField(EncryptedField):
    def to_python(self, value):
        if value is None or isinstance(value, (str, Sealed)) or value is ERASED:
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):  # not "b'...'": bytes are how values are stored
            raise ValidationError(_("Enter text."), code="invalid")
        return str(value)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.CharField, "widget": forms.Textarea, **kwargs})


class EncryptedCharField(EncryptedTextField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def formfield(self, **kwargs):
        return models.Field.formfield(self, **{"form_class": forms.CharField, "max_length": self.max_length, **kwargs})


class EncryptedDateField(EncryptedField):
    empty_strings_allowed = False

    def to_python(self, value):
        if value is None or isinstance(value, Sealed) or value is ERASED:
            return value
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError(_("Enter a valid date."), code="invalid") from None

    def to_bytes(self, value) -> bytes:
        return self.to_python(value).isoformat().encode("ascii")

    def from_bytes(self, raw: bytes):
        return datetime.date.fromisoformat(raw.decode("ascii"))

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.DateField, **kwargs})


class EncryptedJSONField(EncryptedField):
    empty_strings_allowed = False

    def to_bytes(self, value) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def from_bytes(self, raw: bytes):
        return json.loads(raw.decode("utf-8"))

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.JSONField, **kwargs})


# The blind index and the manager live beside this module; their names are importable from here too, as the
# models and migrations always imported them.
from casemgmt.encryption.indexes import BlindIndexField  # noqa: E402
from casemgmt.encryption.managers import EncryptedManager, EncryptedQuerySet, encrypted_models  # noqa: E402

__all__ = [
    "ERASED", "BlindIndexField", "EncryptedCharField", "EncryptedDateField", "EncryptedDescriptor", "EncryptedField",
    "EncryptedJSONField", "EncryptedManager", "EncryptedQuerySet", "EncryptedTextField", "RecordDamaged", "Sealed",
    "encrypted_models", "subject_of",
]
