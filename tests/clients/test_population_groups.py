"""Population groups: a set of codes on the client, one bit each, filtered without a join; the migration
that moved them out of their own table keeps every client's groups."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from casemgmt.roles import OrganisationKind, Province
from clients.models import POPULATION_GROUP_BITS, Client, PopulationGroup
from tests.clients.helpers import make_client
from tests.factories import organisation

pytestmark = pytest.mark.django_db


def test_groups_come_back_from_the_database_as_codes_in_a_fixed_order(alice, centre_a):
    made = make_client(actor=alice, organisation=centre_a, population_groups=["sex_worker", "pwid", "prisoner"])
    assert Client.objects.get(pk=made.pk).population_groups == ("pwid", "prisoner", "sex_worker")
    with connection.cursor() as cursor:
        cursor.execute("SELECT population_groups FROM clients_client WHERE id = %s", [made.pk.hex if
                       connection.vendor == "sqlite" else made.pk])
        assert cursor.fetchone()[0] == 1 + 4 + 8


def test_a_client_without_groups_reads_as_none_and_shows_a_dash(client, alice, centre_a):
    from tests.conftest import sign_in

    made = make_client(actor=alice, organisation=centre_a)
    assert Client.objects.get(pk=made.pk).population_groups == ()
    html = sign_in(client, alice).get(f"/clients/{made.pk}/").content.decode()
    assert "<dt>Population groups</dt><dd>—</dd>" in html


def test_the_has_lookup_finds_exactly_the_clients_of_a_group(alice, centre_a):
    a = make_client(actor=alice, organisation=centre_a, n=1, population_groups=["pwid"])
    b = make_client(actor=alice, organisation=centre_a, n=2, population_groups=["pwud", "msm"])
    c = make_client(actor=alice, organisation=centre_a, n=3, population_groups=["pwid", "msm"])
    found = {code: set(Client.objects.filter(population_groups__has=code).values_list("pk", flat=True))
             for code in ("pwid", "msm", "transgender")}
    assert found == {"pwid": {a.pk, c.pk}, "msm": {b.pk, c.pk}, "transgender": set()}


def test_an_unknown_group_is_refused_not_stored(alice, centre_a):
    with pytest.raises(ValidationError):
        make_client(actor=alice, organisation=centre_a, population_groups=["pwid", "tourist"])
    assert not Client.objects.exists()
    with pytest.raises(ValueError, match="Unknown population group"):
        list(Client.objects.filter(population_groups__has="tourist"))


def test_groups_serialise_as_codes_and_back(alice, centre_a):
    from django.core import serializers

    made = make_client(actor=alice, organisation=centre_a, population_groups=["msm", "pwid"])
    field = Client._meta.get_field("population_groups")
    assert field.value_to_string(made) == "pwid,msm"
    assert field.to_python("pwid,msm") == ("pwid", "msm")
    dumped = serializers.serialize("json", [Client.objects.get(pk=made.pk)], fields=["population_groups"])
    assert '"population_groups": "pwid,msm"' in dumped


def test_every_group_has_its_own_bit():
    assert set(POPULATION_GROUP_BITS) == set(PopulationGroup.values)
    bits = list(POPULATION_GROUP_BITS.values())
    assert len(set(bits)) == len(bits) and all(bit & (bit - 1) == 0 for bit in bits)


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_each_clients_groups_into_the_column_and_back():
    centre = organisation("Centre (migration test)", OrganisationKind.TREATMENT_CENTRE, Province.PHNOM_PENH)
    before, after = [("clients", "0002_date_validators")], [("clients", "0003_population_groups_column")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        then = old.get_model("casemgmt", "Organisation").objects.get(pk=centre.pk)
        old_client, group_row = old.get_model("clients", "Client"), old.get_model("clients", "ClientPopulationGroup")
        people = {}
        for name, groups in (("a", ["pwid", "prisoner"]), ("b", []), ("c", ["transgender"])):
            person = old_client.objects.create(
                organisation=then, registered_by_organisation=then, sex="F", birth_year=1990, province="KH-12",
                given_name=f"Testgiven{name}", family_name="Synthfamily", date_of_birth=datetime.date(1990, 1, 2),
                mother_first_name="Srey", father_first_name="Dara", uic="SRDAF020190")
            group_row.objects.bulk_create([group_row(client=person, group=g) for g in groups])
            people[name] = person.pk

        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps.get_model("clients", "Client")
        assert {name: new.objects.get(pk=pk).population_groups for name, pk in people.items()} == {
            "a": ("pwid", "prisoner"), "b": (), "c": ("transgender",)}

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        rows = executor.loader.project_state(before).apps.get_model("clients", "ClientPopulationGroup").objects
        assert sorted(rows.values_list("group", flat=True)) == ["prisoner", "pwid", "transgender"]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
