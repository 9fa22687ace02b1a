"""End to end in a real browser on a phone-sized screen: a counsellor records a session that raises a risk and
schedules the next appointment; the manager sees the flag on the dashboard and resolves it.

Drives Debian's Chromium through Playwright (tests/browser), never a downloaded browser.
"""

from __future__ import annotations

import datetime
import os

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.test_signin_browser import CHROMIUM, page  # noqa: F401 - the browser fixture
from tests.casemgmt.test_signin import code_for
from tests.conftest import PASSWORD
from tests.counselling.factories import counselling_client

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make setup does)"),
]

NOTE = "Synthetic note: spoke about the night shifts and sleep (browser test)."


def sign_in(page, live_server, user) -> None:  # noqa: F811 - page is the fixture's value
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/signin/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/two-factor/**")
    page.get_by_label("6-digit code").fill(code_for(TOTPDevice.objects.get(user=user)))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/")


def fits_the_phone(page) -> bool:  # noqa: F811
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def local_input(moment: datetime.datetime) -> str:
    return timezone.localtime(moment, timezone.get_default_timezone()).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.django_db(transaction=True)
def test_a_counsellor_records_a_session_and_the_manager_resolves_its_risk(live_server, page, alice, mona,  # noqa: F811
                                                                         centre_a):
    case = counselling_client(actor=alice, organisation=centre_a, n=1)
    sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/clients/{case.pk}/")
    page.get_by_role("link", name="Record a session").click()
    page.locator("#id_starts_at").fill(local_input(timezone.now() - datetime.timedelta(hours=1)))
    page.get_by_label("Attended").check()
    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_label("Approach").select_option(label="Motivational interviewing")
    page.get_by_label("Note", exact=True).fill(NOTE)
    page.get_by_label("Suicide risk").check()
    page.locator("#id_next_appointment").fill(local_input(timezone.now() + datetime.timedelta(days=2)))
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/clients/{case.pk}/")
    section = page.locator("#counselling")
    assert NOTE in section.inner_text() and "Suicide risk" in section.locator("[role=alert]").inner_text()
    assert "Upcoming appointments" in section.inner_text()
    assert fits_the_phone(page) and page.title() == "Client"

    page.goto(f"{live_server.url}/")
    assert case.uic in page.locator("#open-flags").locator("..").inner_text()
    assert fits_the_phone(page)

    sign_in(page, live_server, mona)
    assert "Suicide risk" in page.content() and "Counselling this month" in page.content()
    assert NOTE not in page.content()  # the dashboard shows codes, never notes
    page.goto(f"{live_server.url}/clients/{case.pk}/")
    page.locator("#counselling").get_by_role("link", name="Resolve").click()
    page.get_by_label("How it was resolved").fill("Safety plan agreed (browser test).")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/clients/{case.pk}/")
    assert "The risk flag is resolved." in page.content()
    page.goto(f"{live_server.url}/")
    assert "No open risk flag at the centre." in page.content()
    assert fits_the_phone(page)
