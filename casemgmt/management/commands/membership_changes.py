from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from casemgmt import selectors, services
from casemgmt.management.base import AuditedCommand
from casemgmt.models import MembershipChangeStatus
from casemgmt.staff import who_confirms


class Command(AuditedCommand):
    help = (
        "List the membership changes waiting for confirmation, or confirm or reject one as the operator of the "
        "server. For when no second person can: an administrator's role after a reset when there are only two "
        "administrators, or the first administrators of an installation. Audited, with no account as the actor."
    )

    def add_arguments(self, parser):
        decision = parser.add_mutually_exclusive_group()
        decision.add_argument("--confirm", type=int, metavar="ID", help="Confirm the pending change ID.")
        decision.add_argument("--reject", type=int, metavar="ID", help="Reject the pending change ID.")
        parser.add_argument("--dry-run", action="store_true", help="Say what would happen; change nothing.")

    def handle(self, *args, confirm, reject, dry_run, **options):
        pending = selectors.membership_changes().filter(status=MembershipChangeStatus.PENDING)
        change_id = confirm or reject
        if change_id is None:
            for change in pending.order_by("proposed_at", "pk"):
                self.stdout.write(f"{change.pk:>6}  {change.user}: {change.before_label()} -> {change.after_label()}"
                                  f"  ({change.get_kind_display()}; waits for {who_confirms(change)})")
            self.stdout.write(f"{pending.count()} pending.")
            return
        change = pending.filter(pk=change_id).first()
        if change is None:
            raise CommandError(f"No pending membership change {change_id}.")
        verb = "confirm" if confirm else "reject"
        summary = f"{change.user}: {change.before_label()} -> {change.after_label()}"
        if dry_run:
            self.stdout.write(f"Would {verb} change {change.pk} ({summary}).")
            return
        try:
            services.membership_change_decide(actor=None, change_id=change.pk, confirm=bool(confirm))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"Change {change.pk} {verb}ed ({summary})."))
