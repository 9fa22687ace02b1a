"""Django's python serialiser, writing encrypted fields as their ciphertext's text form (see the package)."""

from django.core.serializers import python as django_python

from casemgmt.encryption.serialization import EncryptedValuesMixin


class Serializer(EncryptedValuesMixin, django_python.Serializer):
    pass


Deserializer = django_python.Deserializer
