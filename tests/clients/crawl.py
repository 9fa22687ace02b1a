"""What the case file's pages may show in the crawl (tests/crawl.py): care staff see the identity of the clients
they hold (a counsellor their caseload, a centre manager their centre); nobody else sees any client."""

from __future__ import annotations

from casemgmt.roles import Role
from tests.crawl import IDENTITY_FIELDS


def may_see(*, actor, user, canary, world):
    client = canary.client
    membership = user.membership
    if client.organisation_id != membership.organisation_id:
        return ()
    if membership.role == Role.CENTRE_MANAGER:
        return IDENTITY_FIELDS
    if membership.role == Role.COUNSELLOR and client.counsellor_id == user.pk:
        return IDENTITY_FIELDS
    return ()
