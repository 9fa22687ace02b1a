"""The reports for the crawl (tests/crawl.py): a reviewer and a manager reach the dashboard (the reviewer's home),
the full report, the definitions and every CSV file from links; the canary clients of the crawl's world are
counted in them. Reports show no identity to anyone: nothing is allowed here (``may_see`` gives nothing), so a
canary's name, UIC, phone or national ID on any of these pages is a leak."""

from __future__ import annotations


def may_see(*, actor, user, canary, world):
    return ()
