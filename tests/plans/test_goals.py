"""Goals: added and changed through the pages, encrypted, refused without a domain, editable only while the plan
is a draft or under review, and conflict-safe: a second save from a stale page shows both texts, loses nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client as Browser
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from casemgmt.models import AuditAction, AuditEvent
from plans import services
from plans.models import Goal, PlanStatus
from tests.conftest import sign_in
from tests.plans.factories import draft_plan, submitted_plan

pytestmark = pytest.mark.django_db


def goal_form(client, plan, goal=None) -> dict:
    """The goal form as the page gives it: every field with its current value, and the version."""
    url = reverse("plans:goal_edit", args=[plan.pk, goal.pk]) if goal else reverse("plans:goal_add", args=[plan.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields}
    return {k: ("" if v is None else str(v)) for k, v in data.items()}


def in_khmer(message) -> str:
    with translation.override("km"):
        text = str(message)
    with translation.override("en"):
        assert text != str(message), f"no Khmer translation for {message!r}"
    return text


def test_a_goal_added_through_the_page_is_encrypted_and_audited_by_field_names(client, alice, case):
    plan = draft_plan(author=alice, client=case, goals=0)
    sign_in(client, alice)
    response = client.post(reverse("plans:goal_add", args=[plan.pk]), {
        "domain": "infectious_disease", "text": "Synthetic: HIV test at the partner clinic",
        "interventions": "Synthetic: accompany to the clinic", "responsible": "Synthetic outreach worker",
        "target_on": "2030-01-15", "status": "not_started"})
    assert response.status_code == 302
    goal = Goal.objects.get(plan=plan)
    assert (goal.domain, goal.text) == ("infectious_disease", "Synthetic: HIV test at the partner clinic")
    with connection.cursor() as cursor:
        cursor.execute("SELECT text, interventions, responsible FROM plans_goal")
        raw = b"".join(bytes(value) for value in cursor.fetchone())
    assert b"HIV test" not in raw and b"outreach" not in raw
    event = AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="plans.goal").latest("seq")
    assert set(event.fields) >= {"domain", "text", "interventions"} and "HIV" not in event.reason


def test_a_goal_without_a_domain_is_refused_in_the_users_language_and_nothing_is_saved(client, alice, case):
    plan = draft_plan(author=alice, client=case, goals=0)
    sign_in(client, alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "km"
    response = client.post(reverse("plans:goal_add", args=[plan.pk]), {
        "domain": "", "text": "Synthetic goal", "status": "not_started"})
    assert response.status_code == 200
    assert escape(in_khmer(services.ERROR_GOAL_DOMAIN)) in response.content.decode()
    assert Goal.objects.filter(plan=plan).count() == 0


def test_the_service_refuses_a_goal_without_a_domain_too(alice, case):
    from django.core.exceptions import ValidationError

    plan = draft_plan(author=alice, client=case, goals=0)
    with pytest.raises(ValidationError) as refused:
        services.goal_save(actor=alice, plan=plan, values={"domain": "", "text": "Synthetic", "status": "not_started"})
    assert refused.value.message_dict == {"domain": [str(services.ERROR_GOAL_DOMAIN)]}
    assert not Goal.objects.filter(plan=plan).exists()


def test_goals_of_a_submitted_plan_cannot_change(client, alice, case):
    plan = submitted_plan(author=alice, client=case)
    goal = Goal.objects.get(plan=plan)
    sign_in(client, alice)
    data = {
        "domain": "housing", "text": "Synthetic: changed after submission", "status": "in_progress",
        "version": str(goal.version)}
    response = client.post(reverse("plans:goal_edit", args=[plan.pk, goal.pk]), data, follow=True)
    message = str(services.ERROR_NOT_EDITABLE % {"state": PlanStatus.SUBMITTED.label})
    assert message in [str(m) for m in response.context["messages"]]
    assert Goal.objects.get(pk=goal.pk).text == "Synthetic goal 1: fewer days of use each week"
    with pytest.raises(Exception) as refused:
        services.goal_remove(actor=alice, plan=plan, goal=goal)
    assert str(refused.value) == message
    assert Goal.objects.filter(pk=goal.pk).exists()


def test_a_second_save_from_a_stale_goal_form_shows_both_texts_and_overwrites_nothing(client, alice, mona, case):
    plan = draft_plan(author=alice, client=case)
    goal = Goal.objects.get(plan=plan)
    alices, monas = sign_in(client, alice), sign_in(Browser(), mona)
    alice_form, mona_form = goal_form(alices, plan, goal), goal_form(monas, plan, goal)
    url = reverse("plans:goal_edit", args=[plan.pk, goal.pk])

    assert alices.post(url, {**alice_form, "text": "Alice's synthetic goal"}).status_code == 302
    response = monas.post(url, {**mona_form, "text": "Mona's synthetic goal", "responsible": "Mona (synthetic)"})

    assert response.status_code == 409
    html = response.content.decode()
    assert "Saved by someone else meanwhile" in html
    rows = {row["label"]: row for row in response.context["conflict"]["rows"]}
    assert (rows["Goal"]["yours"], rows["Goal"]["current"], rows["Goal"]["differs"]) == (
        "Mona's synthetic goal", "Alice's synthetic goal", True)
    assert "Mona&#x27;s synthetic goal" in html  # her text is still in the form
    assert Goal.objects.get(pk=goal.pk).text == "Alice's synthetic goal"

    resubmit = {**mona_form, "text": "Mona's synthetic goal", "version": response.context["form"].data["version"]}
    assert monas.post(url, resubmit).status_code == 302
    assert Goal.objects.get(pk=goal.pk).text == "Mona's synthetic goal"


def test_a_stale_review_date_form_is_a_conflict(client, alice, mona, case):
    plan = draft_plan(author=alice, client=case)
    alices, monas = sign_in(client, alice), sign_in(Browser(), mona)
    url = reverse("plans:treatment_edit", args=[plan.pk])
    version = str(plan.version)
    assert alices.post(url, {"review_on": "2031-01-01", "version": version}).status_code == 302
    response = monas.post(url, {"review_on": "2031-02-02", "version": version})
    assert response.status_code == 409
    row = response.context["conflict"]["rows"][0]
    assert (row["yours"], row["current"]) == ("2031-02-02", "2031-01-01")
    assert str(plan.__class__.objects.get(pk=plan.pk).review_on) == "2031-01-01"


def test_a_goal_can_be_removed_from_a_draft(client, alice, case):
    plan = draft_plan(author=alice, client=case, goals=2)
    goal = Goal.objects.filter(plan=plan).first()
    sign_in(client, alice)
    assert client.post(reverse("plans:goal_remove", args=[plan.pk, goal.pk])).status_code == 302
    assert list(Goal.objects.filter(plan=plan).values_list("pk", flat=True)) != [goal.pk]
    assert Goal.objects.filter(plan=plan).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.DELETE, object_id=str(goal.pk)).exists()
