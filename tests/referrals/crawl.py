"""The referral loop's records for the crawl (tests/crawl.py): canary alpha referred to the partner on the consent
the world gives it (identity and contact), so that the partner's inbox, the referral page and its FHIR file are
crawled.

What a partner's officer may see of a canary: what the referrals sent to their organisation share (identity: the
given name and the UIC; contact: the phone), while the consent they rest on stands."""

from __future__ import annotations

from casemgmt.roles import Role

FIELDS_OF = {"identity": ("given_name", "uic"), "contact": ("phone",)}


def objects(world: dict) -> None:
    from clients.models import ConsentKind
    from tests.referrals.factories import partner_service, referral

    alpha = world["canaries"]["alpha"].client
    consent = alpha.consents.get(kind=ConsentKind.SHARING)
    service = partner_service(organisation=world["organisations"]["partner"])
    referral(counsellor=world["actors"]["alice"], client=alpha, service=service, consent=consent,
             categories=consent.categories, reason="Synthetic crawl referral.")


def may_see(*, actor, user, canary, world):
    from referrals.models import Referral, ReferralStatus

    if user.membership.role != Role.REFERRAL_OFFICER:
        return ()
    shared = Referral.objects.filter(client=canary.client, to_organisation=user.membership.organisation,
                                     consent__revoked_on__isnull=True).exclude(status=ReferralStatus.DRAFT)
    return {name for categories in shared.values_list("shared_categories", flat=True) for category in categories
            for name in FIELDS_OF.get(category, ())}
