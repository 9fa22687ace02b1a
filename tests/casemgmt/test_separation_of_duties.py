"""Separation of duties: no account widens its own access, and a role with client data needs a second person.

The finding: an administrator made themselves centre manager of a treatment centre in the administration
site and opened its clients' pages. Now nobody changes their own membership, resets their own second
factor or deactivates themselves; a confirmed role (counsellor, centre manager, referral officer,
administrator) takes effect only when a centre manager of the organisation (or, for the rest and for a
first manager, a second administrator) confirms it; every change is listed with what it was and what it
became; the subject's sessions end.
"""

from __future__ import annotations

import io
import threading
import time
from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django_otp.plugins.otp_totp.models import TOTPDevice

from casemgmt import access, audit, services
from casemgmt.forms import ERROR_AWAITING_CONFIRMATION
from casemgmt.middleware import MESSAGE_MEMBERSHIP_CHANGED
from casemgmt.models import AuditEvent, Membership, MembershipChange
from casemgmt.roles import Role
from tests.clients.helpers import detail_url, make_client
from tests.conftest import PASSWORD, sign_in
from tests.factories import UserFactory, member

pytestmark = pytest.mark.django_db

STAFF = reverse("staff_changes")
CHANGES_ADMIN = reverse("admin:casemgmt_membershipchange_changelist")
NEW_PASSWORD = "another synthetic passphrase 31"


@pytest.fixture
def sam2(ministry):
    """A second system administrator."""
    return member("sam2", Role.SYSTEM_ADMINISTRATOR, ministry)


@pytest.fixture
def mona2(centre_a):
    """A second centre manager at centre A."""
    return member("mona2", Role.CENTRE_MANAGER, centre_a)


@pytest.fixture
def case(alice, centre_a):
    return make_client(actor=alice, organisation=centre_a, n=1)


def as_user(user, *, verified: bool = True) -> Client:
    return sign_in(Client(), user, verified=verified)


def propose(browser, user, organisation, role):
    """The administrator's form: a new membership, or a change of the one in effect."""
    membership = Membership.objects.filter(user=user).first()
    if membership is None:
        return browser.post(reverse("admin:casemgmt_membership_add"),
                            {"user": user.pk, "organisation": organisation.pk, "role": role}, follow=True)
    return browser.post(reverse("admin:casemgmt_membership_change", args=[membership.pk]),
                        {"organisation": organisation.pk, "role": role}, follow=True)


def admin_action(browser, changelist: str, action: str, *objects):
    return browser.post(reverse(changelist), {"action": action, "_selected_action": [o.pk for o in objects]},
                        follow=True)


def account_data(user, **fields) -> dict:
    """POST data of the account's change form, with its (read-only) membership inline."""
    membership = Membership.objects.filter(user=user).first()
    count = "1" if membership else "0"
    data = {"username": user.username, "first_name": "", "last_name": "", "email": "", "is_active": "on",
            "membership-TOTAL_FORMS": count, "membership-INITIAL_FORMS": count,
            "membership-MIN_NUM_FORMS": "0", "membership-MAX_NUM_FORMS": "1"}
    if membership:
        data |= {"membership-0-id": membership.pk, "membership-0-user": user.pk}
    return data | fields


def decide(browser, change, decision="confirm"):
    return browser.post(reverse("staff_change_decide", args=[change.pk]), {"decision": decision}, follow=True)


def pending_for(user) -> MembershipChange:
    return MembershipChange.objects.get(user=user, status="pending")


def role_and_org(user):
    membership = Membership.objects.select_related("organisation").filter(user=user).first()
    return (membership.role, membership.organisation.name, membership.suspended) if membership else None


def denied(actor) -> list[str]:
    return list(AuditEvent.objects.filter(action="access_denied", actor_username=actor.username)
                .values_list("reason", flat=True))


def test_the_finding_an_administrator_cannot_make_themselves_centre_manager(sam, centre_a, case):
    browser = as_user(sam)
    response = propose(browser, sam, centre_a, Role.CENTRE_MANAGER)
    assert escape(str(services.ERROR_OWN_MEMBERSHIP)) in response.content.decode()
    assert role_and_org(sam) == (Role.SYSTEM_ADMINISTRATOR, "Ministry (test)", False)
    assert not MembershipChange.objects.filter(user=sam, kind="proposal").exists()
    assert denied(sam) == ["separation of duties: own membership"]
    # Nor through the service, nor through the bootstrap path from a signed-in request.
    with pytest.raises(ValidationError):
        services.membership_change_propose(actor=sam, user=sam, organisation=centre_a, role=Role.CENTRE_MANAGER)
    with audit.actor_context(audit.Actor.from_user(sam)), pytest.raises(services.BootstrapOnly):
        services.membership_set(user=sam, organisation=centre_a, role=Role.CENTRE_MANAGER)
    assert role_and_org(sam) == (Role.SYSTEM_ADMINISTRATOR, "Ministry (test)", False)
    assert browser.get(detail_url(case)).status_code == 403  # still an administrator: no client page


def test_nobody_removes_resets_deactivates_or_sets_the_password_of_their_own_account(sam, sam2):
    browser = as_user(sam)
    membership = sam.membership
    assert browser.post(reverse("admin:casemgmt_membership_delete", args=[membership.pk]),
                        {"post": "yes"}).status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()

    response = admin_action(browser, "admin:auth_user_changelist", "reset_second_factor", sam)
    assert escape(str(services.ERROR_OWN_SECOND_FACTOR)) in response.content.decode()
    assert TOTPDevice.objects.filter(user=sam).exists()

    response = admin_action(browser, "admin:auth_user_changelist", "deactivate", sam)
    assert escape(str(services.ERROR_OWN_DEACTIVATION)) in response.content.decode()
    assert browser.post(reverse("admin:auth_user_change", args=[sam.pk]),
                        account_data(sam, is_active="")).status_code == 302
    sam.refresh_from_db()
    assert sam.is_active

    response = browser.post(reverse("admin:auth_user_password_change", args=[sam.pk]),
                            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True)
    assert escape(str(services.ERROR_OWN_PASSWORD)) in response.content.decode()
    sam.refresh_from_db()
    assert sam.check_password(PASSWORD)
    assert role_and_org(sam) == (Role.SYSTEM_ADMINISTRATOR, "Ministry (test)", False)
    assert sorted(denied(sam)) == ["separation of duties: own account deactivation",
                                   "separation of duties: own password", "separation of duties: own second factor"]
    # Another administrator may: the reset works on sam's account when sam2 runs it.
    admin_action(as_user(sam2), "admin:auth_user_changelist", "reset_second_factor", sam)
    assert not TOTPDevice.objects.filter(user=sam).exists()


def test_a_proposed_centre_manager_sees_nothing_until_a_manager_of_the_centre_confirms(
        sam, otto, mona, centre_a, case):
    otto_browser = as_user(otto)
    assert otto_browser.get(reverse("membership_changes")).status_code == 200

    response = propose(as_user(sam), otto, centre_a, Role.CENTRE_MANAGER)
    assert "It takes effect when a centre manager of Centre A (test) confirms it" in response.content.decode()
    change = pending_for(otto)
    assert (change.from_role, change.to_role, change.to_organisation) == (Role.AUDITOR, Role.CENTRE_MANAGER,
                                                                          centre_a)
    # Until then it grants nothing: otto is the auditor he was, in the same session.
    assert role_and_org(otto) == (Role.AUDITOR, "Ministry (test)", False)
    assert not otto.groups.filter(name=Role.CENTRE_MANAGER).exists()
    assert otto_browser.get(detail_url(case)).status_code == 403
    assert otto_browser.get(reverse("membership_changes")).status_code == 200

    mona_browser = as_user(mona)
    assert "otto" in mona_browser.get(reverse("home")).content.decode()  # "waiting for your confirmation"
    response = decide(mona_browser, change)
    assert "Confirmed: otto is now Centre manager · Centre A (test)." in response.content.decode()
    assert role_and_org(otto) == (Role.CENTRE_MANAGER, "Centre A (test)", False)

    # otto's session ended at once; signed in again (with a second factor, as a manager needs) he sees it.
    response = otto_browser.get(reverse("membership_changes"), follow=True)
    assert escape(str(MESSAGE_MEMBERSHIP_CHANGED)) in response.content.decode()
    assert otto_browser.get(detail_url(case)).status_code == 302
    TOTPDevice.objects.create(user=otto, name="test", confirmed=True)
    assert as_user(otto).get(detail_url(case)).status_code == 200


def test_a_counsellor_of_another_centre_gets_404_until_the_move_is_confirmed(sam, bob, mona, centre_a, case):
    bob_browser = as_user(bob)
    propose(as_user(sam), bob, centre_a, Role.COUNSELLOR)
    assert bob_browser.get(detail_url(case)).status_code == 404
    assert role_and_org(bob) == (Role.COUNSELLOR, "Centre B (test)", False)
    decide(as_user(mona), pending_for(bob))
    assert role_and_org(bob) == (Role.COUNSELLOR, "Centre A (test)", False)
    assert bob_browser.get(reverse("home")).status_code == 302  # the session ended


def test_a_new_account_with_only_a_proposed_role_cannot_sign_in_and_is_told_why(sam, mona, centre_a):
    newcomer = UserFactory(username="newcomer")
    propose(as_user(sam), newcomer, centre_a, Role.COUNSELLOR)
    assert not Membership.objects.filter(user=newcomer).exists()
    assert not newcomer.groups.exists()
    response = Client().post(reverse("signin"), {"username": "newcomer", "password": PASSWORD})
    assert response.status_code == 200
    assert escape(str(ERROR_AWAITING_CONFIRMATION)) in response.content.decode()
    # Even with a session (as if signed in before), no page but sign-in opens.
    assert as_user(newcomer).get(reverse("home")).status_code == 302
    decide(as_user(mona), pending_for(newcomer))
    assert Client().post(reverse("signin"), {"username": "newcomer", "password": PASSWORD}).status_code == 302


def test_the_proposer_cannot_confirm_and_a_first_manager_needs_a_second_administrator(
        sam, sam2, bob, centre_b, centre_a, mona):
    # Centre B has no manager (nina is not here): sam proposes bob as its first manager.
    sam_browser = as_user(sam)
    response = propose(sam_browser, bob, centre_b, Role.CENTRE_MANAGER)
    assert "It takes effect when another system administrator confirms it" in response.content.decode()
    change = pending_for(bob)
    assert f"{change.user}" in sam_browser.get(CHANGES_ADMIN + "?status__exact=pending").content.decode()

    response = admin_action(sam_browser, "admin:casemgmt_membershipchange_changelist", "confirm", change)
    assert escape(str(services.ERROR_PROPOSER)) in response.content.decode()
    assert pending_for(bob) == change
    assert denied(sam) == ["separation of duties: own proposal"]
    # A manager of another centre cannot confirm it either (the page answers 404).
    assert decide(as_user(mona), change).status_code == 404
    assert role_and_org(bob) == (Role.COUNSELLOR, "Centre B (test)", False)

    response = admin_action(as_user(sam2), "admin:casemgmt_membershipchange_changelist", "confirm", change)
    assert "Confirmed: 1 change." in response.content.decode()
    assert role_and_org(bob) == (Role.CENTRE_MANAGER, "Centre B (test)", False)
    change.refresh_from_db()
    assert (change.status, change.decided_by) == ("confirmed", sam2)


def test_a_second_administrator_cannot_overrule_a_centre_that_has_a_manager(sam, sam2, alice, mona, centre_a):
    newcomer = UserFactory(username="newcomer")
    propose(as_user(sam), newcomer, centre_a, Role.CENTRE_MANAGER)
    response = admin_action(as_user(sam2), "admin:casemgmt_membershipchange_changelist", "confirm",
                            pending_for(newcomer))
    assert escape(str(services.ERROR_NEEDS_MANAGER % {"organisation": centre_a})) in response.content.decode()
    assert not Membership.objects.filter(user=newcomer).exists()


@pytest.mark.parametrize("role, org", [(Role.REFERRAL_OFFICER, "partner"), (Role.SYSTEM_ADMINISTRATOR, "ministry")])
def test_referral_officers_and_administrators_are_confirmed_by_a_second_administrator(
        request, sam, sam2, role, org):
    organisation = request.getfixturevalue(org)
    newcomer = UserFactory(username="newcomer")
    propose(as_user(sam), newcomer, organisation, role)
    assert not Membership.objects.filter(user=newcomer).exists()
    admin_action(as_user(sam2), "admin:casemgmt_membershipchange_changelist", "confirm", pending_for(newcomer))
    assert role_and_org(newcomer)[0] == role


def test_roles_without_client_data_take_effect_at_once_and_are_listed(sam, bob, nina, otto, ministry):
    response = propose(as_user(sam), bob, ministry, Role.MOH_REVIEWER)
    assert "Bob is now MoH reviewer at Ministry (test)" in response.content.decode()  # the admin's capfirst
    assert role_and_org(bob) == (Role.MOH_REVIEWER, "Ministry (test)", False)
    change = MembershipChange.objects.get(user=bob, kind="proposal")
    assert change.status == "applied"
    # Centre B's manager sees bob leave; the auditor sees every change.
    assert "MoH reviewer · Ministry (test)" in as_user(nina).get(STAFF).content.decode()
    assert "MoH reviewer · Ministry (test)" in as_user(otto).get(reverse("membership_changes")).content.decode()


def test_changes_are_shown_to_the_centres_managers_and_to_auditors_only(sam, mona, nina, otto, centre_a):
    newcomer = UserFactory(username="newcomer")
    propose(as_user(sam), newcomer, centre_a, Role.COUNSELLOR)
    change = pending_for(newcomer)

    mona_page = as_user(mona).get(STAFF).content.decode()
    assert "newcomer" in mona_page and reverse("staff_change_decide", args=[change.pk]) in mona_page
    assert "Counsellor · Centre A (test)" in mona_page
    nina_browser = as_user(nina)
    assert "newcomer" not in nina_browser.get(STAFF).content.decode()
    assert "newcomer" not in nina_browser.get(reverse("home")).content.decode()
    assert decide(nina_browser, change).status_code == 404
    auditor_page = as_user(otto).get(reverse("membership_changes")).content.decode()
    assert "newcomer" in auditor_page and "Counsellor · Centre A (test)" in auditor_page
    assert "mona" in auditor_page  # the bootstrap of every account is listed too
    assert reverse("membership_changes") in as_user(otto).get(reverse("home")).content.decode()


def test_a_manager_cannot_decide_a_change_about_herself(sam, mona, mona2, centre_a):
    propose(as_user(sam), mona, centre_a, Role.COUNSELLOR)
    change = pending_for(mona)
    mona_browser = as_user(mona)
    page = mona_browser.get(STAFF).content.decode()
    assert "Waits for a centre manager of Centre A (test)." in page
    response = decide(mona_browser, change)
    assert escape(str(services.ERROR_OWN_CHANGE)) in response.content.decode()
    assert pending_for(mona) == change
    assert denied(mona) == ["separation of duties: own membership change"]
    decide(as_user(mona2), change)
    assert role_and_org(mona) == (Role.COUNSELLOR, "Centre A (test)", False)


def test_a_rejected_change_grants_nothing_and_a_cancelled_one_neither(sam, sam2, alice, mona, centre_a):
    propose(as_user(sam), alice, centre_a, Role.CENTRE_MANAGER)
    response = decide(as_user(mona), pending_for(alice), "reject")
    assert "Rejected: alice keeps what they had." in response.content.decode()
    assert role_and_org(alice) == (Role.COUNSELLOR, "Centre A (test)", False)

    propose(as_user(sam), alice, centre_a, Role.CENTRE_MANAGER)
    change = pending_for(alice)
    admin_action(as_user(sam2), "admin:casemgmt_membershipchange_changelist", "cancel", change)
    change.refresh_from_db()
    assert change.status == "cancelled"
    assert decide(as_user(mona), change).content.decode().count(escape(str(services.ERROR_NOT_PENDING))) == 1
    assert role_and_org(alice) == (Role.COUNSELLOR, "Centre A (test)", False)


def test_a_second_factor_reset_suspends_client_access_until_a_manager_confirms_again(sam, alice, mona, case):
    alice_browser = as_user(alice)
    assert alice_browser.get(detail_url(case)).status_code == 200
    response = admin_action(as_user(sam), "admin:auth_user_changelist", "reset_second_factor", alice)
    assert ("Alice cannot sign in until a second person confirms their role again: a centre manager of "
            "Centre A (test).") in response.content.decode()
    assert role_and_org(alice) == (Role.COUNSELLOR, "Centre A (test)", True)
    assert alice_browser.get(detail_url(case)).status_code == 302  # her session ended
    response = Client().post(reverse("signin"), {"username": "alice", "password": PASSWORD})
    assert escape(str(ERROR_AWAITING_CONFIRMATION)) in response.content.decode()

    change = pending_for(alice)
    assert (change.kind, change.before_label(), change.after_label()) == (
        "second_factor_reset", "Counsellor · Centre A (test)", "Counsellor · Centre A (test)")
    decide(as_user(mona), change)
    assert role_and_org(alice) == (Role.COUNSELLOR, "Centre A (test)", False)
    browser = Client()
    assert browser.post(reverse("signin"), {"username": "alice", "password": PASSWORD}).status_code == 302
    assert browser.get(detail_url(case)).url.startswith(reverse("otp_verify"))  # and she enrols again


def test_a_password_set_by_an_administrator_suspends_client_access_too(sam, alice, rita):
    browser = as_user(sam)
    new = NEW_PASSWORD
    response = browser.post(reverse("admin:auth_user_password_change", args=[alice.pk]),
                            {"password1": new, "password2": new}, follow=True)
    assert "a centre manager of" not in response.content.decode()  # centre A has no manager in this test
    assert "a system administrator other than the one who proposed it" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert role_and_org(alice) == (Role.COUNSELLOR, "Centre A (test)", True)
    assert pending_for(alice).kind == "password_set"
    assert AuditEvent.objects.filter(action="password_changed", object_id=str(alice.pk),
                                     actor_username="sam").exists()
    # A reviewer sees no client data: her password is set, and nothing waits.
    browser.post(reverse("admin:auth_user_password_change", args=[rita.pk]), {"password1": new, "password2": new})
    assert role_and_org(rita) == (Role.MOH_REVIEWER, "Ministry (test)", False)
    assert not MembershipChange.objects.filter(user=rita, status="pending").exists()


def test_removal_takes_effect_at_once_ends_sessions_and_is_listed(sam, alice, mona):
    alice_browser = as_user(alice)
    browser = as_user(sam)
    response = browser.post(reverse("admin:casemgmt_membership_delete", args=[alice.membership.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert role_and_org(alice) is None
    assert not alice.groups.exists()
    assert alice_browser.get(reverse("home")).status_code == 302
    change = MembershipChange.objects.get(user=alice, kind="removal")
    assert (change.status, change.after_label()) == ("applied", "no membership")
    assert "no membership" in as_user(mona).get(STAFF).content.decode()


def test_deactivation_ends_sessions_even_if_the_account_comes_back(sam, alice):
    alice_browser = as_user(alice)
    browser = as_user(sam)
    assert browser.post(reverse("admin:auth_user_change", args=[alice.pk]),
                        account_data(alice, is_active="")).status_code == 302
    assert browser.post(reverse("admin:auth_user_change", args=[alice.pk]),
                        account_data(alice, is_active="on")).status_code == 302
    alice.refresh_from_db()
    assert alice.is_active
    assert alice_browser.get(reverse("home")).status_code == 302


def test_every_step_is_audited_naming_the_change_with_its_fields(sam, sam2, priya, partner, centre_a, mona):
    newcomer = UserFactory(username="newcomer")
    propose(as_user(sam), newcomer, centre_a, Role.COUNSELLOR)
    change = pending_for(newcomer)
    decide(as_user(mona), change)
    events = list(AuditEvent.objects.filter(object_type="casemgmt.membershipchange", object_id=str(change.pk))
                  .order_by("seq").values_list("action", "actor_username", "fields", "reason"))
    assert events == [("create", "sam", ["organisation", "role"], "proposed"),
                      ("change", "mona", ["status"], "confirmed")]
    bootstrap = MembershipChange.objects.get(user=priya)
    assert AuditEvent.objects.filter(object_type="casemgmt.membershipchange", object_id=str(bootstrap.pk),
                                     actor_username__startswith="system: ",
                                     reason="set up by a management command").exists()


def test_the_administration_site_offers_no_other_way_to_client_data(sam, alice, centre_a):
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == {"auth.user", "casemgmt.organisation", "casemgmt.membership", "casemgmt.membershipchange",
                          "otp_totp.totpdevice", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog",
                          "referrals.partnerservice",  # the service directory: no client data
                          "clients.consentwording"}  # the texts read to clients: no client data
    assert Group not in admin.site._registry and Permission not in admin.site._registry

    browser = as_user(sam)
    forbidden = {"is_superuser": "on", "is_staff": "on",
                 "groups": [Group.objects.get(name=Role.CENTRE_MANAGER).pk, centre_a.staff_group.pk],
                 "user_permissions": list(Permission.objects.filter(content_type__app_label="clients")
                                          .values_list("pk", flat=True))}
    for user in (alice, sam):
        response = browser.post(reverse("admin:auth_user_change", args=[user.pk]), account_data(user, **forbidden))
        assert response.status_code == 302
        user.refresh_from_db()
        assert not user.is_superuser and not user.is_staff
        assert not user.user_permissions.exists()
        assert not user.groups.filter(name=Role.CENTRE_MANAGER).exists()
    assert role_and_org(sam) == (Role.SYSTEM_ADMINISTRATOR, "Ministry (test)", False)

    # The second factor is listed, never shown or edited: no key, no QR code, no adding one to someone.
    device = TOTPDevice.objects.get(user=alice)
    page = browser.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).content.decode()
    assert device.key not in page
    assert browser.get(f"/administration/otp_totp/totpdevice/{device.pk}/config/").status_code in (302, 404)
    assert browser.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    assert browser.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]),
                        {"post": "yes"}).status_code == 403
    assert TOTPDevice.objects.filter(user=alice).exists()


def test_demo_accounts_still_work_through_the_bootstrap_path(settings, tmp_path):
    from casemgmt.management.commands.seed_demo import ACCOUNTS, PENDING_NEWCOMER

    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    for username, role, organisation in ACCOUNTS:
        user = Membership.objects.select_related("user", "organisation").get(user__username=username).user
        assert (access.role_of(user), user.membership.organisation.name) == (role, organisation)
    assert set(MembershipChange.objects.exclude(user__username=PENDING_NEWCOMER)
               .values_list("kind", "status", "proposed_by")) == {("bootstrap", "applied", None)}
    # The demo also shows the rule at work: a newcomer proposed by the administrator, waiting for the manager.
    newcomer = MembershipChange.objects.get(user__username=PENDING_NEWCOMER)
    assert (newcomer.kind, newcomer.status, newcomer.proposed_by.username, newcomer.to_role,
            newcomer.to_organisation.name) == ("proposal", "pending", "admin", Role.COUNSELLOR,
                                               "Demo Treatment Centre Phnom Penh")
    assert not Membership.objects.filter(user__username=PENDING_NEWCOMER).exists()
    call_command("seed_demo", stdout=io.StringIO())  # again: still one pending change, nothing more
    assert MembershipChange.objects.filter(user__username=PENDING_NEWCOMER).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_managers_confirming_at_once_leave_one_decision(postgresql_only, sam, mona, mona2, centre_a):
    newcomer = UserFactory(username="newcomer")
    change = services.membership_change_propose(actor=sam, user=newcomer, organisation=centre_a,
                                                role=Role.COUNSELLOR)
    real_apply = services._apply
    inside = threading.Event()

    def slow_apply(*args, **kwargs):
        inside.set()
        time.sleep(0.5)  # the other manager decides meanwhile, and must wait for this one
        return real_apply(*args, **kwargs)

    results: dict[str, str] = {}

    def confirm(manager):
        manager.is_verified = lambda: True
        try:
            services.membership_change_decide(actor=manager, change_id=change.pk, confirm=True)
            results[manager.username] = "confirmed"
        except ValidationError as exc:
            results[manager.username] = " ".join(exc.messages)
        finally:
            connection.close()

    with mock.patch.object(services, "_apply", slow_apply):
        first = threading.Thread(target=confirm, args=(mona,))
        first.start()
        assert inside.wait(10)
        second = threading.Thread(target=confirm, args=(mona2,))
        second.start()
        first.join(20)
        second.join(20)

    assert results == {"mona": "confirmed", "mona2": str(services.ERROR_NOT_PENDING)}
    change.refresh_from_db()
    assert (change.status, change.decided_by_id) == ("confirmed", mona.pk)
    assert AuditEvent.objects.filter(object_id=str(change.pk), reason="confirmed").count() == 1
    assert Membership.objects.get(user=newcomer).generation == 1


def test_the_operator_confirms_what_no_second_person_can(sam, sam2):
    """Two administrators: sam2 resets sam's second factor, and nobody but the operator may confirm him again."""
    admin_action(as_user(sam2), "admin:auth_user_changelist", "reset_second_factor", sam)
    change = pending_for(sam)
    assert "a system administrator other than the one who proposed it" in call_output("membership_changes")
    assert call_output("membership_changes", "--confirm", str(change.pk), "--dry-run").startswith("Would confirm")
    assert role_and_org(sam) == (Role.SYSTEM_ADMINISTRATOR, "Ministry (test)", True)
    assert "confirmed" in call_output("membership_changes", "--confirm", str(change.pk))
    assert role_and_org(sam) == (Role.SYSTEM_ADMINISTRATOR, "Ministry (test)", False)
    change.refresh_from_db()
    assert (change.status, change.decided_by) == ("confirmed", None)
    assert AuditEvent.objects.filter(object_id=str(change.pk), reason="confirmed",
                                     actor_username="system: membership_changes").exists()
    with pytest.raises(CommandError, match="No pending membership change"):
        call_command("membership_changes", "--reject", str(change.pk))


def call_output(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
