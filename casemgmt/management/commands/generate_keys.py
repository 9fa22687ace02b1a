import json
from pathlib import Path

from django.core.management.base import CommandError

from casemgmt import crypto
from casemgmt.management.base import AuditedCommand


class Command(AuditedCommand):
    requires_system_checks = []  # it makes the keys the checks look for
    help = (
        "Write a key file (mode 0600) with a new active key-encryption key, a blind-index key and an audit key. "
        "With --rotate, an existing file keeps its keys and gains a new active KEK: then run rotate_keys. "
        "Never commit the file; keep a copy offline: without it no client data can be read."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="Path of the key file to write.")
        parser.add_argument("--rotate", action="store_true", help="Add a new active KEK to an existing file.")
        parser.add_argument("--if-missing", action="store_true", help="Do nothing if the file exists (development).")

    def handle(self, *args, output, rotate, if_missing, **options):
        path = Path(output)
        if path.exists() and if_missing:
            self.stdout.write(f"Key file {path} exists; nothing to do.")
            return
        previous = None
        if path.exists():
            if not rotate:
                raise CommandError(f"{path} exists. Use --rotate to add a new key-encryption key to it.")
            try:
                previous = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise CommandError(f"{path} cannot be read as a key file.") from None
        elif rotate:
            raise CommandError(f"{path} does not exist; there is nothing to rotate.")
        content = crypto.key_file_content(previous=previous)
        crypto.write_key_file(path, content)
        active = content["active_kek"]
        self.stdout.write(self.style.SUCCESS(f"Wrote {path} (mode 0600); active key-encryption key: {active}."))
        if rotate:
            self.stdout.write("Now run `manage.py rotate_keys` to re-wrap every data key under it.")
