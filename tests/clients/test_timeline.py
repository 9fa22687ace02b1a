"""The client's timeline and the audit trail speak a counsellor's language, in English and in Khmer.

Each event reads as a sentence naming the thing (never its table), fields by their translated names,
organisations by name (never their UUIDs), and never a value.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from clients import audit_texts as texts
from tests.clients.helpers import detail_url
from tests.clients.test_audit_trail import plaintext_values, walk  # noqa: F401 - walk is a fixture
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def timeline_sentences(html: str) -> list[str]:
    section = _timeline_section(html)
    return [item.rsplit(" · ", 1)[1] for item in re.findall(r"<li><time [^>]+>[^<]+</time> · ([^<]+)</li>", section)]


def _timeline_section(html: str) -> str:
    return html.split('<ol class="plain">')[-1].split("</ol>")[0]


def expected_timeline(language: str, centre_a, centre_b) -> list[str]:
    with translation.override(language):
        return [str(text) for text in (
            texts.TRANSFERRED_BETWEEN % {"from": centre_a.name, "to": centre_b.name},
            texts.COUNSELLOR_CHANGED,
            texts.CONSENT_REVOKED,
            texts.CUSTODY_RELEASED,
            texts.CUSTODY_ADMITTED,
            texts.SCREENING_ADDED,
            texts.CONSENT_RECORDED,
            texts.CONSENT_RECORDED,
            str(texts.IDENTITY_CHANGED).replace("%(fields)s", str(translation.gettext("phone"))),
            texts.CLIENT_REGISTERED,
        )]


def test_the_timeline_reads_as_sentences(client, walk, nina, centre_a, centre_b):  # noqa: F811
    case, _steps = walk
    sign_in(client, nina)  # the record moved to centre B: its manager reads the whole story
    html = client.get(detail_url(case)).content.decode()
    assert timeline_sentences(html) == expected_timeline("en", centre_a, centre_b)
    assert timeline_sentences(html)[0] == "Client transferred from Centre A (test) to Centre B (test)"
    section = _timeline_section(html)
    for code_word in ("clients.", "consent_change", "Created", "Changed", "revoke_reason", str(centre_a.pk)):
        assert code_word not in section
    assert [value for value in plaintext_values() if value in section] == []


def test_the_timeline_reads_in_khmer(client, walk, nina, centre_a, centre_b):  # noqa: F811
    case, _steps = walk
    sign_in(client, nina)
    client.cookies["django_language"] = "km"
    html = client.get(detail_url(case)).content.decode()
    khmer, english = expected_timeline("km", centre_a, centre_b), expected_timeline("en", centre_a, centre_b)
    assert timeline_sentences(html) == khmer
    assert [sentence for sentence in khmer if sentence in english] == []  # each one translated


def audit_row(html: str, text: str) -> list[str]:
    """The cells of the first audit trail row that holds ``text``."""
    rows = [row for row in html.split("<tr>")[2:] if text in row]
    assert rows, text
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", rows[0], re.S)]


def test_the_audit_trail_rows_name_things_and_organisations(client, walk, otto, centre_a, centre_b):  # noqa: F811
    case, _steps = walk
    sign_in(client, otto)
    html = client.get(reverse("audit_events"), {"object": str(case.pk)}).content.decode()
    transfer = audit_row(html, "Client transferred from")
    # #, when, user, role, organisation, action, object, client, fields, reason, address
    assert transfer[5:7] == ["Client transferred from Centre A (test) to Centre B (test)",
                             f"client record {str(case.pk)[:8]}…"]
    assert transfer[8:10] == ["counsellor, organisation", "from Centre A (test) to Centre B (test)"]
    # Ids are cut to fit the screen; each links the trail of that id, and shows it whole as a tooltip.
    assert f'<a href="?object={case.pk}" title="{case.pk}"><code>{str(case.pk)[:8]}…</code></a>' in html
    revoke = audit_row(html, "Consent revoked")
    assert revoke[8:10] == ["reason for revoking, revoked on", ""]
    table = html.split("<tbody>")[1].split("</tbody>")[0]
    assert ">clients." not in table and " clients." not in table  # object types only as a tooltip
    assert str(centre_a.pk) not in table
    assert [value for value in plaintext_values() if value in table] == []


def test_the_audit_trail_rows_read_in_khmer(client, walk, otto, centre_a, centre_b):  # noqa: F811
    case, _steps = walk
    sign_in(client, otto)
    client.cookies["django_language"] = "km"
    html = client.get(reverse("audit_events"), {"object": str(case.pk)}).content.decode()
    with translation.override("km"):
        sentence = str(texts.TRANSFERRED_BETWEEN % {"from": centre_a.name, "to": centre_b.name})
        reason = str(texts.TRANSFERRED_REASON % {"from": centre_a.name, "to": centre_b.name})
        revoked = str(texts.CONSENT_REVOKED)
    assert "Client transferred" not in sentence and "Consent revoked" not in revoked
    transfer = audit_row(html, sentence)
    assert transfer[5] == sentence and transfer[9] == reason
    assert audit_row(html, revoked)[5] == revoked
