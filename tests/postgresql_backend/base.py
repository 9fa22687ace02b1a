"""Django's PostgreSQL backend, except that ``flush`` gets past the audit table's TRUNCATE trigger.

Transactional tests end with a flush, which truncates every table; the audit table refuses TRUNCATE
(casemgmt migration 0007), as it should outside tests. The test cluster's superuser turns triggers off
for the flush's own transaction only (SET LOCAL), as a database superuser could anywhere.
"""

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
