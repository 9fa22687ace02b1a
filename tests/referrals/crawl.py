"""Referrals' records for the crawl (tests/crawl.py): canary alpha referred to the partner for HIV testing (a
reactive test recorded, so that the partner's page offers the linkage to ART) and to legal aid for one of her
reintegration milestones; delta referred from the prison unit, still waiting. So the partner's inbox, the referral
pages, the centre's cascade and its lists, and the "Refer" links beside milestones are all crawled.

What a partner's officer may see of a canary: the categories shared on the referrals sent to their organisation
(identity: UIC and given name; contact: phone), unless the consent was withdrawn. Care staff: the case file's rule
(tests/clients/crawl.py)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from casemgmt.roles import Role
from clients.models import ShareCategory

SHOWN = {ShareCategory.IDENTITY: ("uic", "given_name"), ShareCategory.CONTACT: ("phone",)}


def objects(world: dict) -> None:
    from plans import services as plan_services
    from referrals import services
    from tests.referrals.factories import partner_service

    actors, canaries, partner = world["actors"], world["canaries"], world["organisations"]["partner"]
    alice, pete, priya = actors["alice"], actors["pete"], actors["priya"]
    alpha, delta = canaries["alpha"].client, canaries["delta"].client
    today = timezone.localdate()
    consent = alpha.consents.get(kind="sharing")
    testing = partner_service(organisation=partner, service_type="hiv_testing")
    made = services.referral_create(actor=alice, client=alpha, service=testing, consent=consent,
                                    categories=["identity", "contact"], reason="Synthetic crawl reason.")
    made = services.referral_send(actor=alice, referral=made)
    made = services.referral_attend(actor=priya, referral=services.referral_accept(actor=priya, referral=made))
    services.referral_complete(actor=priya, referral=made, outcome="service_provided", results={
        "hiv_tested_on": today, "hiv_result": "reactive"})
    plan = plan_services.reintegration_open(actor=alice, client=alpha, summary="Synthetic crawl summary")
    milestone = plan_services.milestone_save(actor=alice, plan=plan, values={
        "domain": "legal", "description": "Synthetic crawl milestone", "notes": "",
        "target_on": today + datetime.timedelta(days=20), "achieved_on": None})
    services.referral_send(actor=alice, referral=services.referral_create(
        actor=alice, client=alpha, service=partner_service(organisation=partner, service_type="legal_aid"),
        consent=consent, categories=["identity"], reason="Synthetic crawl reason.", milestone=milestone))
    prison_consent = _sharing_consent(pete, delta, partner, today)
    services.referral_send(actor=pete, referral=services.referral_create(
        actor=pete, client=delta, service=testing, consent=prison_consent, categories=["contact"],
        reason="Synthetic crawl reason."))


def _sharing_consent(actor, client, partner, today):
    from clients import services as client_services

    return client_services.consent_record(actor=actor, client=client, kind="sharing", partner=partner,
                                          purpose="HIV testing", categories=["contact"], method="signed",
                                          given_on=today - datetime.timedelta(days=10))


def may_see(*, actor, user, canary, world):
    from referrals.models import Referral

    if user.membership.role != Role.REFERRAL_OFFICER:
        return ()
    shared = set()
    for categories in Referral.objects.filter(
            client=canary.client, to_organisation=user.membership.organisation_id,
            consent__revoked_on__isnull=True).exclude(status="draft").values_list("shared_categories", flat=True):
        shared.update(categories)
    return [name for category in shared for name in SHOWN.get(category, ())]
