"""Signing in with a password and a TOTP code in a real browser, on a phone-sized screen.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright; never a downloaded browser.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.db import connections
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.casemgmt.test_signin import code_for
from tests.conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make setup does)"),
]


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; the live server's ORM calls happen in another thread.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        context = browser.new_context(viewport={"width": 375, "height": 740})
        page = context.new_page()
        yield page
        page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
        browser.close()
        # The test's own queries ran while Playwright's loop was current, on a connection of that context:
        # close it here, or the test database cannot be dropped at the end of the run.
        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.mark.django_db(transaction=True)
def test_counsellor_signs_in_with_totp_on_a_phone(live_server, page, alice):
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/signin/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account/two-factor/**")
    assert "Enter your 6-digit code" in page.content()

    page.get_by_label("6-digit code").fill(code_for(TOTPDevice.objects.get(user=alice)))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "Your caseload"
    # Usable on a 375-pixel phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.title() == "Home"  # tab titles never name a client

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin/**")


@pytest.mark.django_db(transaction=True)
def test_wrong_password_shows_a_clear_error_in_khmer(live_server, page, alice):
    page.goto(f"{live_server.url}/signin/")
    page.get_by_role("button", name="ភាសាខ្មែរ").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "km"
    page.locator("#id_username").fill("alice")
    page.locator("#id_password").fill("wrong password")
    page.locator("button.primary").click()
    page.wait_for_load_state()
    error = page.locator(".errors").inner_text()
    assert error.strip()
    assert "The user name or password is not right" not in error  # shown in Khmer
