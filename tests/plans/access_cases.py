"""The plans' rows of the access matrix (tests/access_matrix.py): every plan URL, for every role.

Plans are the client's: their counsellor (alice) and the centre's managers (mona) reach them; another centre's
staff get 404 as for a missing plan; partners, reviewers, auditors and administrators are refused (403).
"""

from __future__ import annotations

from tests.access_matrix import OTHER_CENTRE_404, Case, url


def objects(base: dict) -> dict:
    from tests.clients.helpers import make_client
    from tests.plans.factories import plans_file

    client = make_client(actor=base["alice"], organisation=base["centre_a"], n=41)
    return {"plans_client": client, **plans_file(counsellor=base["alice"], manager=base["mona"], client=client)}


def _client(o):
    return o["plans_client"].pk


def _draft(o):
    return o["draft_plan"].pk


def _submitted(o):
    return o["submitted_plan"].pk


def _reintegration(o):
    return o["reintegration_plan"].pk


CASES = [
    *[
        Case(name, url(name, *args), ok_for=OTHER_CENTRE_404)
        for name, args in [
            ("plans:treatment_new", [_client]),
            ("plans:treatment_detail", [_draft]),
            ("plans:treatment_edit", [_draft]),
            ("plans:goal_add", [_draft]),
            ("plans:goal_edit", [_draft, lambda o: o["goal"].pk]),
            ("plans:treatment_decide", [_submitted]),  # managers only: counsellors get 403
            ("plans:treatment_continue", [_draft]),
            ("plans:treatment_close", [_draft]),
            ("plans:revision_detail", [_submitted, 1]),
            ("plans:treatment_pdf", [_draft]),
            ("plans:reintegration_new", [_client]),
            ("plans:reintegration_detail", [_reintegration]),
            ("plans:milestone_add", [_reintegration]),
            ("plans:milestone_edit", [_reintegration, lambda o: o["milestone"].pk]),
            ("plans:reintegration_pdf", [_reintegration]),
        ]
    ],
    # POST only: a GET is 405 for the roles the row allows (before any lookup), 403 for the others.
    *[
        Case(name, url(name, *args), ok=405)
        for name, args in [
            ("plans:goal_remove", [_draft, lambda o: o["goal"].pk]),
            ("plans:treatment_submit", [_draft]),
            ("plans:treatment_withdraw", [_submitted]),
            ("plans:treatment_activate", [_submitted]),
            ("plans:treatment_start_review", [_submitted]),
            ("plans:reintegration_close", [_reintegration]),
        ]
    ],
]
