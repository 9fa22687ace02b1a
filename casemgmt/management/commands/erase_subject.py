import uuid

from django.core.management.base import CommandError

from casemgmt import services
from casemgmt.management.base import AuditedCommand


class Command(AuditedCommand):
    help = (
        "Crypto-shred a subject (a client) for an erasure request: destroy its data key, so every encrypted value "
        "of that subject is unrecoverable, even with every key-encryption key. Coded statistics remain. Audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("subject", help="The subject's UUID.")
        parser.add_argument("--reason", required=True, help="Why (recorded in the audit trail).")
        parser.add_argument("--dry-run", action="store_true", help="Say what would happen; change nothing.")

    def handle(self, *args, subject, reason, dry_run, **options):
        try:
            subject_id = uuid.UUID(subject)
        except ValueError:
            raise CommandError("The subject must be a UUID.") from None
        if not reason.strip():
            raise CommandError("Give a reason with --reason.")
        if dry_run:
            self.stdout.write(f"Would destroy the data key of subject {subject_id}.")
            return
        if services.subject_erase(subject_id=subject_id, reason=reason):
            self.stdout.write(self.style.SUCCESS(f"Subject {subject_id} erased: its data key is destroyed."))
        else:
            self.stdout.write(f"Subject {subject_id} was already erased.")
