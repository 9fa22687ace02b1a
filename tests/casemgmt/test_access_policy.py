"""Deny by default: every URL has a policy entry, and the access matrix holds for every role.

Later features add their URLs to ``CASES``; object URLs of another
organisation join with their features (the platform has none yet) and must answer 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from casemgmt import access
from casemgmt.roles import Role
from tests.conftest import sign_in

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


def walk(patterns, namespace: str = ""):
    """Every URL pattern as (view name or None, namespace)."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else (
                pattern.namespace or namespace)
            yield from walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, namespace


def test_every_url_pattern_has_a_policy_entry():
    missing = []
    for name, namespace in walk(get_resolver().url_patterns):
        if name is None and not namespace:
            missing.append("an unnamed URL pattern (it cannot be given a policy)")
        elif access.rule_for(name or f"{namespace}:unnamed") is None:
            missing.append(name)
    assert missing == [], f"URLs without an access policy entry (nobody can reach them): {missing}"


def test_a_view_name_outside_the_policy_is_denied():
    assert access.rule_for("some_new_page") is None
    assert access.rule_for(None) is None
    assert access.rule_for("unknown:page") is None


@dataclass(frozen=True)
class Case:
    name: str
    path: Callable[[dict], str]
    ok: int = 200  # what an allowed role gets
    anonymous_ok: int = 200  # what anonymous users get on a public page
    ok_for: tuple[tuple[str, int], ...] = ()  # actors for whom an allowed outcome differs


OTHER_CENTRE_404 = (("bob", 404), ("nina", 404), ("pete", 404))


def url(name, *args):
    return lambda objects: reverse(name, args=[a(objects) if callable(a) else a for a in args])


CASES = [
    Case("signin", url("signin"), ok=302),  # signed-in users are sent on to their home page
    Case("set_language", url("set_language"), ok=302, anonymous_ok=302),  # GET only redirects; switching is a POST
    Case("favicon", url("favicon"), ok=301, anonymous_ok=301),  # to the static icon
    Case("signout", url("signout"), ok=405),  # signing out is a POST
    Case("otp_verify", url("otp_verify"), ok=302),  # already verified: sent on
    # Already enrolled: sent to verification. Reviewer and auditor have no device: they may enrol.
    Case("otp_setup", url("otp_setup"), ok=302, ok_for=(("rita", 200), ("otto", 200))),
    Case("password_change", url("password_change")),
    Case("password_change_done", url("password_change_done")),
    Case("home", url("home")),
    Case("audit_events", url("audit_events")),
    Case("key_status", url("key_status")),
    Case("admin:index", url("admin:index")),
    Case("admin:casemgmt_organisation_changelist", url("admin:casemgmt_organisation_changelist")),
    Case("admin:casemgmt_organisation_add", url("admin:casemgmt_organisation_add")),
    Case("admin:casemgmt_organisation_change",
         url("admin:casemgmt_organisation_change", lambda o: o["centre_a"].pk)),
    Case("admin:casemgmt_membership_changelist", url("admin:casemgmt_membership_changelist")),
    Case("admin:auth_user_changelist", url("admin:auth_user_changelist")),
    Case("admin:auth_user_add", url("admin:auth_user_add")),
    Case("admin:auth_user_change", url("admin:auth_user_change", lambda o: o["alice"].pk)),
    Case("admin:otp_totp_totpdevice_changelist", url("admin:otp_totp_totpdevice_changelist")),
    Case("admin:axes_accessattempt_changelist", url("admin:axes_accessattempt_changelist")),
    # The case file
    Case("clients:caseload", url("clients:caseload")),
    Case("clients:search", url("clients:search")),
    Case("clients:register", url("clients:register")),
    Case("clients:releases", url("clients:releases")),
    Case("clients:transfers", url("clients:transfers")),
    Case("clients:transfer_request", url("clients:transfer_request"), ok=405),  # a POST from the duplicate page
    Case("clients:transfer_decide", url("clients:transfer_decide", lambda o: o["transfer"].pk), ok=405),  # POST
    # Objects of centre A: another centre's staff get 404, exactly as for a missing record.
    *[
        Case(name, url(name, *args), ok_for=OTHER_CENTRE_404)
        for name, args in [
            ("clients:detail", [lambda o: o["client"].pk]),
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

def test_the_matrix_covers_every_named_url_outside_the_admin():
    named = {name for name, namespace in walk(get_resolver().url_patterns) if name and namespace != "admin"}
    covered = {case.name for case in CASES}
    assert named - covered == set(), "add these URLs to the access matrix"


@pytest.fixture
def objects(actors, centre_a, centre_b, prison):
    from tests.factories import case_file

    return {**actors, "centre_a": centre_a, "centre_b": centre_b,
            **case_file(counsellor=actors["alice"], organisation=centre_a, prison=prison,
                        requester=actors["bob"])}


def expected_status(case: Case, actor: str | None) -> int:
    rule = access.rule_for(case.name)
    role = ROLE_OF_ACTOR.get(actor)
    ok = dict(case.ok_for).get(actor, case.ok)
    if rule.public:
        return ok if role else case.anonymous_ok
    if role is None:
        return 302
    return ok if rule.allows(role) else 403


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_access_matrix(client, objects, case):
    path = case.path(objects)
    outcomes = {}
    response = client.get(path)
    outcomes["anonymous"] = response.status_code
    if not access.rule_for(case.name).public:
        assert response.status_code == 302
        assert response.url.startswith(reverse("signin") + "?next="), "anonymous users are sent to sign in"
    for actor in ROLE_OF_ACTOR:
        client.logout()
        sign_in(client, objects[actor])
        outcomes[actor] = client.get(path).status_code
    expected = {"anonymous": expected_status(case, None)}
    expected |= {actor: expected_status(case, actor) for actor in ROLE_OF_ACTOR}
    assert outcomes == expected


def test_a_refused_page_is_audited_and_reveals_nothing(client, alice):
    from casemgmt.models import AuditEvent

    sign_in(client, alice)
    response = client.get(reverse("audit_events"))
    assert response.status_code == 403
    assert b"Your role does not allow this page" in response.content
    event = AuditEvent.objects.filter(action="access_denied").latest("seq")
    assert event.actor_username == "alice"
    assert event.object_id == reverse("audit_events")


def test_unknown_url_is_a_plain_not_found_page(client, alice):
    sign_in(client, alice)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"There is nothing here" in response.content
