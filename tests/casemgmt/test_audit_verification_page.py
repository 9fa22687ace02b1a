"""The auditor verifies the audit trail from the audit page: result, events checked, checkpoint, when; audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from casemgmt import audit, audit_checkpoints
from casemgmt.models import AuditAction, AuditEvent
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db
VERIFY_BUTTON = "Verify the audit trail now"


def record_some(n: int) -> None:
    for i in range(n):
        audit.record(action=AuditAction.VIEW, object_type="test.thing", object_id=str(i))


def verification_panel(html: str) -> str:
    start = html.index('id="verification-heading"')
    return html[start:html.index("</section>", start)]


def only_checkpoint():
    (checkpoint,) = audit_checkpoints.read(Path(settings.CASEMGMT_AUDIT_CHECKPOINT_FILE))
    return checkpoint


def test_the_page_offers_verification_and_says_it_has_not_run_yet(client, otto):
    sign_in(client, otto)
    html = client.get(reverse("audit_events")).content.decode()
    assert VERIFY_BUTTON in html
    assert f'action="{reverse("audit_verify")}"' in html
    assert "The trail has not been verified yet." in html


def test_an_auditor_verifies_the_trail_and_sees_the_result(client, otto):
    record_some(3)
    sign_in(client, otto)
    client.post(reverse("audit_verify"))  # the first checkpoint, of the chain as it was then
    first = only_checkpoint()
    record_some(2)

    response = client.post(reverse("audit_verify"), follow=True)

    html = response.content.decode()
    event = AuditEvent.objects.filter(action=AuditAction.AUDIT_VERIFIED).latest("seq")
    checked = event.seq - 1
    assert response.redirect_chain == [(reverse("audit_events"), 302)]
    assert (f"Audit trail verified: {checked} events, chain intact. It extends the checkpoint of "
            f"{first.shown_at} (#{first.seq}).") in html
    panel = verification_panel(html)
    assert timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S") in panel
    assert "by otto" in panel
    assert "<dt>Result</dt>\n    <dd>Intact</dd>" in panel
    assert f"<dt>Events checked</dt>\n    <dd>{checked}</dd>" in panel
    assert f"It extends the checkpoint of {first.shown_at} (#{first.seq})." in panel
    assert (event.actor_username, event.role, event.object_id, event.fields) == ("otto", "auditor", str(checked), [])


def test_a_failed_verification_is_shown_and_audited_with_the_failed_check(client, otto):
    record_some(6)
    sign_in(client, otto)
    client.post(reverse("audit_verify"))  # a checkpoint of the chain as it is
    checkpoint = only_checkpoint()
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(f"DELETE FROM {table} WHERE seq > %s", [3])
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")

    response = client.post(reverse("audit_verify"), follow=True)

    html = response.content.decode()
    missing = checkpoint.seq - 3
    assert "Audit trail verification failed." in html
    assert escape(f"The chain ends at event #3, but the checkpoint of {checkpoint.shown_at} recorded "
                  f"#{checkpoint.seq}: the {missing} newest events are missing.") in html
    assert "<strong>Failed (checkpoints)</strong>" in verification_panel(html)
    event = AuditEvent.objects.filter(action=AuditAction.AUDIT_VERIFIED).latest("seq")
    assert (event.actor_username, event.fields) == ("otto", ["checkpoints"])
    assert f"recorded #{checkpoint.seq}: the {missing} newest events are missing." in event.reason


def test_only_auditors_may_verify(client, sam):
    sign_in(client, sam)
    response = client.post(reverse("audit_verify"))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.AUDIT_VERIFIED).exists()
