"""Enrolling an authenticator: the QR code is an image a browser can draw."""

from __future__ import annotations

import base64
import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def qr_svg(html: str) -> str:
    (encoded,) = re.findall(r'<img class="qr" src="data:image/svg\+xml;base64,([^"]+)"', html)
    return base64.b64decode(encoded).decode()


def test_the_qr_code_is_a_standalone_svg_with_its_namespace(client, mona):
    TOTPDevice.objects.filter(user=mona).delete()
    sign_in(client, mona)
    svg = qr_svg(client.get(reverse("otp_setup")).content.decode())
    # Without the namespace, an SVG in a data URI is not an SVG document: Chromium shows nothing.
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" ')
    assert 'width="' in svg and "<path" in svg
