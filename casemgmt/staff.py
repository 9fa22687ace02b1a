"""Staff membership changes in the app (separation of duties, docs/access.md).

Administrators propose changes in the administration site; a centre manager confirms or rejects those that
give a role with client data at their centre, here, and sees every change into or out of it. Auditors see
every change of every organisation.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from casemgmt import audit, selectors, services
from casemgmt.models import AuditAction, MembershipChange, MembershipChangeStatus
from casemgmt.roles import Role

PAGE_SIZE = 50
PANEL_SIZE = 5

MESSAGE_CONFIRMED = _("Confirmed: %(user)s is now %(change)s. Their open sessions have ended.")
MESSAGE_REJECTED = _("Rejected: %(user)s keeps what they had.")
ERROR_NO_DECISION = _("Choose Confirm or Reject.")
WHO_MANAGER = _("a centre manager of %(organisation)s")
WHO_ADMINISTRATOR = _("a system administrator other than the one who proposed it")


def who_confirms(change: MembershipChange) -> str:
    if selectors.confirmer_role(change) == Role.CENTRE_MANAGER:
        return str(WHO_MANAGER % {"organisation": change.to_organisation})
    return str(WHO_ADMINISTRATOR)


@require_GET
def staff_changes(request):
    organisation = request.organisation
    changes = selectors.membership_changes(organisation=organisation)
    decidable = set(selectors.membership_changes_to_decide(user=request.user).values_list("pk", flat=True))
    pending = list(changes.filter(status=MembershipChangeStatus.PENDING))
    for change in pending:
        change.decidable = change.pk in decidable
        change.waits_for = "" if change.decidable else who_confirms(change)
    page = Paginator(changes.exclude(status=MembershipChangeStatus.PENDING), PAGE_SIZE).get_page(
        request.GET.get("page"))
    audit.record(action=AuditAction.VIEW, object_type="membership_changes", object_id=organisation.pk)
    return render(request, "casemgmt/staff_changes.html",
                  {"organisation": organisation, "pending": pending, "page": page})


@require_POST
def staff_change_decide(request, change_id):
    change = selectors.access_membership_change(user=request.user, change_id=change_id)
    decision = request.POST.get("decision")
    if decision not in ("confirm", "reject"):
        messages.error(request, ERROR_NO_DECISION)
        return redirect("staff_changes")
    try:
        change = services.membership_change_decide(actor=request.user, change_id=change.pk,
                                                   confirm=decision == "confirm")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if decision == "confirm":
            messages.success(request, MESSAGE_CONFIRMED % {"user": change.user, "change": change.after_label()})
        else:
            messages.success(request, MESSAGE_REJECTED % {"user": change.user})
    return redirect("staff_changes")


@require_GET
def membership_changes(request):
    page = Paginator(selectors.membership_changes(), PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record(action=AuditAction.VIEW, object_type="membership_changes")
    return render(request, "casemgmt/membership_changes.html", {"page": page})


def staff_panel(request) -> dict | None:
    """The centre manager's home: staff changes waiting for their confirmation."""
    if request.role != Role.CENTRE_MANAGER:
        return None
    return {
        "template": "casemgmt/home/staff_panel.html",
        "to_decide": list(selectors.membership_changes_to_decide(user=request.user)[:PANEL_SIZE]),
    }
