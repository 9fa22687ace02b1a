"""Lists read on a phone and on a desktop: nothing wider than the screen, rows one line tall, the key
column always in view (static/css/site.css, "Lists"). Screenshots go to /tmp/casemgmt-screens/."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.models import Client
from tests.browser.conftest import needs_chromium, sign_in_page
from tests.clients.helpers import give_consent, make_client

pytestmark = [pytest.mark.browser, needs_chromium]

SCREENS = Path("/tmp/casemgmt-screens")

# Each list's layout, measured in the page: the document's width, and for each table its box, its
# wrapper's, the first column's position style and the tallest row.
MEASURE = """() => {
  const tables = [...document.querySelectorAll("main table")].map(table => {
    const wrap = table.closest(".table-wrap") || table.parentElement;
    const rows = [...table.tBodies[0].rows];
    const first = rows.length ? rows[0].cells[0] : null;
    return {
      right: Math.ceil(wrap.getBoundingClientRect().right),
      scrolls: table.scrollWidth > wrap.clientWidth,
      stickyKey: first ? getComputedStyle(first).position === "sticky" : true,
      tallestRow: Math.max(...rows.map(row => row.getBoundingClientRect().height)),
      lineHeight: first ? parseFloat(getComputedStyle(first).lineHeight) : 0,
      cls: table.className,
    };
  });
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, tables};
}"""


@pytest.fixture
def lists(alice, mona, bob, otto, rita, centre_a, partner):
    """A centre with a page of varied clients, a transfer request waiting, a referral, and an audit trail."""
    for n in range(8):
        case = make_client(actor=alice, organisation=centre_a, n=n,
                           population_groups=["pwid", "prisoner"] if n % 2 else ["pwud"])
        give_consent(case, actor=alice)
    Client.objects.filter(organisation=centre_a).update(risk_level="moderate")
    from clients import selectors, services

    match = selectors.find_duplicates(organisation=bob.membership.organisation, uic=case.uic,
                                      family_name=case.family_name, date_of_birth=case.date_of_birth, phone=None,
                                      national_id=None)
    services.transfer_request_create(actor=bob, client=match[0].client)
    from tests.referrals.factories import referral_setup

    referral_setup(counsellor=alice, organisation=centre_a, partner=partner)
    return {"alice": alice, "mona": mona, "otto": otto, "rita": rita}


PAGES = [
    ("alice", "home", "/"),
    ("alice", "caseload", "/clients/"),
    ("mona", "home", "/"),
    ("mona", "transfers", "/clients/transfers/"),
    ("otto", "audit", "/audit/"),
    ("mona", "referral-cascade", "/referrals/cascade/"),
    ("mona", "referral-list", "/referrals/list/"),
    ("rita", "reports", "/"),  # the reviewer's home is the dashboard: figures' tables below each chart
    ("rita", "full-report", "/reports/report/"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [390, 1280])
def test_lists_fit_the_screen_with_rows_one_line_tall(live_server, open_page, lists, width):
    SCREENS.mkdir(exist_ok=True)
    pages = {}
    for who, name, path in PAGES:
        if who not in pages:
            pages[who] = open_page(width, 900)
            sign_in_page(pages[who], live_server, lists[who])
        page = pages[who]
        missing = []
        page.on("response", lambda response, missing=missing: missing.append(response.url)
                if response.status == 404 else None)
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        page.screenshot(path=str(SCREENS / f"{who}-{name}-{width}.png"), full_page=True)
        layout = page.evaluate(MEASURE)
        where = f"{who} {name} at {width}px: {layout}"
        assert missing == [], where  # no 404, not even /favicon.ico
        assert layout["scrollWidth"] <= layout["innerWidth"], where
        assert layout["tables"], where
        for table in layout["tables"]:
            assert "list" in table["cls"].split(), where  # every list uses the one pattern
            assert table["right"] <= layout["innerWidth"], where
            if width < 768 or name != "audit":  # on a desktop, an event's long list of fields may wrap
                assert table["tallestRow"] <= 2.6 * table["lineHeight"], where  # one line (buttons: a bit more)
            if table["scrolls"]:
                assert width < 768 and table["stickyKey"], where  # wide screens never scroll a list
