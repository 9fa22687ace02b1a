from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction

from casemgmt.management.base import AuditedCommand
from casemgmt.models import Organisation
from counselling.demo import seed_demo_counselling


class Command(AuditedCommand):
    help = (
        "Give the demo clients three months of synthetic counselling: individual and group sessions (some missed, "
        "with their follow-up tasks; some raising a risk flag, one resolved), and appointments today and in the next "
        "days for the demo counsellor. Runs after seed_demo_clients; does nothing if the demo centre has sessions "
        "already. Development only."
    )

    def handle(self, *args, **options):
        if not settings.DEVELOPMENT:
            raise CommandError("seed_demo_counselling runs only with CASEMGMT_DEVELOPMENT=1.")
        users = get_user_model().objects
        try:
            with transaction.atomic():
                count = seed_demo_counselling(
                    centre=Organisation.objects.get(name="Demo Treatment Centre Phnom Penh"),
                    counsellor=users.get(username="counsellor"),
                    manager=users.get(username="manager"),
                    prison=Organisation.objects.get(name="Demo Prison Health Unit Kandal"),
                    prison_counsellor=users.get(username="prison.counsellor"),
                )
        except (Organisation.DoesNotExist, users.model.DoesNotExist):
            raise CommandError("Run `manage.py seed_demo` and `manage.py seed_demo_clients` first.") from None
        self.stdout.write(f"Recorded {count} synthetic demo counselling sessions and appointments." if count
                          else "Demo counselling sessions exist already.")
