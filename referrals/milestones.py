"""Referrals beside a reintegration milestone (``plans.links``): each referral made for it, with its state, and a
"Refer" link that opens the referral form with the milestone chosen. Plans never import this app; it registers
``milestone_links`` from its ``AppConfig.ready``."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from casemgmt import access
from casemgmt.roles import CARE_STAFF
from clients.models import Consent, ConsentKind
from clients.selectors import clients_visible_to
from plans.links import MilestoneLink
from referrals.selectors import is_overdue, referrals_visible_to


def milestone_links(*, user, milestones) -> dict:
    """For the milestones of one page, in four queries whatever their number: the referrals the user may see that
    serve each (service and state: never the client), and "Refer" beside each milestone not achieved of an open
    plan, where the user may change the client's record and the client has a sharing consent in force."""
    if access.role_of(user) not in CARE_STAFF:
        return {}
    from plans.models import ReintegrationPlan, ReintegrationStatus

    found: dict = {}
    referrals = (referrals_visible_to(user).filter(milestone_id__in=[m.pk for m in milestones])
                 .select_related("service").only("id", "status", "sent_at", "accepted_at", "due_on", "milestone_id",
                                                  "hiv_tested_on", "hiv_result", "hiv_confirmatory_result",
                                                  "art_initiated_on", "service__service_type", "service__target_days")
                 .order_by("created_at"))
    for referral in referrals:
        label = _("Referral for %(service)s: %(status)s") % {
            "service": referral.service.get_service_type_display(), "status": referral.get_status_display()}
        if is_overdue(referral):
            label = f"{label} · {_('Overdue')}"
        found.setdefault(referral.milestone_id, []).append(
            MilestoneLink(label=label, url=reverse("referrals:detail", args=[referral.pk])))
    waiting = [m for m in milestones if m.achieved_on is None]
    if not waiting:
        return found
    today = timezone.localdate()
    writable = set(clients_visible_to(user, write=True).filter(pk__in={m.client_id for m in waiting})
                   .values_list("pk", flat=True))
    consenting = {c.client_id for c in Consent.objects.filter(client_id__in=writable, kind=ConsentKind.SHARING)
                  .only("id", "client_id", "given_on", "expires_on", "revoked_on") if c.is_active(today)}
    open_plans = set(ReintegrationPlan.objects.filter(pk__in={m.plan_id for m in waiting},
                                                      status=ReintegrationStatus.OPEN).values_list("pk", flat=True))
    for milestone in waiting:
        if milestone.client_id in consenting and milestone.plan_id in open_plans:
            url = f"{reverse('referrals:new', args=[milestone.client_id])}?milestone={milestone.pk}"
            found.setdefault(milestone.pk, []).append(MilestoneLink(label=_("Refer"), url=url))
    return found
