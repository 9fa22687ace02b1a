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


def sent_back(made, *, days: int | None = None, at=None):
    """The referral as if sent ``days`` ago (or at the moment ``at``)."""
    from django.utils import timezone

    from referrals.models import Referral

    moment = at if at is not None else timezone.now() - datetime.timedelta(days=days or 0)
    Referral.objects.filter(pk=made.pk).update(sent_at=moment)
    return Referral.objects.select_related("service", "consent").get(pk=made.pk)


def attended(*, counsellor, organisation, partner, officer, service_type="hiv_testing", days_ago: int = 0,
             sent_at=None, categories=ALL_CATEGORIES, **identity):
    """A referral of a new client to a new service of ``partner``, sent (``days_ago``, or at ``sent_at``),
    accepted and attended: ready for its outcome."""
    from referrals import services
    from referrals.models import Referral

    client = client_with_history(counsellor=counsellor, organisation=organisation, **identity)
    service = partner_service(organisation=partner, service_type=service_type)
    consent = sharing_consent(counsellor=counsellor, client=client, partner=partner)
    made = referral(counsellor=counsellor, client=client, service=service, consent=consent, categories=categories)
    made = sent_back(made, days=days_ago, at=sent_at)
    services.referral_attend(actor=officer, referral=services.referral_accept(actor=officer, referral=made))
    return Referral.objects.select_related("service", "consent").get(pk=made.pk)
