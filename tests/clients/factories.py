"""Factories of the case file: obviously synthetic clients and their records."""

from __future__ import annotations


def client_identity(**overrides) -> dict:
    """Identity fields of an obviously synthetic client."""
    import datetime

    identity = {
        "given_name": "Testdara", "family_name": "Synthsok", "other_names": "",
        "date_of_birth": datetime.date(1990, 1, 2),
        "phone": "012 345 678", "village": "Test village", "commune": "Test commune", "district": "Test district",
        "national_id": None, "mother_first_name": "Srey", "father_first_name": "Dara", "sex": "M", "province": "KH-12",
    }
    identity.update(overrides)
    return identity


def screening_answers(**used: dict) -> dict:
    """ASSIST answers: every substance never used, except those given (substance=answers)."""
    from clients import assist

    return {substance: used.get(substance, {"q1": "no"}) for substance in assist.SUBSTANCES}


def case_file(*, counsellor, organisation, prison, requester) -> dict:
    """A client at ``organisation`` on ``counsellor``'s caseload, with one record of each kind."""
    import datetime

    from clients import services

    client = services.client_register(actor=counsellor, organisation=organisation, identity=client_identity())
    consent = services.consent_record(actor=counsellor, client=client, kind="treatment",
                                      given_on=datetime.date(2026, 1, 5), method="signed")
    screening = services.screening_record(
        actor=counsellor, client=client, screened_on=datetime.date(2026, 1, 6),
        answers=screening_answers(alcohol={"q1": "yes", "q2": "weekly", "q3": "weekly", "q4": "monthly",
                                           "q5": "never", "q6": "yes_recent", "q7": "no"}),
        q8="no", intake={"hiv_status": "never_tested"},
    )
    episode = services.custody_admit(actor=counsellor, client=client, facility=prison,
                                     admitted_on=datetime.date(2026, 2, 1))
    transfer = services.transfer_request_create(actor=requester, client=client)
    return {"client": client, "consent": consent, "screening": screening, "episode": episode, "transfer": transfer}
