"""Encrypted model fields and blind indexes, built on ``casemgmt.crypto``.

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
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from casemgmt import crypto, normalise

logger = logging.getLogger(__name__)

ERROR_LOOKUP = (
    "{field} is encrypted: it cannot be filtered with '{lookup}' or ordered by. "
    "Search it through a blind index (BlindIndexField and .blind_search()), or filter on isnull."
)
ERROR_UPDATE = (
    "{field} is encrypted: set it on the instance and call save(); QuerySet.update() and bulk_update() "
    "would write around the encryption."
)
ERROR_CIPHERTEXT_AS_PLAINTEXT = "{field} was given a value that is already a ciphertext; it is not encrypted twice."


class Sealed:
    """A stored ciphertext not yet opened. Shows nothing of its content."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return "<Sealed>"

    def __str__(self) -> str:
        return "[encrypted]"

    def __eq__(self, other) -> bool:
        return isinstance(other, Sealed) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)


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


class _Ciphertext(str):
    """Marks a value that went through ``pre_save``: the only thing the column accepts."""


def subject_of(instance):
    return getattr(instance, getattr(instance.__class__, "encryption_subject", "pk"))


class EncryptedDescriptor:
    def __init__(self, field: EncryptedField) -> None:
        self.field = field

    def __get__(self, instance, owner):
        if instance is None:
            return self
        attname = self.field.attname
        data = instance.__dict__
        if attname not in data:  # deferred
            instance.refresh_from_db(fields=[attname])
        value = data[attname]
        if value.__class__ is Sealed:
            field = self.field
            subject, row = field.subject_and_row(instance)
            opened, raw = field.open(instance, value, subject, row)
            data[attname] = opened
            if opened is ERASED:
                data["_sealed_" + attname] = value
            else:
                # Saving the value unchanged stores this same ciphertext again, not a new one.
                data["_opened_" + attname] = (value.token, row, subject, raw)
            return opened
        return value

    def __set__(self, instance, value) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedField(models.Field):
    """Stored as text: ``cm1:`` + base64(nonce | AES-256-GCM ciphertext | tag)."""

    description = _("Encrypted value")
    empty_strings_allowed = True

    def get_internal_type(self) -> str:
        return "TextField"

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        setattr(cls, self.attname, EncryptedDescriptor(self))

    @cached_property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

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

    @cached_property
    def aad_prefix(self) -> bytes:
        return crypto.aad_prefix(self.label)

    @cached_property
    def _attnames(self) -> tuple[str, str]:
        subject = getattr(self.model, "encryption_subject", "pk")
        pk = self.model._meta.pk.attname
        return (pk if subject == "pk" else subject), pk

    def subject_and_row(self, instance) -> tuple[uuid.UUID, bytes]:
        """The subject owning the data key, and the row id bound into the associated data."""
        subject_attname, pk_attname = self._attnames
        data = instance.__dict__
        subject = data[subject_attname] if subject_attname in data else getattr(instance, subject_attname)
        pk = data.get(pk_attname)
        if pk.__class__ is not uuid.UUID:
            pk = uuid.UUID(str(pk))
        return subject, pk.bytes

    def open(self, instance, sealed: Sealed, subject=None, row: bytes | None = None):
        """(value, plaintext bytes), or (ERASED, None) for an erased subject."""
        if row is None:
            subject, row = self.subject_and_row(instance)
        try:
            raw = crypto.decrypt(subject, self.aad_prefix + row, sealed.token)
        except crypto.SubjectErased:
            return ERASED, None
        except crypto.DecryptionFailed:
            from casemgmt import audit

            logger.warning("Encrypted value %s of row %s failed authentication", self.label, instance.pk)
            audit.record(
                action=audit.AuditAction.RECORD_DAMAGED,
                object_type=self.model._meta.label_lower,
                object_id=str(instance.pk),
                client_id=subject,
                fields=[self.name],
            )
            raise RecordDamaged(self.label, instance.pk) from None
        return self.from_bytes(raw), raw

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return Sealed(value)

    def pre_save(self, model_instance, add):
        value = model_instance.__dict__.get(self.attname)
        if value is None:
            return None
        if isinstance(value, Sealed):  # never opened: stored again as it was
            return _Ciphertext(value.token)
        if value is ERASED:
            return _Ciphertext(model_instance.__dict__["_sealed_" + self.attname].token)
        subject, row = self.subject_and_row(model_instance)
        plaintext = self.to_bytes(value)
        opened = model_instance.__dict__.get("_opened_" + self.attname)
        if opened is not None and opened[1:] == (row, subject, plaintext):
            return _Ciphertext(opened[0])
        if value.__class__ is str and crypto.looks_like_token(value):
            raise ValueError(ERROR_CIPHERTEXT_AS_PLAINTEXT.format(field=self.label))
        return _Ciphertext(crypto.encrypt(subject, self.aad_prefix + row, plaintext))

    def get_db_prep_save(self, value, connection):
        if value is None or isinstance(value, _Ciphertext):
            return value
        raise FieldError(ERROR_UPDATE.format(field=self.label))

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(ERROR_LOOKUP.format(field=self.label, lookup=lookup_name))

    def get_transform(self, lookup_name):
        raise FieldError(ERROR_LOOKUP.format(field=self.label, lookup=lookup_name))

    def value_to_string(self, obj):
        # Serialisers (dumpdata) get the ciphertext, never the plaintext.
        return self.pre_save(obj, add=False)

    def clean(self, value, model_instance):
        if value is ERASED or isinstance(value, Sealed):
            return value
        return super().clean(value, model_instance)


class EncryptedTextField(EncryptedField):
    def to_python(self, value):
        if value is None or isinstance(value, (str, Sealed)) or value is ERASED:
            return value
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


class BlindIndexField(models.BigIntegerField):
    """A truncated HMAC of normalised source values, kept in step on every save.

    ``sources`` are field names of the same model, ``normalisers`` name a function of
    ``casemgmt.normalise`` for each. The width follows ``crypto.blind_index_bits``
    unless ``bits`` is given. Never index HIV, drug-use or custody fields.
    """

    def __init__(self, *args, sources=(), normalisers=(), bits=None, **kwargs):
        self.sources = tuple(sources)
        self.normalisers = tuple(normalisers)
        self.fixed_bits = bits
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["sources"] = list(self.sources)
        kwargs["normalisers"] = list(self.normalisers)
        if self.fixed_bits is not None:
            kwargs["bits"] = self.fixed_bits
        for key, default in (("null", True), ("blank", True), ("editable", False), ("db_index", True)):
            if kwargs.get(key, default) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if not self.sources or len(self.sources) != len(self.normalisers):
            errors.append(
                checks.Error("A blind index needs sources and one normaliser per source.", obj=self, id="casemgmt.E111")
            )
        for normaliser in self.normalisers:
            if normaliser not in normalise.NORMALISERS:
                errors.append(
                    checks.Error(f"Unknown normaliser {normaliser!r}.", obj=self, id="casemgmt.E112")
                )
        return errors

    @property
    def bits(self) -> int:
        return self.fixed_bits or crypto.blind_index_bits()

    @cached_property
    def index_name(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def normalised(self, values) -> str | None:
        parts = []
        for normaliser, value in zip(self.normalisers, values, strict=True):
            if value is ERASED or isinstance(value, Sealed):
                return None
            part = normalise.NORMALISERS[normaliser](value)
            if part is None:
                return None
            parts.append(part)
        return "\x1f".join(parts)

    def compute(self, instance, key_id: str | None = None) -> int | None:
        normalised = self.normalised([getattr(instance, source) for source in self.sources])
        if normalised is None:
            return None
        return crypto.blind_index(self.index_name, normalised, bits=self.bits, key_id=key_id)

    def pre_save(self, model_instance, add):
        if any(getattr(model_instance, source) is ERASED for source in self.sources):
            return getattr(model_instance, self.attname)  # an erased subject keeps what it had
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value


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
