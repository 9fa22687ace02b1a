"""Whose figures a report counts (national, one province, one organisation), and who may ask for which.

A MoH reviewer sees the whole country, or one province when their membership is limited to it
(``Membership.province``, set by an administrator through a membership change, never by the reviewer). A
reviewer limited to a province who asks for the country or another province is refused with a message (and the
refusal is audited); an organisation outside their province answers "not found", as every record of another
organisation does. A centre manager sees the same reports for their own organisation only, with no choice.

A record is placed in a scope by the organisation the catalogue says it is counted at (``reports.catalogue``):
``Scope.q(path)`` filters on that organisation through the path from the record (``"organisation"``,
``"session__organisation"``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from casemgmt import access, audit
from casemgmt.models import AuditAction, Organisation
from casemgmt.roles import CARE_KINDS, Province, Role

NATIONAL = "national"
PROVINCE = "province"
ORGANISATION = "organisation"
KINDS = [(NATIONAL, _("The whole country")), (PROVINCE, _("One province")), (ORGANISATION, _("One organisation"))]

LABEL_NATIONAL = _("National")

ERROR_OTHER_PROVINCE = _("Your account sees the figures of %(province)s only: choose %(province)s, or one of its "
                         "organisations.")


class ScopeRefused(Exception):
    """A reviewer limited to a province asked for more: the message says what they may see."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Scope:
    kind: str
    province: str = ""
    organisation: Organisation | None = None

    @property
    def label(self) -> str:
        if self.kind == ORGANISATION:
            return f"{self.organisation} ({Province(self.organisation.province).label})"
        if self.kind == PROVINCE:
            return str(Province(self.province).label)
        return str(LABEL_NATIONAL)

    @property
    def slug(self) -> str:
        """For file names and audit reasons (never a client's anything: organisations and provinces only)."""
        if self.kind == ORGANISATION:
            return f"organisation-{self.organisation.pk}"
        if self.kind == PROVINCE:
            return f"province-{self.province}"
        return NATIONAL

    def q(self, path: str) -> Q:
        """The records counted at an organisation of this scope; ``path`` leads from the record to it."""
        if self.kind == ORGANISATION:
            return Q(**{path: self.organisation.pk})
        if self.kind == PROVINCE:
            return Q(**{f"{path}__province": self.province})
        return Q()

    def query(self) -> dict[str, str]:
        if self.kind == ORGANISATION:
            return {"scope": ORGANISATION, "organisation": str(self.organisation.pk)}
        if self.kind == PROVINCE:
            return {"scope": PROVINCE, "province": self.province}
        return {"scope": NATIONAL}

    def organisations(self):
        """The care organisations (centres and prison units) in the scope, for the tables' rows."""
        found = Organisation.objects.filter(kind__in=CARE_KINDS)
        if self.kind == ORGANISATION:
            return found.filter(pk=self.organisation.pk)
        if self.kind == PROVINCE:
            return found.filter(province=self.province)
        return found


@dataclass(frozen=True)
class Limit:
    """What a user may ask for: ``fixed`` (a manager's organisation), or a province (a limited reviewer), or
    anything (``province`` empty, not fixed)."""

    fixed: Scope | None = None
    province: str = ""

    @property
    def chooses(self) -> bool:
        return self.fixed is None

    def default(self) -> Scope:
        if self.fixed is not None:
            return self.fixed
        if self.province:
            return Scope(PROVINCE, province=self.province)
        return Scope(NATIONAL)


def limit_for(user) -> Limit | None:
    """None: the user sees no report at all."""
    role = access.role_of(user)
    if role == Role.MOH_REVIEWER:
        return Limit(province=user.membership.province)
    if role == Role.CENTRE_MANAGER:
        organisation = access.organisation_of(user)
        if organisation.kind in CARE_KINDS:
            return Limit(fixed=Scope(ORGANISATION, organisation=organisation))
    return None


def care_organisations(*, province: str = ""):
    found = Organisation.objects.filter(kind__in=CARE_KINDS).order_by("name")
    return found.filter(province=province) if province else found


def access_scope(*, user, kind: str, province: str = "", organisation_id=None) -> Scope:
    """The scope ``user`` asked for, checked against what they may see: ``ScopeRefused`` (audited) for a province
    or the country beyond a reviewer's limit; 404 for an organisation outside it (or none such); the fixed scope
    of a manager whatever they asked."""
    limit = limit_for(user)
    if limit is None:
        raise Http404
    if limit.fixed is not None:
        return limit.fixed
    if kind == ORGANISATION:
        organisation = care_organisations(province=limit.province).filter(pk=organisation_id).first()
        if organisation is None:
            raise Http404
        return Scope(ORGANISATION, organisation=organisation)
    if limit.province and (kind == NATIONAL or province != limit.province):
        audit.record(action=AuditAction.ACCESS_DENIED, object_type="reports.report",
                     reason=f"scope beyond the account's province: asked {kind} {province}".strip())
        raise ScopeRefused(str(ERROR_OTHER_PROVINCE % {"province": Province(limit.province).label}))
    if kind == PROVINCE:
        return Scope(PROVINCE, province=province)
    return Scope(NATIONAL)
