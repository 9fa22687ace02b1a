"""pg_dump of the test database, for the "no plaintext in a dump" tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection


def pg_dump_binary() -> str | None:
    bindir = os.environ.get("CASEMGMT_PG_BINDIR")
    if bindir and Path(bindir, "pg_dump").exists():
        return str(Path(bindir, "pg_dump"))
    return shutil.which("pg_dump")


def dump_database() -> str:
    """The whole database as pg_dump writes it (plain SQL, data included)."""
    settings = connection.settings_dict
    command = [pg_dump_binary(), "--no-password", "--dbname", settings["NAME"], "--username", settings["USER"]]
    if settings["HOST"]:
        command += ["--host", settings["HOST"]]
    if settings["PORT"]:
        command += ["--port", str(settings["PORT"])]
    env = dict(os.environ, PGPASSWORD=settings["PASSWORD"] or "")
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    if result.returncode != 0 and os.geteuid() == 0 and shutil.which("runuser"):
        # As root, the socket directory of a throwaway cluster may belong to the postgres user.
        result = subprocess.run(["runuser", "-u", "postgres", "--", *command], capture_output=True, text=True,
                                env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


# How pg_dump writes an encrypted value in its COPY data: a bytea in hex (backslash escaped),
# beginning with the format version byte (2: bound to the row's version; 1: written before row versions).
STORED_VALUE_MARKS = ("\\\\x02", "\\\\x01")


def stored_values_in(dump: str) -> int:
    """How many encrypted values (either format) the dump holds."""
    return sum(dump.count(mark) for mark in STORED_VALUE_MARKS)


def shows(dump: str, text: str) -> bool:
    """Whether the dump holds the text: as text, or as its UTF-8 bytes in a binary column (hex)."""
    return text in dump or text.encode().hex() in dump


def skip_unless_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump needs PostgreSQL; this run uses SQLite (set DATABASE_URL or use scripts/with_postgres.py)")
    if not pg_dump_binary():
        pytest.skip("pg_dump is not installed (set CASEMGMT_PG_BINDIR)")
