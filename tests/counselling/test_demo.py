"""`manage.py seed_demo_counselling`: a real centre's quarter for the demo accounts, made once."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from casemgmt.models import AuditEvent
from counselling import dates
from counselling.models import Attendance, FollowUpTask, Modality, Participant, RiskFlag, Session, SessionStatus
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    call_command("seed_demo_clients")
    capsys.readouterr()
    call_command("seed_demo_counselling")
    return capsys.readouterr().out


def test_it_runs_once_and_a_second_time_changes_nothing(demo, capsys):
    assert "synthetic demo counselling sessions" in demo
    counts = [model.objects.count() for model in (Session, Participant, RiskFlag, FollowUpTask)]
    events = AuditEvent.objects.count()
    call_command("seed_demo_counselling")
    assert capsys.readouterr().out.strip() == "Demo counselling sessions exist already."
    assert [model.objects.count() for model in (Session, Participant, RiskFlag, FollowUpTask)] == counts
    assert AuditEvent.objects.count() == events


def test_every_row_it_wrote_matches_the_audit_trail(demo):
    from casemgmt import integrity

    report = integrity.verify_rows()
    assert report.ok, report.problems
    assert report.checked >= Participant.objects.count() + RiskFlag.objects.count()


def test_it_gives_the_demo_counsellor_a_real_week(demo):
    counsellor = get_user_model().objects.get(username="counsellor")
    today = dates.today()
    mine = Session.objects.filter(counsellor=counsellor)
    earliest = dates.local_date(mine.order_by("starts_at").first().starts_at)
    assert today - datetime.timedelta(days=93) <= earliest <= today - datetime.timedelta(days=84)  # three months
    held = mine.filter(status=SessionStatus.HELD)
    assert held.filter(modality=Modality.GROUP).count() >= 10 and held.exclude(modality=Modality.GROUP).count() >= 40
    assert Participant.objects.filter(session__in=mine, attendance=Attendance.NO_SHOW).count() >= 5
    assert FollowUpTask.objects.filter(status="open").exists() and FollowUpTask.objects.filter(status="done").exists()
    assert set(RiskFlag.objects.values_list("status", flat=True)) == {"open", "resolved"}
    scheduled = mine.filter(status=SessionStatus.SCHEDULED)
    assert [dates.local_date(s.starts_at) for s in scheduled].count(today) >= 3  # today's appointments
    assert scheduled.filter(starts_at__gte=dates.day_start(today + datetime.timedelta(days=1)),
                            starts_at__lt=dates.day_start(today + datetime.timedelta(days=8))).count() >= 3


def test_the_demo_counsellor_and_manager_see_it_at_work(client, demo):
    users = get_user_model().objects
    sign_in(client, users.get(username="counsellor"))
    html = client.get(reverse("home")).content.decode()
    for panel in ('id="appointments-today"', 'id="missed-appointments"', 'id="open-flags"', 'id="not-seen"'):
        assert panel in html
    assert "No appointment today." not in html and "Every client on your caseload was seen recently." not in html
    assert "Nothing to follow up." not in html

    client.logout()
    sign_in(client, users.get(username="manager"))
    html = client.get(reverse("home")).content.decode()
    assert "counsellor" in html[html.index("Caseloads"):] and "Overdose risk" in html


def test_it_needs_the_demo_accounts_and_development(settings, db):
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("seed_demo_counselling")
    settings.DEVELOPMENT = False
    with pytest.raises(CommandError, match="CASEMGMT_DEVELOPMENT"):
        call_command("seed_demo_counselling")
