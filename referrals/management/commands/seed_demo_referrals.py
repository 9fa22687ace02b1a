from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction
from django.test.utils import override_settings

from casemgmt.management.base import AuditedCommand
from casemgmt.models import Organisation
from referrals.demo import DIRECTORY, seed_demo_continuity, seed_demo_referrals


class Command(AuditedCommand):
    help = (
        "Add the two demo partners' services to the directory and 21 synthetic demo referrals to them, in every "
        "state, with outcomes of every kind (HIV tests, one reactive without ART for three weeks, ART, PrEP, OAT, TB, "
        "hepatitis, a generic one), one closed by a consent withdrawal; and, after seed_demo_plans, one for a "
        "reintegration milestone; then the pre-release checklist's demo on the prison unit's releases due "
        "(screenings living with HIV, referrals for ART and opioid agonist therapy, a transfer request). Runs after "
        "seed_demo and seed_demo_clients; does nothing if the directory has them. Development only."
    )

    def handle(self, *args, **options):
        # The demo's history is not news: its e-mails stay in memory rather than flood `make run`'s console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            return self._seed(*args, **options)

    def _seed(self, *args, **options):
        if not settings.DEVELOPMENT:
            raise CommandError("seed_demo_referrals runs only with CASEMGMT_DEVELOPMENT=1.")
        users = get_user_model().objects
        try:
            with transaction.atomic():
                prison = Organisation.objects.get(name="Demo Prison Health Unit Kandal")
                partners = {name: Organisation.objects.get(name=name) for name in DIRECTORY}
                counsellor = users.get(username="counsellor")
                prison_counsellor = users.get(username="prison.counsellor")
                officer = users.get(username="partner")
                count = seed_demo_referrals(
                    centre=Organisation.objects.get(name="Demo Treatment Centre Phnom Penh"), prison=prison,
                    partners=partners, counsellor=counsellor, prison_counsellor=prison_counsellor, officer=officer)
                continuity = seed_demo_continuity(centre_counsellor=counsellor, prison=prison, partners=partners,
                                                  prison_counsellor=prison_counsellor, officer=officer)
        except (Organisation.DoesNotExist, users.model.DoesNotExist, IndexError):
            raise CommandError("Run `manage.py seed_demo` and `manage.py seed_demo_clients` first.") from None
        self.stdout.write(f"Made {count} synthetic demo referrals." if count else "Demo referrals exist already.")
        if continuity:
            self.stdout.write(f"Made {continuity} synthetic referrals before release (the releases' checklist).")
