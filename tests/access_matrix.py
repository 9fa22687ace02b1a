"""The access matrix's vocabulary, shared by the platform's test and each app's cases.

An app lists the cases of its URLs in ``tests/<app>/access_cases.py``: ``CASES`` (a ``Case`` per named
URL) and ``objects(base)``, which makes the records its URLs need from ``base`` (the named actors and
organisations) and returns them in a dict. ``tests/casemgmt/test_access_policy.py`` finds every such module,
so that a new app's URLs join the matrix without a line changed in the platform's tests.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from casemgmt.roles import Role

ROLE_OF_ACTOR = {
    "alice": Role.COUNSELLOR,
    "mona": Role.CENTRE_MANAGER,
    "bob": Role.COUNSELLOR,
    "nina": Role.CENTRE_MANAGER,
    "pete": Role.COUNSELLOR,
    "priya": Role.REFERRAL_OFFICER,
    "rita": Role.MOH_REVIEWER,
    "otto": Role.AUDITOR,
    "sam": Role.SYSTEM_ADMINISTRATOR,
}


@dataclass(frozen=True)
class Case:
    name: str
    path: Callable[[dict], str]
    ok: int = 200  # what an allowed role gets
    anonymous_ok: int = 200  # what anonymous users get on a public page
    ok_for: tuple[tuple[str, int], ...] = ()  # actors for whom an allowed outcome differs


# Records of centre A: another centre's staff get 404, exactly as for a missing record.
OTHER_CENTRE_404 = (("bob", 404), ("nina", 404), ("pete", 404))


def url(name, *args):
    return lambda objects: reverse(name, args=[a(objects) if callable(a) else a for a in args])


def app_case_modules() -> list:
    """Every ``tests.<package>.access_cases`` module."""
    import tests

    modules = []
    for info in pkgutil.iter_modules(tests.__path__):
        if info.ispkg:
            try:
                modules.append(importlib.import_module(f"tests.{info.name}.access_cases"))
            except ModuleNotFoundError as exc:
                if exc.name != f"tests.{info.name}.access_cases":
                    raise
    return modules
