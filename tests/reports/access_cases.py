"""The reports' rows of the access matrix (tests/access_matrix.py): MoH reviewers and centre managers; counsellors,
referral officers, auditors and administrators are refused (403). No URL names a record: nothing answers 404 by
organisation here (a scope outside a reviewer's province is tests/reports/test_scope.py's)."""

from __future__ import annotations

from tests.access_matrix import Case, url


def objects(base: dict) -> dict:
    return {}


CASES = [
    Case("reports:dashboard", url("reports:dashboard")),
    Case("reports:report", url("reports:report")),
    Case("reports:definitions", url("reports:definitions")),
    Case("reports:report_csv", url("reports:report_csv")),
    Case("reports:table_csv", url("reports:table_csv", "rf-service")),
    Case("reports:report_pdf", url("reports:report_pdf")),
]
