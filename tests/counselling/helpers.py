"""Shared helpers for the counselling tests: form data as the pages post it, a clock to set."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone

from tests.counselling.factories import NOTE, ago


def local_input(moment: datetime.datetime) -> str:
    """A datetime-local input's value: the site's local time, to the minute."""
    return timezone.localtime(moment, timezone.get_default_timezone()).strftime("%Y-%m-%dT%H:%M")


def session_data(**overrides) -> dict:
    """The "record a session" form: an individual session an hour ago, attended, 45 minutes, with a note."""
    data = {"starts_at": local_input(ago(hours=1)), "modality": "individual", "attendance": "attended",
            "duration_minutes": "45", "approach": "motivational_interviewing", "note": NOTE, "next_appointment": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def html_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def detail_url(case) -> str:
    return reverse("clients:detail", args=[case.pk])


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=datetime.UTC)
