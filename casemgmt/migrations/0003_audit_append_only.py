"""On PostgreSQL, the audit table refuses UPDATE and DELETE (docs/audit.md).

Not even the application's own database user can alter or remove an event; an
administrator who disables the trigger still cannot recompute the HMAC chain
without the audit key, which never enters the database.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION casemgmt_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'casemgmt_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER casemgmt_auditevent_append_only
    BEFORE UPDATE OR DELETE ON casemgmt_auditevent
    FOR EACH ROW EXECUTE FUNCTION casemgmt_audit_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS casemgmt_auditevent_append_only ON casemgmt_auditevent;
DROP FUNCTION IF EXISTS casemgmt_audit_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("casemgmt", "0002_roles")]

    operations = [migrations.RunPython(forward, backward)]
