"""The daily digest of overdue referrals (referrals/notifications.py), once a day per recipient."""

from __future__ import annotations

import datetime

from django.core.management.base import CommandError
from django.utils import timezone

from casemgmt.management.base import AuditedCommand
from referrals import notifications


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be a date as YYYY-MM-DD, not {value!r}.") from None


class Command(AuditedCommand):
    help = (
        "E-mail each partner's referral officers the number of their organisation's overdue referrals, and each "
        "sending counsellor the number of their own, with a link to sign in (never a client, a service or a reason). "
        "Once per recipient and local day: a second run on the same day sends nothing more. Run it every morning "
        "from cron or a systemd timer; it exits non-zero if an e-mail could not be sent (run it again to retry)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", type=_day, default=None, metavar="YYYY-MM-DD",
                            help="The day to count overdue referrals for (default: today, local time).")
        parser.add_argument("--dry-run", action="store_true",
                            help="Say who would get a digest, and with how many referrals; send nothing.")

    def handle(self, *args, date, dry_run, **options):
        day = date or timezone.localdate()
        run = notifications.send_overdue_digests(day=day, dry_run=dry_run)
        if dry_run:
            for user, count in run.planned:
                self.stdout.write(f"Would send {user.get_username()} ({user.membership.get_role_display()}): "
                                  f"{count} overdue.")
            self.stdout.write(f"{len(run.planned)} digest(s) for {day.isoformat()}, {run.already} of them sent "
                              "already.")
            return
        self.stdout.write(f"Digests for {day.isoformat()}: {run.sent} sent, {run.already} sent already, "
                          f"{run.failed} not sent.")
        if run.failed:
            raise CommandError(f"{run.failed} digest(s) could not be sent; run the command again to retry them.")
