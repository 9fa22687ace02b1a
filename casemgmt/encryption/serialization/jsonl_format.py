"""Django's jsonl serialiser, writing encrypted fields as their ciphertext's text form (see the package)."""

from django.core.serializers import jsonl as django_jsonl

from casemgmt.encryption.serialization import EncryptedValuesMixin


class Serializer(EncryptedValuesMixin, django_jsonl.Serializer):
    pass


Deserializer = django_jsonl.Deserializer
