"""Blind indexes: a truncated keyed hash of normalised values, for exact search (docs/encryption.md)."""

from __future__ import annotations

from django.core import checks
from django.db import models
from django.utils.functional import cached_property

from casemgmt.encryption import crypto, normalise
from casemgmt.encryption.fields import ERASED, Sealed


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
