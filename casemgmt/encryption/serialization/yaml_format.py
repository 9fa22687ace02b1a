"""Django's yaml serialiser, writing encrypted fields as their ciphertext's text form (see the package)."""

from django.core.serializers import pyyaml as django_pyyaml

from casemgmt.encryption.serialization import EncryptedValuesMixin


class Serializer(EncryptedValuesMixin, django_pyyaml.Serializer):
    pass


Deserializer = django_pyyaml.Deserializer
