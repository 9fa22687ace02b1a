#!/usr/bin/env python3
"""Run a command against a throwaway PostgreSQL cluster, or against SQLite if there is no server.

    python scripts/with_postgres.py -- pytest ...

Looks for initdb / pg_ctl on PATH and under /usr/lib/postgresql/*/bin. Creates the
cluster in a temporary directory, listening only on a unix socket in that directory
(no TCP), runs the command with DATABASE_URL pointing at it, then stops the server and
removes the directory, whatever the command's outcome. initdb refuses to run as root:
as root, the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote


def find_binaries() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    return None


def as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print("usage: with_postgres.py -- COMMAND ...", file=sys.stderr)
        return 2
    if os.environ.get("DATABASE_URL"):
        print(f"Database: DATABASE_URL from the environment ({os.environ['DATABASE_URL'].split('@')[-1]})", flush=True)
        return subprocess.call(argv)
    bindir = find_binaries()
    if bindir is None or os.environ.get("CASEMGMT_TEST_SQLITE"):
        print("Database: SQLite (no PostgreSQL server binaries found)", flush=True)
        return subprocess.call(argv)

    workdir = Path(tempfile.mkdtemp(prefix="casemgmt-pg-"))
    datadir, sockdir = workdir / "data", workdir / "sock"
    sockdir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        shutil.chown(sockdir, "postgres")
    workdir.chmod(0o700)
    logfile = workdir / "server.log"
    started = False
    try:
        subprocess.run(
            as_server_user([str(bindir / "initdb"), "-D", str(datadir), "-A", "trust", "-U", "postgres",
                            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
            check=True, stdout=subprocess.DEVNULL,
        )
        options = f"-c listen_addresses='' -k {sockdir} -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        subprocess.run(
            as_server_user(
                [str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(logfile), "-o", options, "-w", "start"]
            ),
            check=True, stdout=subprocess.DEVNULL,
        )
        started = True
        version = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True).stdout.strip()
        print(f"Database: throwaway PostgreSQL cluster ({version}) on unix socket {sockdir}", flush=True)
        env = dict(os.environ, DATABASE_URL=f"postgresql://postgres@{quote(str(sockdir), safe='')}/postgres")
        env["CASEMGMT_PG_BINDIR"] = str(bindir)
        return subprocess.call(argv, env=env)
    except subprocess.CalledProcessError as exc:
        print(f"Could not start PostgreSQL ({exc}); see {logfile}", file=sys.stderr)
        if logfile.exists():
            print(logfile.read_text()[-2000:], file=sys.stderr)
        return 1
    finally:
        if started:
            subprocess.run(
                as_server_user([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"]),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
