"""Counselling's rows of the access matrix (tests/access_matrix.py): care staff only; another centre's records
answer 404, exactly as missing ones."""

from __future__ import annotations

from tests.access_matrix import OTHER_CENTRE_404, Case, url


def objects(base: dict) -> dict:
    from tests.counselling.factories import counselling_records

    return counselling_records(counsellor=base["alice"], organisation=base["centre_a"])


CASES = [
    Case("counselling:sessions", url("counselling:sessions")),
    Case("counselling:group_new", url("counselling:group_new")),
    Case("counselling:flags", url("counselling:flags")),
    Case("counselling:tasks", url("counselling:tasks")),
    Case("counselling:not_seen", url("counselling:not_seen")),
    Case("counselling:task_done", url("counselling:task_done", lambda o: o["counselling_task"].pk), ok=405),  # POST
    *[
        Case(name, url(name, *args), ok_for=OTHER_CENTRE_404)
        for name, args in [
            ("counselling:session", [lambda o: o["counselling_session"].pk]),
            ("counselling:session_record", [lambda o: o["counselling_group"].pk]),
            ("counselling:note_edit", [lambda o: o["counselling_session"].pk,
                                       lambda o: o["counselling_participant"].pk]),
            ("counselling:session_add", [lambda o: o["counselling_client"].pk]),
            ("counselling:appointment_add", [lambda o: o["counselling_client"].pk]),
            ("counselling:client_sessions", [lambda o: o["counselling_client"].pk]),
            ("counselling:flag_resolve", [lambda o: o["counselling_client"].pk, lambda o: o["counselling_flag"].pk]),
        ]
    ],
]
