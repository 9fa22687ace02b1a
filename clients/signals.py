"""Signals clients sends, for apps that build on the case file (clients never imports them)."""

from django.dispatch import Signal

# Sent inside consent_revoke's transaction, with ``consent`` and ``actor``: referrals resting on it end at once.
consent_revoked = Signal()
