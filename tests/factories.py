"""Factories of the platform: accounts and organisations. Each app keeps its own beside its tests
(tests/clients/factories.py). Obviously synthetic records only."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt import services
from casemgmt.roles import OrganisationKind, Province


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = "Synthetic"
    password = factory.django.Password("correct horse battery staple")


def organisation(name: str, kind: str = OrganisationKind.TREATMENT_CENTRE, province: str = Province.PHNOM_PENH):
    return services.organisation_create(name=name, kind=kind, province=province)


def member(username: str, role: str, org, *, with_device: bool = True):
    user = UserFactory(username=username)
    services.membership_set(user=user, organisation=org, role=role)
    if with_device:
        TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user
