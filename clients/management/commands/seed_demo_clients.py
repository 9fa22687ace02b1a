from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction

from casemgmt.management.base import AuditedCommand
from casemgmt.models import Organisation
from clients.demo import seed_demo_clients


class Command(AuditedCommand):
    help = (
        "Register 14 synthetic demo clients (10 at the Phnom Penh demo centre, 4 in custody at the Kandal demo "
        "prison unit), with consents and screenings. Runs after seed_demo; does nothing if they exist. "
        "Development only."
    )

    def handle(self, *args, **options):
        if not settings.DEVELOPMENT:
            raise CommandError("seed_demo_clients runs only with CASEMGMT_DEVELOPMENT=1.")
        users = get_user_model().objects
        try:
            with transaction.atomic():
                count = seed_demo_clients(
                    centre=Organisation.objects.get(name="Demo Treatment Centre Phnom Penh"),
                    prison=Organisation.objects.get(name="Demo Prison Health Unit Kandal"),
                    counsellor=users.get(username="counsellor"),
                    prison_counsellor=users.get(username="prison.counsellor"),
                )
        except (Organisation.DoesNotExist, users.model.DoesNotExist):
            raise CommandError("Run `manage.py seed_demo` first.") from None
        self.stdout.write(f"Registered {count} synthetic demo clients." if count else "Demo clients exist already.")
