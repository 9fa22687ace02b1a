"""The referral loop's records for the crawl (tests/crawl.py): canary alpha (alice's, with a sharing consent for
the partner covering identity and contact) referred to the partner, so that priya's inbox, the referral's page
and the client's "who received this client's information" section show something.

What priya may see: the shared values of the referrals sent to her organisation and nothing else. Identity shares
the UIC and the given name, contact the phone (referrals.selectors.shared_view); after a consent withdrawal,
nothing. Care staff see what the case file's rule lets them (tests/clients/crawl.py): referrals add none."""

from __future__ import annotations

from casemgmt.roles import Role
from clients.models import ConsentKind, ShareCategory

FIELDS_OF_CATEGORY = {
    ShareCategory.IDENTITY: ("uic", "given_name"),
    ShareCategory.CONTACT: ("phone",),
}


def objects(world: dict) -> None:
    from tests.referrals.factories import partner_service, referral

    alice, alpha = world["actors"]["alice"], world["canaries"]["alpha"].client
    consent = alpha.consents.get(kind=ConsentKind.SHARING)
    service = partner_service(organisation=world["organisations"]["partner"])
    referral(counsellor=alice, client=alpha, service=service, consent=consent, categories=consent.categories,
             reason="Synthetic crawl referral")


def may_see(*, actor, user, canary, world):
    from referrals.models import Referral

    membership = user.membership
    if membership.role != Role.REFERRAL_OFFICER:
        return ()
    sent = Referral.objects.filter(client=canary.client, to_organisation=membership.organisation,
                                   sent_at__isnull=False, consent__revoked_on__isnull=True)
    return {name for referral in sent for category in referral.shared_categories
            for name in FIELDS_OF_CATEGORY.get(category, ())}
