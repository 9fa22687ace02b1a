"""The case file's rows of the access matrix (tests/access_matrix.py)."""

from __future__ import annotations

from tests.access_matrix import OTHER_CENTRE_404, Case, url


def objects(base: dict) -> dict:
    from tests.clients.factories import case_file

    return case_file(counsellor=base["alice"], organisation=base["centre_a"], prison=base["prison"],
                     requester=base["bob"])


CASES = [
    Case("clients:caseload", url("clients:caseload")),
    Case("clients:search", url("clients:search")),
    Case("clients:register", url("clients:register")),
    Case("clients:releases", url("clients:releases")),
    Case("clients:transfers", url("clients:transfers")),
    Case("clients:transfer_request", url("clients:transfer_request"), ok=405),  # a POST from the duplicate page
    Case("clients:transfer_decide", url("clients:transfer_decide", lambda o: o["transfer"].pk), ok=405),  # POST
    *[
        Case(name, url(name, *args), ok_for=OTHER_CENTRE_404)
        for name, args in [
            ("clients:detail", [lambda o: o["client"].pk]),
            ("clients:case_summary_pdf", [lambda o: o["client"].pk]),
            ("clients:edit_identity", [lambda o: o["client"].pk]),
            ("clients:consent_add", [lambda o: o["client"].pk]),
            ("clients:consent_revoke", [lambda o: o["client"].pk, lambda o: o["consent"].pk]),
            ("clients:screening_add", [lambda o: o["client"].pk]),
            ("clients:screening", [lambda o: o["client"].pk, lambda o: o["screening"].pk]),
            ("clients:custody_add", [lambda o: o["client"].pk]),
            ("clients:custody_release", [lambda o: o["client"].pk, lambda o: o["episode"].pk]),
            ("clients:assign", [lambda o: o["client"].pk]),
            ("clients:transfer", [lambda o: o["client"].pk]),
        ]
    ],
]
