"""The demo referrals: the demo partner officer's inbox is full on first sign-in, every state is there."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from referrals import selectors
from referrals.models import PartnerService, Referral, ReferralStatus
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.DEVELOPMENT = True
    for command in ("seed_demo", "seed_demo_clients", "seed_demo_referrals"):
        call_command(command, stdout=io.StringIO())


def test_every_state_and_both_partners_directories(seeded):
    assert set(Referral.objects.values_list("status", flat=True)) == set(ReferralStatus.values)
    assert set(PartnerService.objects.values_list("organisation__name", flat=True)) == {
        "Demo NGO Partner Health Access", "Demo NGO Partner Harm Reduction"}
    assert set(Referral.objects.values_list("from_organisation__name", flat=True)) == {
        "Demo Treatment Centre Phnom Penh", "Demo Prison Health Unit Kandal"}
    withdrawn = Referral.objects.get(consent__revoked_on__isnull=False)
    assert (withdrawn.status, withdrawn.end_reason) == (ReferralStatus.CLOSED_UNRESOLVED, "consent_withdrawn")


def test_the_demo_partner_officer_has_a_full_inbox(seeded, client):
    officer = get_user_model().objects.get(username="partner")
    counts = selectors.partner_inbox(user=officer).counts
    assert all(counts[key] > 0 for key in ("new", "accepted", "due_soon", "overdue")), counts
    sign_in(client, officer)
    assert "Overdue" in client.get(reverse("home")).content.decode()


def test_seeding_twice_adds_nothing(seeded):
    before = Referral.objects.count()
    out = io.StringIO()
    call_command("seed_demo_referrals", stdout=out)
    assert Referral.objects.count() == before and "exist already" in out.getvalue()


def test_the_demo_centre_has_a_cascade_and_a_milestone_with_its_referral(settings, tmp_path, client):
    import datetime

    from django.utils import timezone

    from referrals import cascade

    settings.VAR_DIR = tmp_path
    settings.DEVELOPMENT = True
    for command in ("seed_demo", "seed_demo_clients", "seed_demo_plans", "seed_demo_referrals"):
        call_command(command, stdout=io.StringIO())
    counsellor = get_user_model().objects.get(username="counsellor")
    today = timezone.localdate()  # the demo's referrals go back three weeks at most
    figures = cascade.centre_cascade(user=counsellor,
                                     period=cascade.Period(today - datetime.timedelta(days=30), today))
    found = {f.step.key: f.count for f in (*figures.hiv, *figures.overall)}
    assert found["hiv_tested"] >= 4 and found["hiv_reactive"] >= 3 and found["hiv_art"] >= 2, found
    assert found["hiv_art_overdue"] == 1 and found["completed"] >= 9 and figures.ends, found
    recorded = [Referral.objects.exclude(**{name: empty}).count() for name, empty in (
        ("prep_started_on", None), ("oat_enrolled_on", None), ("tb_result", ""), ("hepatitis_result", ""))]
    assert recorded == [1, 1, 1, 1]
    linked = Referral.objects.exclude(milestone=None).get()
    sign_in(client, counsellor)
    page = client.get(reverse("plans:reintegration_detail", args=[linked.milestone.plan_id])).content.decode()
    assert reverse("referrals:detail", args=[linked.pk]) in page and "Referral for Legal aid: Sent" in page
    out = io.StringIO()
    call_command("seed_demo_referrals", stdout=out)
    assert "exist already" in out.getvalue() and Referral.objects.exclude(milestone=None).count() == 1
