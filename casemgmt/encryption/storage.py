"""Moving encrypted columns between their text form and binary storage, for migrations.

Encrypted values were first stored as text, ``cm1:`` + base64(nonce | ciphertext | tag); they are
now stored in binary columns (bytea, BLOB) as version byte | nonce | ciphertext | tag. Both hold
the same bytes, so a value moves either way without its key: nothing is decrypted, nothing is
re-encrypted, and the associated data (column and row) stays the same.

The historical states of the migrations before the move declare ``storage="text"``, so every
database, new or old, has text columns until the move converts them. On PostgreSQL a table is
rewritten once, all its encrypted columns together. SQLite keeps each value as it is given,
whatever a column's declared type: there the values are converted row by row and the declared
type stays ``text`` (harmless: a BLOB stays a BLOB). Use in an app's migration::

    operations = [binary_storage("clients")]
"""

from __future__ import annotations

from collections import defaultdict

from django.db import migrations

from casemgmt.encryption import crypto

BATCH = 1_000

ERROR_NOT_CONVERTIBLE = (
    "{table}.{column} holds {count} value(s) that are not encrypted values in the form expected ({expected}). "
    "Nothing was changed. The column must hold only what the encrypted field wrote."
)
_TEXT_FORM = f"{crypto.TOKEN_PREFIX}... (text)"
_BINARY_FORM = "format version 1 (binary)"


def binary_storage(app_label: str) -> migrations.RunPython:
    """A migration operation: the app's encrypted text columns become binary ones (and back)."""

    def forwards(apps, schema_editor):
        for model, fields in _encrypted_columns(apps, app_label):
            _to_binary(schema_editor, model, fields)

    def backwards(apps, schema_editor):
        for model, fields in _encrypted_columns(apps, app_label):
            _to_text(schema_editor, model, fields)

    return migrations.RunPython(forwards, backwards, elidable=False)


def _encrypted_columns(apps, app_label: str):
    """(model, its encrypted fields) for each model of the app that has some."""
    from casemgmt.fields import EncryptedField

    found = defaultdict(list)
    for model in apps.get_app_config(app_label).get_models():
        for field in model._meta.local_concrete_fields:
            if isinstance(field, EncryptedField):
                found[model].append(field)
    return found.items()


def _quote(schema_editor, name: str) -> str:
    """Names come from the models' metadata, never from input; quoted all the same."""
    return schema_editor.quote_name(name)


def _postgresql_columns_of_type(schema_editor, model, fields, data_type: str) -> list:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s AND data_type = %s",
            [model._meta.db_table, data_type],
        )
        names = {name for (name,) in cursor.fetchall()}
    return [field for field in fields if field.column in names]


def _refuse_unexpected(schema_editor, model, fields, unexpected_sql: str, expected: str) -> None:
    """One scan of the table counts, per column, the values the conversion would not understand."""
    table = _quote(schema_editor, model._meta.db_table)
    counts = ", ".join(
        f"count(*) FILTER (WHERE {unexpected_sql.format(column=_quote(schema_editor, field.column))})"
        for field in fields
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts} FROM {table}")  # noqa: S608 (quoted names)
        found = cursor.fetchone()
    for field, count in zip(fields, found, strict=True):
        if count:
            raise ValueError(ERROR_NOT_CONVERTIBLE.format(table=model._meta.db_table, column=field.column,
                                                          count=count, expected=expected))


def _alter_all(schema_editor, model, fields, data_type: str, using: str) -> None:
    """One ALTER TABLE for all the columns: PostgreSQL rewrites the table (and its indexes) once."""
    table = _quote(schema_editor, model._meta.db_table)
    clauses = ", ".join(
        f"ALTER COLUMN {column} TYPE {data_type} USING {using.format(column=column)}"
        for column in (_quote(schema_editor, field.column) for field in fields)
    )
    schema_editor.execute(f"ALTER TABLE {table} {clauses}")


def _to_binary(schema_editor, model, fields) -> None:
    if schema_editor.connection.vendor == "postgresql":
        fields = _postgresql_columns_of_type(schema_editor, model, fields, "text")
        if fields:
            _refuse_unexpected(schema_editor, model, fields, f"{{column}} NOT LIKE '{crypto.TOKEN_PREFIX}%'",
                               _TEXT_FORM)
            _alter_all(schema_editor, model, fields, "bytea",
                       f"'\\x01'::bytea || decode(substr({{column}}, {len(crypto.TOKEN_PREFIX) + 1}), 'base64')")
        return
    for field in fields:
        _convert_rows(schema_editor, model, field, str, crypto.from_text, _TEXT_FORM)


def _to_text(schema_editor, model, fields) -> None:
    if schema_editor.connection.vendor == "postgresql":
        fields = _postgresql_columns_of_type(schema_editor, model, fields, "bytea")
        if fields:
            _refuse_unexpected(schema_editor, model, fields, "substr({column}, 1, 1) <> '\\x01'::bytea",
                               _BINARY_FORM)
            # encode(..., 'base64') breaks its lines every 76 characters; the text form has none.
            _alter_all(schema_editor, model, fields, "text",
                       f"'{crypto.TOKEN_PREFIX}' || translate(encode(substr({{column}}, 2), 'base64'), E'\\n', '')")
        return
    for field in fields:
        _convert_rows(schema_editor, model, field, (bytes, memoryview), lambda value: crypto.to_text(bytes(value)),
                      _BINARY_FORM)


def _convert_rows(schema_editor, model, field, convertible, convert, expected: str) -> None:
    """SQLite: each row in turn, by primary key, a batch at a time."""
    table, column, pk = (_quote(schema_editor, name) for name in (model._meta.db_table, field.column,
                                                                   model._meta.pk.column))
    last = None
    while True:
        with schema_editor.connection.cursor() as cursor:
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
                        raise ValueError(ERROR_NOT_CONVERTIBLE.format(
                            table=model._meta.db_table, column=field.column, count=1, expected=expected)) from None
            if changed:
                cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", changed)  # noqa: S608
            last = rows[-1][0]
