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

from tests.browser.conftest import open_page, sign_in_page  # noqa: F401 - the browser fixture
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


@pytest.fixture
def counselling_lists(alice, mona, carol, centre_a):
    """A caseload with a quarter's sessions: groups, risk flags, missed appointments, appointments ahead."""
    from tests.counselling.factories import ago, ahead, appointment, group, record_all, recorded

    cases = [counselling_client(actor=alice, organisation=centre_a, n=n) for n in range(1, 7)]
    other = counselling_client(actor=carol, organisation=centre_a, n=9)
    for n, case in enumerate(cases):
        recorded(actor=alice, client=case, when=ago(days=3 + n), flags=["suicide"] if n % 3 == 0 else [])
        recorded(actor=alice, client=case, when=ago(days=10 + n), attendance="no_show", note="")
        appointment(actor=alice, client=case, when=ahead(hours=1 + n))
        appointment(actor=alice, client=case, when=ahead(days=2 + n % 5))
    held = group(actor=mona, clients=[*cases[:4], other], held=True)
    record_all(actor=mona, session=held)
    group(actor=alice, clients=cases[:5])
    from clients.models import Client

    unseen = [counselling_client(actor=alice, organisation=centre_a, n=n) for n in (11, 12)]
    Client.objects.filter(pk__in=[c.pk for c in unseen]).update(created_at=ago(days=90))
    return {"alice": alice, "mona": mona, "client": cases[0]}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_counselling_lists_fit_the_screen_with_rows_one_line_tall(live_server, open_page, counselling_lists,  # noqa: F811
                                                                   width):
    from tests.browser.test_tables_browser import MEASURE

    pages = [("alice", "home", "/"), ("mona", "home", "/"), ("alice", "sessions", "/counselling/"),
             ("mona", "sessions", "/counselling/"), ("mona", "flags", "/counselling/flags/"),
             ("alice", "follow-up", "/counselling/follow-up/"), ("alice", "not-seen", "/counselling/not-seen/"),
             ("alice", "client", f"/clients/{counselling_lists['client'].pk}/")]
    opened = {}
    for who, name, path in pages:
        if who not in opened:
            opened[who] = open_page(width, 900)
            sign_in_page(opened[who], live_server, counselling_lists[who])
        browser_page = opened[who]
        browser_page.goto(f"{live_server.url}{path}")
        browser_page.wait_for_load_state("load")
        layout = browser_page.evaluate(MEASURE)
        where = f"{who} {name} at {width}px: {layout}"
        assert layout["scrollWidth"] <= layout["innerWidth"], where
        assert layout["tables"] or name == "client", where  # the client's sessions are entries: notes to read
        for table in layout["tables"]:
            assert "list" in table["cls"].split(), where
            assert table["right"] <= layout["innerWidth"], where
            if width < 768 or name not in ("sessions", "home"):  # a group's clients may wrap on a desktop
                assert table["tallestRow"] <= 2.6 * table["lineHeight"], where
            if table["scrolls"]:
                assert width < 768 and table["stickyKey"], where
