"""Django's json serialiser, writing encrypted fields as their ciphertext's text form (see the package)."""

from django.core.serializers import json as django_json

from casemgmt.encryption.serialization import EncryptedValuesMixin


class Serializer(EncryptedValuesMixin, django_json.Serializer):
    pass


Deserializer = django_json.Deserializer
