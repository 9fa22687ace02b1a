"""The demo history (manage.py seed_demo_history): a year of synthetic work at three organisations in three
provinces and both settings, so that the demo reviewer's dashboard has a figure for every headline, shows hidden
small counts, and trends that change; a second demo reviewer limited to Battambang. Idempotent."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from clients.models import Client
from counselling.models import Session
from referrals.models import Referral
from reports import report
from reports.periods import Period
from reports.scope import NATIONAL, PROVINCE, Scope

pytestmark = pytest.mark.django_db


def test_a_year_of_history_fills_the_dashboard_and_seeding_again_changes_nothing(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    for command in ("seed_demo", "seed_demo_clients", "seed_demo_referrals", "seed_demo_history"):
        call_command(command)
    out = capsys.readouterr().out
    assert "synthetic demo clients with a year of history" in out
    assert "reviewer.battambang sees the figures of Battambang only." in out
    users = get_user_model().objects
    assert users.get(username="reviewer").membership.province == ""
    assert users.get(username="reviewer.battambang").membership.province == "KH-2"

    period = Period.last_full_month()
    built = report.build(scope=Scope(NATIONAL), period=period, parts=report.FULL)

    headlines = {h.indicator.code: h.figure for h in built.headlines}
    for code in ("CL-NEW", "CL-ACT", "CO-HELD", "RF-SENT", "PR-REL", "HIV-KNOWN", "HIV-REF"):
        assert headlines[code].status != "shown" or headlines[code].value > 0, code
    texts = [f.text for t in built.tables if not t.withheld for row in t.figures for f in row if f is not None]
    assert "<5" in texts and "x" in texts  # small counts hidden, and complements
    trend = next(t for t in built.trends if t.indicator.code == "CL-NEW")
    values = [f.value for f in trend.figures if f.shown]
    assert len(values) >= 10 and values[-1] > values[0]  # the trend rises
    provinces = {label for label, _cells, total in built.table("cl-act-province-setting").body() if not total}
    assert provinces == {"Phnom Penh", "Battambang", "Kandal"}
    battambang = report.build(scope=Scope(PROVINCE, province="KH-2"), period=period, parts=report.DASHBOARD)
    assert {h.indicator.code: h.figure for h in battambang.headlines}["CL-NEW"].text not in ("", "0")

    counts = (Client.objects.count(), Session.objects.count(), Referral.objects.count())
    call_command("seed_demo_history")
    assert "The demo history exists already." in capsys.readouterr().out
    assert (Client.objects.count(), Session.objects.count(), Referral.objects.count()) == counts
