from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction

from casemgmt.management.base import AuditedCommand
from clients.models import Client
from plans.demo import seed_demo_plans


class Command(AuditedCommand):
    help = (
        "Give five demo clients of the Phnom Penh demo centre synthetic plans: one waiting for the demo manager's "
        "approval, one active with an earlier version sent back (review due in five days) and a reintegration plan "
        "with milestones achieved and due, one active with its review overdue, one sent back with comments, one "
        "approved after a withdrawn version. Runs after seed_demo_clients; does nothing if they have plans. "
        "Development only."
    )

    def handle(self, *args, **options):
        if not settings.DEVELOPMENT:
            raise CommandError("seed_demo_plans runs only with CASEMGMT_DEVELOPMENT=1.")
        users = get_user_model().objects
        try:
            counsellor, manager = users.get(username="counsellor"), users.get(username="manager")
        except users.model.DoesNotExist:
            raise CommandError("Run `manage.py seed_demo` first.") from None
        clients = Client.objects.filter(counsellor=counsellor).order_by("created_at", "id")
        with transaction.atomic():
            count = seed_demo_plans(clients=clients, counsellor=counsellor, manager=manager)
        if not count and not clients.exists():
            raise CommandError("Run `manage.py seed_demo_clients` first.")
        self.stdout.write(f"Gave {count} demo clients their plans." if count else "Demo plans exist already.")
