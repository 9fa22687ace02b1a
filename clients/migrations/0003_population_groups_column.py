"""Population groups move from a table of their own to one small integer on the client (a bit per group),
so that the caseload's population filter is a column the caseload index carries, not a join."""

from django.db import migrations, models

import clients.models

# The bits as clients.models.POPULATION_GROUP_BITS fixes them (copied: a migration must not change later).
BITS = {"pwid": 1, "pwud": 2, "prisoner": 4, "sex_worker": 8, "msm": 16, "transgender": 32, "other": 64}


def copy_groups_to_column(apps, schema_editor):
    Client = apps.get_model("clients", "Client")
    ClientPopulationGroup = apps.get_model("clients", "ClientPopulationGroup")
    bits: dict = {}
    for client_id, group in ClientPopulationGroup.objects.values_list("client_id", "group").iterator(chunk_size=5000):
        bits[client_id] = bits.get(client_id, 0) | BITS[group]
    by_value: dict = {}
    for client_id, value in bits.items():
        by_value.setdefault(value, []).append(client_id)
    for value, ids in by_value.items():
        for start in range(0, len(ids), 5000):
            Client.objects.filter(pk__in=ids[start:start + 5000]).update(population_groups=value)


def copy_column_to_groups(apps, schema_editor):
    Client = apps.get_model("clients", "Client")
    ClientPopulationGroup = apps.get_model("clients", "ClientPopulationGroup")
    rows = []
    for client_id, value in Client.objects.exclude(population_groups=0).values_list("pk", "population_groups"):
        value = value if isinstance(value, int) else sum(BITS[code] for code in value)
        rows += [ClientPopulationGroup(client_id=client_id, group=g) for g, bit in BITS.items() if value & bit]
    ClientPopulationGroup.objects.bulk_create(rows, batch_size=5000)


class Migration(migrations.Migration):

    dependencies = [
        ("clients", "0002_date_validators"),
    ]

    operations = [
        migrations.AlterField(
            model_name="clientpopulationgroup",
            name="client",
            field=models.ForeignKey(on_delete=models.deletion.CASCADE, related_name="+", to="clients.client"),
        ),
        migrations.AddField(
            model_name="client",
            name="population_groups",
            field=clients.models.PopulationGroupsField(blank=True, verbose_name="population groups"),
        ),
        migrations.RunPython(copy_groups_to_column, copy_column_to_groups, elidable=True),
        migrations.DeleteModel(name="ClientPopulationGroup"),
        migrations.RemoveIndex(model_name="client", name="client_org_activity"),
        migrations.AddIndex(
            model_name="client",
            index=models.Index(fields=["organisation", "-last_activity_at"],
                               include=("status", "risk_level", "population_groups"), name="client_org_activity"),
        ),
    ]
