"""The plan page, the reintegration plan page and the client page (with its plans section) make as many queries for
a long history as for a short one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casemgmt import crypto
from plans import services
from tests.conftest import sign_in
from tests.plans.factories import draft_plan, goal_values, milestone_values, reintegration_plan

pytestmark = pytest.mark.django_db


def queries(client, url) -> int:
    client.get(url)  # the process's own caches (permission ids, content types) filled, as on a running server
    crypto.data_key_cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def resubmitted(plan, *, alice, mark, times: int):
    for n in range(times):
        plan = services.plan_submit(actor=alice, plan=plan)
        services.plan_send_back(actor=mark, plan=plan, seen_revision=plan.revision, comments=f"Synthetic {n}")
        services.goal_save(actor=alice, plan=plan, values=goal_values(text=f"Synthetic goal added {n}"))
    return plan


def test_the_plan_page_queries_do_not_grow_with_goals_or_versions(client, alice, mark, case):
    short = resubmitted(draft_plan(author=alice, client=case, goals=1), alice=alice, mark=mark, times=1)
    long = resubmitted(draft_plan(author=alice, client=case, goals=8), alice=alice, mark=mark, times=5)
    sign_in(client, alice)
    assert queries(client, reverse("plans:treatment_detail", args=[long.pk])) == queries(
        client, reverse("plans:treatment_detail", args=[short.pk]))


def test_the_reintegration_page_queries_do_not_grow_with_milestones(client, alice, case, carol):
    from tests.clients.helpers import make_client

    other = make_client(actor=alice, organisation=case.organisation, n=40)
    short = reintegration_plan(actor=alice, client=case, milestones=1)
    long = reintegration_plan(actor=alice, client=other, milestones=12)
    sign_in(client, alice)
    assert queries(client, reverse("plans:reintegration_detail", args=[long.pk])) == queries(
        client, reverse("plans:reintegration_detail", args=[short.pk]))


def test_the_client_page_queries_do_not_grow_with_plans(client, alice, mark, case):
    from tests.clients.helpers import make_client

    sign_in(client, alice)
    draft_plan(author=alice, client=case)
    reintegration_plan(actor=alice, client=case, milestones=1)
    few = queries(client, reverse("clients:detail", args=[case.pk]))
    for _ in range(4):
        resubmitted(draft_plan(author=alice, client=case, goals=3), alice=alice, mark=mark, times=1)
    plan = reintegration_plan(actor=alice, client=make_client(actor=alice, organisation=case.organisation, n=42))
    for _ in range(5):
        services.milestone_save(actor=alice, plan=plan, values=milestone_values())
    assert queries(client, reverse("clients:detail", args=[case.pk])) == few
