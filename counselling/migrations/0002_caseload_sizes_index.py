"""An index on clients_client for the manager's dashboard: caseload sizes per counsellor, counted from the index
alone (an index-only scan), whatever the size of the centre.

The clients' own indexes do not carry the counsellor with the organisation and status, so counting a centre of
50,000 clients read every client row (some 37,000 table pages, about 250 ms: ``make bench``, counselling suite).
It lives here, with the query that needs it, as SQL: the clients app's model state does not know it, and
``makemigrations`` leaves it alone. On a large installation, build it beforehand with
``CREATE INDEX CONCURRENTLY`` (the same statement): this migration then finds it and does nothing.
"""

from django.db import migrations

INDEX = "counselling_caseload_sizes"


class Migration(migrations.Migration):
    dependencies = [
        ("counselling", "0001_initial"),
        ("clients", "0006_row_versions"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {INDEX} ON clients_client (organisation_id, counsellor_id, status) "
                "WHERE status IN ('active', 'inactive')",
            reverse_sql=f"DROP INDEX IF EXISTS {INDEX}",
        ),
    ]
