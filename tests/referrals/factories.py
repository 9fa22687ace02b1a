"""Factories of the referral loop: partner services, sharing consents, referrals in any state."""

from __future__ import annotations

import datetime

ALL_CATEGORIES = ["contact", "hiv_status", "identity", "treatment"]


def partner_service(*, organisation, **overrides):
    from referrals.models import PartnerService

    values = {"service_type": "hiv_testing", "province": "KH-12", "district": "Test district",
              "hours": "Mon–Fri 08:00–17:00", "contact": "Test desk 023 000 000", "languages": "Khmer, English",
              "eligibility": "Adults", "cost": "Free", "target_days": 7}
    values.update(overrides)
    service = PartnerService(organisation=organisation, **values)
    service.full_clean()
    service.save()
    return service


def client_with_history(*, counsellor, organisation, **identity):
    """A client with a treatment consent and a screening (HIV positive, on ART), on ``counsellor``'s caseload."""
    from clients import services
    from tests.clients.factories import client_identity, screening_answers

    client = services.client_register(actor=counsellor, organisation=organisation,
                                      identity=client_identity(**identity))
    services.consent_record(actor=counsellor, client=client, kind="treatment", given_on=datetime.date(2026, 1, 5),
                            method="signed")
    services.screening_record(actor=counsellor, client=client, screened_on=datetime.date(2026, 1, 6),
                              answers=screening_answers(), q8="no", intake={"hiv_status": "positive_art"})
    return client


def sharing_consent(*, counsellor, client, partner, categories=ALL_CATEGORIES, given_on=None):
    from clients import services

    return services.consent_record(actor=counsellor, client=client, kind="sharing", partner=partner,
                                   purpose="Referral for testing (synthetic)", categories=categories,
                                   given_on=given_on or datetime.date(2026, 1, 5), method="signed")


def referral(*, counsellor, client, service, consent, categories=ALL_CATEGORIES, send=True, reason="Zqreason",
             **kwargs):
    from referrals import services

    made = services.referral_create(actor=counsellor, client=client, service=service, consent=consent,
                                    categories=categories, reason=reason, **kwargs)
    if send:
        made = services.referral_send(actor=counsellor, referral=made)
    return made


def referral_setup(*, counsellor, organisation, partner, categories=ALL_CATEGORIES) -> dict:
    client = client_with_history(counsellor=counsellor, organisation=organisation)
    service = partner_service(organisation=partner)
    consent = sharing_consent(counsellor=counsellor, client=client, partner=partner, categories=categories)
    sent = referral(counsellor=counsellor, client=client, service=service, consent=consent, categories=categories)
    return {"client": client, "service": service, "sharing_consent": consent, "referral": sent}
