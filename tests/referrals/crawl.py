"""The referral loop's records for the crawl (tests/crawl.py): a referral of alpha to the partner, sharing what alpha's
sharing consent covers (identity and contact), so that the partner's inbox, its lists and the referral page show
something. A referral officer may see of a client what the referrals sent to their organisation share."""

from __future__ import annotations

from casemgmt.roles import Role
from clients.models import ConsentKind, ShareCategory

SHOWN = {ShareCategory.IDENTITY: ("uic", "given_name"), ShareCategory.CONTACT: ("phone",)}


def objects(world: dict) -> None:
    from tests.referrals.factories import partner_service, referral

    alice, client = world["actors"]["alice"], world["canaries"]["alpha"].client
    consent = client.consents.get(kind=ConsentKind.SHARING)
    referral(counsellor=alice, client=client, service=partner_service(organisation=world["organisations"]["partner"]),
             consent=consent, categories=list(consent.categories))


def may_see(*, actor, user, canary, world):
    from referrals.models import Referral, ReferralStatus

    if user.membership.role != Role.REFERRAL_OFFICER:
        return ()
    shared = Referral.objects.filter(client=canary.client, to_organisation_id=user.membership.organisation_id,
                                     consent__revoked_on__isnull=True).exclude(
        status=ReferralStatus.DRAFT).values_list("shared_categories", flat=True)
    return {name for categories in shared for category in categories for name in SHOWN.get(category, ())}
