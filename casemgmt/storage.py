"""Moving encrypted columns between their text form and binary storage, for migrations.

Encrypted values were first stored as text, ``cm1:`` + base64(nonce | ciphertext | tag); they are
now stored in binary columns (bytea, BLOB) as version byte | nonce | ciphertext | tag. Both hold
the same bytes, so a value moves either way without its key: nothing is decrypted, nothing is
re-encrypted, and the associated data (column and row) stays the same.

A database created after the change already has binary columns (the first migration makes the
field's current column type); those are left alone. Use in an app's migration::

    operations = [binary_storage("clients")]
"""

from __future__ import annotations

from django.db import migrations

from casemgmt import crypto

BATCH = 1_000

ERROR_NOT_A_TOKEN = (
    "{table}.{column} holds {count} value(s) that are not encrypted values in their text form (cm1:...). "
    "Nothing was changed. Find them with: SELECT id FROM {table} WHERE {column} NOT LIKE 'cm1:%'."
)


def binary_storage(app_label: str) -> migrations.RunPython:
    """A migration operation: the app's encrypted text columns become binary ones (and back)."""

    def forwards(apps, schema_editor):
        for model, field in _encrypted_columns(apps, app_label):
            _to_binary(schema_editor, model, field)

    def backwards(apps, schema_editor):
        for model, field in _encrypted_columns(apps, app_label):
            _to_text(schema_editor, model, field)

    return migrations.RunPython(forwards, backwards, elidable=False)


def _encrypted_columns(apps, app_label: str):
    from casemgmt.fields import EncryptedField

    for model in apps.get_app_config(app_label).get_models():
        for field in model._meta.local_concrete_fields:
            if isinstance(field, EncryptedField):
                yield model, field


def _names(schema_editor, model, field) -> tuple[str, str, str]:
    """Table, column and primary key, quoted: names from the model's metadata, never from input."""
    quote = schema_editor.quote_name
    return quote(model._meta.db_table), quote(field.column), quote(model._meta.pk.column)


def _postgresql_type(schema_editor, model, field) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s AND column_name = %s",
            [model._meta.db_table, field.column],
        )
        return cursor.fetchone()[0]


def _to_binary(schema_editor, model, field) -> None:
    table, column, _ = _names(schema_editor, model, field)
    if schema_editor.connection.vendor == "postgresql":
        if _postgresql_type(schema_editor, model, field) == "bytea":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE {column} NOT LIKE 'cm1:%'")  # noqa: S608 (quoted names)
            wrong = cursor.fetchone()[0]
        if wrong:
            raise ValueError(ERROR_NOT_A_TOKEN.format(table=table, column=column, count=wrong))
        # One statement: the table is rewritten once, under its lock, and the migration's transaction
        # undoes it all if anything fails.
        schema_editor.execute(
            f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea "
            f"USING '\\x01'::bytea || decode(substr({column}, {len(crypto.TOKEN_PREFIX) + 1}), 'base64')"
        )
        return
    _convert_rows(schema_editor, model, field, str, crypto.from_text)


def _to_text(schema_editor, model, field) -> None:
    table, column, _ = _names(schema_editor, model, field)
    if schema_editor.connection.vendor == "postgresql":
        if _postgresql_type(schema_editor, model, field) == "text":
            return
        # encode(..., 'base64') breaks its lines every 76 characters; the text form has none.
        schema_editor.execute(
            f"ALTER TABLE {table} ALTER COLUMN {column} TYPE text "
            f"USING '{crypto.TOKEN_PREFIX}' || translate(encode(substr({column}, 2), 'base64'), E'\\n', '')"
        )
        return
    _convert_rows(schema_editor, model, field, (bytes, memoryview), lambda value: crypto.to_text(bytes(value)))


def _convert_rows(schema_editor, model, field, convertible, convert) -> None:
    """SQLite keeps a column's values as they are given, whatever its declared type: each row in turn."""
    table, column, pk = _names(schema_editor, model, field)
    connection = schema_editor.connection
    last = None
    while True:
        with connection.cursor() as cursor:
            after = "" if last is None else f"AND {pk} > %s"
            cursor.execute(
                f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL {after} "  # noqa: S608 (quoted names)
                f"ORDER BY {pk} LIMIT {BATCH}",
                [] if last is None else [last],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            changed = []
            for row_id, value in rows:
                if isinstance(value, convertible):
                    try:
                        changed.append((convert(value), row_id))
                    except crypto.DecryptionFailed:
                        raise ValueError(ERROR_NOT_A_TOKEN.format(table=table, column=column, count=1)) from None
            if changed:
                cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", changed)  # noqa: S608
            last = rows[-1][0]
