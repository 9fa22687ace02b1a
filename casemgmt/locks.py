"""Locks that make a uniqueness check and the save after it one step, when two writers come at once.

A blind index is truncated on purpose (crypto.blind_index_bits): different people share each value, so a
unique constraint on it would refuse them. Instead a write that must be unique takes a lock on the
index values it is about to check, for the rest of its transaction; a second write of the same values waits,
then checks again and sees the first one's row (PostgreSQL's READ COMMITTED takes a fresh snapshot for each
statement). Writes whose values only share an index value also take turns, briefly, and both go through.

PostgreSQL: ``pg_advisory_xact_lock``, released when the transaction ends (commit or rollback). The lock key
is a digest of the scope and the (already truncated) index value, so ``pg_locks`` shows no more than the
index column does. SQLite: every transaction is IMMEDIATE (settings.py), so a writer already holds the
database's write lock from its first statement to its end; nothing more to take.
"""

from __future__ import annotations

from hashlib import sha256

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.db.transaction import TransactionManagementError

from casemgmt import crypto

# Scopes of the rules that a unique constraint holds too, but whose check (a form's, a service's) must see the
# other write to give its own message rather than an IntegrityError: the check and the save take turns.
ORGANISATION_NAME = "casemgmt.organisation.name"
MEMBERSHIP_USER = "casemgmt.membership.user"
USERNAME = "auth.user.username"  # case-folded: the account form refuses names that differ only in case
# And one that no constraint holds: one authenticator being enrolled per user.
OTP_ENROLMENT = "otp_totp.totpdevice.unconfirmed"


def _key(scope: str, value) -> int:
    digest = sha256(f"casemgmt-lock|{scope}|{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def hold(scope: str, *values) -> None:
    """Lock each of ``values`` within ``scope`` until the current transaction ends."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("A uniqueness lock is held until the transaction ends: take it in one.")
    if connection.vendor == "sqlite":
        if connection.settings_dict.get("OPTIONS", {}).get("transaction_mode") != "IMMEDIATE":
            raise ImproperlyConfigured("SQLite needs IMMEDIATE transactions for its writers to take turns.")
        return
    if connection.vendor != "postgresql":
        raise ImproperlyConfigured(f"No uniqueness lock for {connection.vendor}: use PostgreSQL or SQLite.")
    keys = sorted({_key(scope, value) for value in values if value is not None})  # one order: no deadlock
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def hold_blind_index(model, index: str, *values) -> None:
    """Lock what a ``blind_search(index, *values)`` on ``model`` looks up: the value under every index key.

    While a blind-index rotation is under way two keys are configured, and a row may carry either one's
    value; two writers lock both, so they take turns whichever a row has.
    """
    field = model._meta.get_field(index)
    try:
        normalised = field.normalised(values)
    except (ValidationError, ValueError):  # as blind_search: a value that does not normalise matches nothing
        normalised = None
    candidates = [] if normalised is None else crypto.blind_index_candidates(field.index_name, normalised,
                                                                             bits=field.bits)
    hold(field.index_name, *candidates)
