"""The two-factor enrolment page in a real browser: the QR code is drawn, not a broken image."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.conftest import needs_chromium, sign_in_page

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.mark.django_db(transaction=True)
def test_the_qr_code_renders_on_a_phone(live_server, open_page, mona, tmp_path):
    TOTPDevice.objects.filter(user=mona).delete()
    page = open_page(390, 844)
    sign_in_page(page, live_server, mona)
    page.goto(f"{live_server.url}/account/two-factor/setup/")
    assert page.locator("h1").inner_text() == "Set up two-factor authentication"
    qr = page.locator("img.qr")
    qr.wait_for()
    page.wait_for_load_state("load")
    assert qr.evaluate("img => img.complete && img.naturalWidth") > 0
    page.screenshot(path=str(tmp_path / "otp-setup.png"))
