from pathlib import Path

from django.core.management.base import CommandError

from casemgmt import audit_verification
from casemgmt.management.base import AuditedCommand


class Command(AuditedCommand):
    help = (
        "Recompute the audit trail's hash chain from the first event, and compare it with every checkpoint of its "
        "head kept outside the database (CASEMGMT_AUDIT_CHECKPOINT_FILE, and any --checkpoints file). Exits non-zero "
        "and names the first broken event if any event was altered, inserted or removed, and what is missing if the "
        "chain is shorter than a checkpoint or does not extend it. Writes a new checkpoint when the chain verifies, "
        "and records the verification in the trail."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints", action="append", default=[], metavar="FILE", type=Path,
            help="Also compare with the checkpoints in FILE (for example the casemgmt.audit.checkpoint lines of a log "
            "sink; text before each line's JSON is ignored). May be given more than once.",
        )

    def handle(self, *args, **options):
        result = audit_verification.verify_and_record(checkpoint_files=options["checkpoints"])
        if not result.ok:
            raise CommandError("\n".join(result.lines()))
        for line in result.outcome():
            self.stdout.write(self.style.SUCCESS(line))
        for line in result.warning_lines():
            self.stdout.write(self.style.WARNING(line))
