import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction
from django.test.utils import override_settings

from casemgmt.management.base import AuditedCommand
from casemgmt.models import Organisation
from reports.demo import SITES, seed_demo_history


class Command(AuditedCommand):
    help = (
        "Give the demo organisations a year of synthetic history for the Ministry reports: clients registered "
        "month by month (more each month) at the Phnom Penh and Battambang centres and the Kandal prison unit, "
        "with intake screenings, counselling sessions, referrals, releases, plans and milestones, each placed on "
        "the day it happened. Runs after seed_demo and seed_demo_referrals; does nothing if the history exists. "
        "Development only."
    )

    def handle(self, *args, **options):
        # The demo's history is not news: its e-mails stay in memory rather than flood `make run`'s console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            return self._seed(*args, **options)

    def _seed(self, *args, **options):
        if not settings.DEVELOPMENT:
            raise CommandError("seed_demo_history runs only with CASEMGMT_DEVELOPMENT=1.")
        names = {name for name, *_rest in SITES}
        users = get_user_model().objects
        usernames = {user for _name, counsellor, manager, *_n in SITES for user in (counsellor, manager)}
        try:
            organisations = {name: Organisation.objects.get(name=name) for name in names}
            accounts = {name: users.get(username=name) for name in usernames | {"partner"}}
        except (Organisation.DoesNotExist, users.model.DoesNotExist):
            raise CommandError("Run `manage.py seed_demo` first.") from None
        started = time.monotonic()
        with transaction.atomic():
            count = seed_demo_history(organisations=organisations, users=accounts)
        if count:
            self.stdout.write(f"Registered {count} synthetic demo clients with a year of history "
                              f"({time.monotonic() - started:.0f} s).")
        else:
            self.stdout.write("The demo history exists already.")
