from django.core.management.base import CommandError

from casemgmt import audit
from casemgmt.management.base import AuditedCommand


class Command(AuditedCommand):
    help = (
        "Recompute the audit trail's hash chain from the first event. Exits non-zero and names the first broken "
        "event if any event was altered, inserted or removed."
    )

    def handle(self, *args, **options):
        checked, broken = audit.verify_chain()
        if broken is not None:
            where = f"event #{broken.seq}" + (f" (id {broken.event_id})" if broken.event_id else "")
            raise CommandError(f"Audit trail broken at {where}: {broken.problem}. {checked} events before it verify.")
        self.stdout.write(self.style.SUCCESS(f"Audit trail verified: {checked} events, chain intact."))
