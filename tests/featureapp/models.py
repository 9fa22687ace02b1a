import uuid

from django.db import models

from casemgmt.fields import EncryptedManager, EncryptedTextField
from casemgmt.models import Organisation
from casemgmt.versioning import VersionedModel


class Notice(VersionedModel):
    """A centre's notice to its own staff: encrypted text, scoped by organisation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField()

    objects = EncryptedManager()

    class Meta:
        app_label = "featureapp"
