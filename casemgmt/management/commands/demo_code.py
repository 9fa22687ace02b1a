import json

from django.conf import settings
from django.core.management.base import CommandError
from django_otp.oath import TOTP

from casemgmt.management.base import AuditedCommand
from casemgmt.management.commands.seed_demo import credentials_path


class Command(AuditedCommand):
    help = "Print the current TOTP code of a demo account (development only; reads var/demo-credentials.json)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEVELOPMENT:
            raise CommandError("demo_code runs only with CASEMGMT_DEVELOPMENT=1.")
        path = credentials_path()
        saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        entry = saved.get(username)
        if not entry or "totp_key" not in entry:
            raise CommandError(f"{username} is not a demo account with two-factor authentication.")
        self.stdout.write(f"{TOTP(bytes.fromhex(entry['totp_key'])).token():06d}")
