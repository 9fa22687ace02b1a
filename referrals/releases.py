"""The referrals' items of the pre-release checklist (clients.releases): community treatment by a referral for
opioid agonist therapy, and, for clients living with HIV, ART continuity.

A referral counts when the prison unit sent it since the client's admission and it is on its way or done (sent,
accepted, attended, completed): a draft was never sent, and a referral declined, cancelled, missed or closed
unresolved leaves the client without the service, so the line shows as missing and offers a new referral.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from clients.models import HivStatus
from clients.releases import COMMUNITY_TREATMENT, ReleaseCheck, ReleaseLink
from clients.selectors import latest_hiv_statuses
from referrals.models import ReferralStatus, ServiceType
from referrals.selectors import referrals_visible_to

ART_CONTINUITY = "art_continuity"
COUNTING_STATUSES = (ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.ATTENDED, ReferralStatus.COMPLETED)
LIVING_WITH_HIV = (HivStatus.POSITIVE_NOT_ON_ART, HivStatus.POSITIVE_ON_ART)


def new_referral_url(client_id, service_type: str) -> str:
    return f"{reverse('referrals:new', args=[client_id])}?{urlencode({'service_type': service_type})}"


def continuity_checks(*, user, episodes: list) -> dict:
    """For every client: the community treatment line's referral item (opioid agonist therapy) and, for those whose
    latest screening says they live with HIV, the ART continuity line. Two queries for all the episodes."""
    admitted = {episode.client_id: episode.admitted_on for episode in episodes}
    living_with_hiv = {client_id for client_id, status in latest_hiv_statuses(admitted).items()
                       if status in LIVING_WITH_HIV}
    found: dict = {}
    referrals = (referrals_visible_to(user).filter(client_id__in=list(admitted), status__in=COUNTING_STATUSES,
                                                   service__service_type__in=[ServiceType.OAT, ServiceType.ART])
                 .select_related("service", "to_organisation").order_by("sent_at"))
    for referral in referrals:
        if referral.sent_at is not None and timezone.localdate(referral.sent_at) >= admitted[referral.client_id]:
            found.setdefault((referral.client_id, referral.service.service_type), referral)
    since = _("sent to a partner since the admission and not declined, cancelled or ended without care")
    checks = {}
    for client_id in admitted:
        checks[client_id] = [_check(
            found.get((client_id, ServiceType.OAT)), client_id=client_id, key=COMMUNITY_TREATMENT,
            label=_("Community treatment"), service_type=ServiceType.OAT,
            definition=_("a referral for methadone or other opioid agonist therapy, %(since)s") % {"since": since},
            refer=_("Refer for opioid agonist therapy"))]
        if client_id in living_with_hiv:
            checks[client_id].append(_check(
                found.get((client_id, ServiceType.ART)), client_id=client_id, key=ART_CONTINUITY,
                label=_("ART continuity"), service_type=ServiceType.ART,
                definition=_("a referral for ART initiation and continuation, %(since)s (only for clients whose "
                             "latest screening records them as living with HIV)") % {"since": since},
                refer=_("Refer for ART")))
    return checks


def _check(referral, *, client_id, key: str, label: str, service_type: str, definition: str,
           refer: str) -> ReleaseCheck:
    if referral is None:
        return ReleaseCheck(key=key, label=label, done=False, definition=definition,
                            links=(ReleaseLink(refer, new_referral_url(client_id, service_type)),))
    detail = _("Referral to %(partner)s: %(status)s") % {"partner": referral.to_organisation.name,
                                                          "status": referral.get_status_display()}
    return ReleaseCheck(key=key, label=label, done=True, definition=definition, detail=detail,
                        links=(ReleaseLink(_("Open the referral"), reverse("referrals:detail", args=[referral.pk])),))
