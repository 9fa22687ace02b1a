"""Request middleware: security headers, idle timeout, audit context, the access policy."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from casemgmt import access, audit, crypto
from casemgmt.fields import RecordDamaged
from casemgmt.models import AuditAction

logger = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

MESSAGE_SESSION_EXPIRED = _("Your session ended after %(minutes)d minutes without activity. Please sign in again.")
MESSAGE_MEMBERSHIP_CHANGED = _(
    "Your session ended because your role or organisation changed, or your sign-in was reset. "
    "Please sign in again."
)
MESSAGE_NO_MEMBERSHIP = _(
    "Your account is not attached to an active organisation. Ask your system administrator to check it."
)


def client_ip(request) -> str | None:
    proxies = getattr(settings, "CASEMGMT_PROXY_COUNT", 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            # Pages with case data must not be kept by shared browsers or proxies.
            response.headers["Cache-Control"] = "no-store"
        return response


class IdleTimeoutMiddleware:
    """Signs out a session that has seen no request for ``SESSION_IDLE_TIMEOUT_MINUTES``.

    Activity is recorded when the last record is ``SESSION_ACTIVITY_RESOLUTION_SECONDS`` old or more, so
    that browsing does not write the session on every page. The record is never newer than the last
    request: a session ends no later than the timeout after it, and at most that resolution earlier.
    """

    SESSION_KEY = "casemgmt_last_activity"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            timeout = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            last = request.session.get(self.SESSION_KEY)
            if last is not None and now - last > timeout:
                audit.record(action=AuditAction.SESSION_EXPIRED, user=request.user, ip_address=client_ip(request))
                logout(request)
                messages.info(request, MESSAGE_SESSION_EXPIRED % {"minutes": settings.SESSION_IDLE_TIMEOUT_MINUTES})
                return redirect_to_login(request.get_full_path())
            if last is None or now - last >= settings.SESSION_ACTIVITY_RESOLUTION_SECONDS:
                request.session[self.SESSION_KEY] = now
        return self.get_response(request)


class MembershipChangedMiddleware:
    """Ends the session of an account whose membership changed since it signed in.

    A confirmed change, a removal, a second-factor reset, a password set by an administrator or a deactivation
    bumps the membership's ``generation``; the session keeps the value it signed in under. The membership
    comes with the user (``MembershipBackend``): no extra query.
    """

    SESSION_KEY = "casemgmt_membership"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and request.session.get(self.SESSION_KEY) != access.membership_stamp(user):
            audit.record(action=AuditAction.SESSION_EXPIRED, user=user, ip_address=client_ip(request),
                         reason="membership changed")
            logout(request)
            messages.info(request, MESSAGE_MEMBERSHIP_CHANGED)
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class AuditContextMiddleware:
    """Events recorded while handling a request name its user, organisation, role and address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit.actor_context(audit.Actor.from_user(request.user, client_ip(request))):
            return self.get_response(request)


class AccessPolicyMiddleware:
    """Applies ``access.POLICY`` before any view runs. No entry, no access."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        rule = access.rule_for(match.view_name if match else None)
        if rule is None:
            return forbidden(request)
        if rule.public:
            return None
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        role = access.role_of(user)
        if role is None:
            audit.record(action=AuditAction.SIGNIN_REFUSED, user=user, reason="no active membership")
            logout(request)
            messages.error(request, MESSAGE_NO_MEMBERSHIP)
            return redirect("signin")
        if access.needs_second_factor(user) and not user.is_verified() and not rule.before_second_factor:
            return redirect_to_login(request.get_full_path(), login_url="otp_verify")
        if role not in rule.roles:
            return forbidden(request)
        request.role = role
        request.organisation = user.membership.organisation
        return None


def forbidden(request):
    audit.record(action=AuditAction.ACCESS_DENIED, object_type="url", object_id=request.path[:64])
    return render(request, "errors/403.html", status=403)


class RecordDamagedMiddleware:
    """A value that fails authentication shows a clear "record damaged" page, never a traceback or a wrong value.

    With status 500: the fault is on the server's side (its stored data), and monitoring counts 5xx answers. The
    encrypted field has already audited it and logged an error naming the record and field; a failure that did
    not come through a field is audited and logged here, naming the page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, crypto.SubjectErased):
            return render(request, "errors/erased.html", status=410)
        if isinstance(exception, crypto.DecryptionFailed):
            if not isinstance(exception, RecordDamaged):
                logger.error("Record damaged: a stored value failed authentication while serving %s", request.path)
                audit.record(action=AuditAction.RECORD_DAMAGED, object_type="url", object_id=request.path[:64])
            return render(request, "errors/record_damaged.html", status=500)
        return None
