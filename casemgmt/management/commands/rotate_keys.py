
from casemgmt import audit, crypto, rotation
from casemgmt.management.base import AuditedCommand
from casemgmt.models import AuditAction


class Command(AuditedCommand):
    help = (
        "Re-wrap every data key under the active key-encryption key, in batches (one transaction each). "
        "Safe while the site serves; interrupt it at any time and run it again to resume; running it twice "
        "does no harm. Afterwards the old KEK can be removed from the configuration. With --blind-index, "
        "recompute every blind index under the active blind-index key instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--blind-index", action="store_true", help="Recompute blind indexes.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be done; change nothing.")

    def _progress(self, progress: rotation.Progress) -> None:
        self.stdout.write(
            f"  {progress.done:,}/{progress.total:,}  {progress.rate:,.0f}/s  "
            f"about {progress.seconds_left:,.0f} s left"
        )

    def handle(self, *args, batch_size, blind_index, dry_run, **options):
        ring = crypto.keyring()
        if blind_index:
            if dry_run:
                self.stdout.write(f"Would recompute blind indexes under index key {ring.active_index_key}.")
                return
            count = rotation.rebuild_blind_indexes(batch_size=batch_size, on_progress=self._progress)
            audit.record(action=AuditAction.BLIND_INDEX_REBUILT, object_type="blind_index",
                         object_id=ring.active_index_key, reason=f"{count} rows")
            self.stdout.write(self.style.SUCCESS(f"Recomputed the blind indexes of {count:,} rows."))
            return
        pending = rotation.data_keys_to_rotate().count()
        if dry_run:
            self.stdout.write(f"{pending:,} data keys would be re-wrapped under {ring.active_kek}.")
            return
        self.stdout.write(f"Re-wrapping {pending:,} data keys under {ring.active_kek} ...")
        count = rotation.rewrap_data_keys(batch_size=batch_size, on_progress=self._progress)
        audit.record(action=AuditAction.KEY_ROTATED, object_type="kek", object_id=ring.active_kek,
                     reason=f"{count} data keys re-wrapped")
        left = rotation.data_keys_to_rotate().count()
        self.stdout.write(self.style.SUCCESS(
            f"Re-wrapped {count:,} data keys. {left:,} remain under other keys."
            + (" The old key-encryption keys can now be retired." if not left else "")
        ))
