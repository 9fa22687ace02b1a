"""Start-up checks: the keys must be there and sound before any page is served."""

from django.core import checks

from casemgmt.encryption import crypto


@checks.register("casemgmt")
def keys_configured(app_configs=None, **kwargs):
    try:
        crypto.reset_keyring()
        crypto.keyring()
    except crypto.KeyConfigurationError as exc:
        return [
            checks.Error(
                str(exc),
                hint="Keys come from CASEMGMT_KEY_FILE or CASEMGMT_KEKS / CASEMGMT_ACTIVE_KEK / CASEMGMT_INDEX_KEYS / "
                "CASEMGMT_ACTIVE_INDEX_KEY / CASEMGMT_AUDIT_KEY; `manage.py generate_keys` makes a key file.",
                id="casemgmt.E001",
            )
        ]
    return []


@checks.register("casemgmt")
def keys_unwrap_stored_data_keys(app_configs=None, **kwargs):
    """Every KEK that wraps stored data keys must be configured, and be the right key."""
    from django.db import DatabaseError

    from casemgmt.models import DataKey

    try:
        ring = crypto.keyring()
    except crypto.KeyConfigurationError:
        return []  # reported by keys_configured
    errors = []
    try:
        kek_ids = list(
            DataKey.objects.filter(destroyed_at__isnull=True).values_list("kek_id", flat=True).distinct()
        )
        for kek_id in sorted(kek_ids):
            if kek_id not in ring.keks:
                errors.append(
                    checks.Error(
                        f"Data keys are wrapped under key-encryption key {kek_id!r}, which is not configured.",
                        hint="Add it back to the configuration, or finish `manage.py rotate_keys` before retiring it.",
                        id="casemgmt.E002",
                    )
                )
                continue
            sample = DataKey.objects.filter(destroyed_at__isnull=True, kek_id=kek_id).first()
            try:
                crypto.unwrap_data_key(sample.subject_id, sample.wrapped_key, kek_id, ring)
            except crypto.DecryptionFailed:
                errors.append(
                    checks.Error(
                        f"Key-encryption key {kek_id!r} does not open the data keys stored under its id: "
                        "it is the wrong key.",
                        hint="Configure the key that was used when these data keys were written.",
                        id="casemgmt.E003",
                    )
                )
    except DatabaseError:
        return []  # no database yet (before the first migrate)
    return errors
