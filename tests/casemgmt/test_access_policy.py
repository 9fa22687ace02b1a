"""Deny by default: every URL has a policy entry, and the access matrix holds for every role.

The platform's URLs are listed here; each app lists its own in ``tests/<app>/access_cases.py``
(tests/access_matrix.py), found and run here for every actor. Object URLs of another organisation must
answer 404.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from casemgmt import access
from casemgmt.roles import Role
from tests.access_matrix import ROLE_OF_ACTOR, Case, app_case_modules, url
from tests.conftest import sign_in


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


PLATFORM_CASES = [
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
    Case("staff_changes", url("staff_changes")),
    Case("staff_change_decide", url("staff_change_decide", lambda o: o["membership_change"].pk), ok=405),  # POST
    Case("audit_events", url("audit_events")),
    Case("audit_verify", url("audit_verify"), ok=405),  # verifying is a POST
    Case("membership_changes", url("membership_changes")),
    Case("key_status", url("key_status")),
    Case("admin:index", url("admin:index")),
    Case("admin:casemgmt_organisation_changelist", url("admin:casemgmt_organisation_changelist")),
    Case("admin:casemgmt_organisation_add", url("admin:casemgmt_organisation_add")),
    Case("admin:casemgmt_organisation_change",
         url("admin:casemgmt_organisation_change", lambda o: o["centre_a"].pk)),
    Case("admin:casemgmt_membership_changelist", url("admin:casemgmt_membership_changelist")),
    Case("admin:casemgmt_membershipchange_changelist", url("admin:casemgmt_membershipchange_changelist")),
    Case("admin:casemgmt_membershipchange_change",
         url("admin:casemgmt_membershipchange_change", lambda o: o["membership_change"].pk)),
    Case("admin:auth_user_changelist", url("admin:auth_user_changelist")),
    Case("admin:auth_user_add", url("admin:auth_user_add")),
    Case("admin:auth_user_change", url("admin:auth_user_change", lambda o: o["alice"].pk)),
    Case("admin:otp_totp_totpdevice_changelist", url("admin:otp_totp_totpdevice_changelist")),
    Case("admin:axes_accessattempt_changelist", url("admin:axes_accessattempt_changelist")),
]
APP_CASE_MODULES = app_case_modules()
CASES = [*PLATFORM_CASES, *(case for module in APP_CASE_MODULES for case in module.CASES)]


def test_the_matrix_covers_every_named_url_outside_the_admin():
    named = {name for name, namespace in walk(get_resolver().url_patterns) if name and namespace != "admin"}
    covered = {case.name for case in CASES}
    assert named - covered == set(), "add these URLs to the access matrix (tests/<app>/access_cases.py)"


def test_every_policy_row_is_exercised_once_and_names_a_url():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)), "a URL has two cases in the access matrix"
    rows = {name for name in access.POLICY if not name.endswith(":*")}
    assert rows - set(names) == set(), "policy rows without a case in the access matrix"
    resolvable = {name for name, _namespace in walk(get_resolver().url_patterns) if name}
    assert rows - resolvable == set(), "policy rows for URLs that do not exist"


def test_a_url_name_cannot_get_a_second_policy_row():
    with pytest.raises(ValueError, match="already has an access policy row"):
        access.register_policy("clients", {"detail": access.only("auditor")})
    access.register_policy("clients", {"detail": access.POLICY["clients:detail"]})  # the same row again: kept


@pytest.fixture
def objects(actors, centre_a, centre_b, prison, partner, ministry):
    from casemgmt import services
    from tests.factories import UserFactory

    change = services.membership_change_propose(actor=actors["sam"], user=UserFactory(username="newcomer"),
                                                organisation=centre_a, role=Role.COUNSELLOR)
    base = {**actors, "centre_a": centre_a, "centre_b": centre_b, "prison": prison, "partner": partner,
            "ministry": ministry, "membership_change": change}
    for module in APP_CASE_MODULES:
        base.update(module.objects(base))
    return base


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
