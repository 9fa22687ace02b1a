"""A headless Debian Chromium for the browser tests, one page at a chosen screen size.

Drives /usr/bin/chromium through Playwright; never a downloaded browser.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.db import connections

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                    reason="Debian's chromium is not installed (make setup does)")


@pytest.fixture
def open_page():
    """``open_page(width, height)``: a new page of that viewport; every page closes with the test."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; the live server's ORM calls happen in another thread.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

        def open_page(width: int = 390, height: int = 844):
            return browser.new_context(viewport={"width": width, "height": height}).new_page()

        yield open_page
        browser.close()
        # The test's own queries ran while Playwright's loop was current: close that connection here, or
        # the test database cannot be dropped at the end of the run.
        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def sign_in_page(page, live_server, user) -> None:
    """Signed in (and past the second factor) in ``page``, through the session cookie of a test client."""
    from django.conf import settings
    from django.test import Client

    from tests.conftest import sign_in

    client = sign_in(Client(), user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[
        settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
