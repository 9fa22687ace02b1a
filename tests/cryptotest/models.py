"""A test-only app proving the encryption platform before the client model exists."""

import uuid

from django.db import models

from casemgmt.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedJSONField,
    EncryptedManager,
    EncryptedTextField,
)
from casemgmt.versioning import VersionedModel


class Person(VersionedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    given_name = EncryptedCharField(max_length=100)
    family_name = EncryptedCharField(max_length=100)
    date_of_birth = EncryptedDateField(null=True, blank=True)
    phone = EncryptedCharField(max_length=32, null=True, blank=True)
    national_id = EncryptedCharField(max_length=32, null=True, blank=True)
    notes = EncryptedTextField(blank=True, default="")
    extra = EncryptedJSONField(null=True, blank=True)
    sex = models.CharField(max_length=1, default="M")  # coded, in clear
    updated_at = models.DateTimeField(auto_now=True)

    family_name_index = BlindIndexField(sources=["family_name"], normalisers=["name"])
    family_dob_index = BlindIndexField(sources=["family_name", "date_of_birth"], normalisers=["name", "date"])
    phone_index = BlindIndexField(sources=["phone"], normalisers=["phone"])
    national_id_index = BlindIndexField(sources=["national_id"], normalisers=["id_number"])

    objects = EncryptedManager()

    class Meta:
        app_label = "cryptotest"


class Visit(VersionedModel):
    """A record of another table whose data key is its person's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="visits")
    summary = EncryptedTextField()

    encryption_subject = "person_id"
    objects = EncryptedManager()

    class Meta:
        app_label = "cryptotest"
