"""Platform pages: signing in and out, two-factor, home, audit trail, key status, errors."""

from __future__ import annotations

import base64
import io

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login

from casemgmt import audit, audit_texts, audit_verification, crypto, selectors, services
from casemgmt import home as home_panels
from casemgmt.forms import ERROR_BAD_TOKEN, ROLE_HOME_TEMPLATES, AuditFilterForm, SignInForm, TokenForm
from casemgmt.models import AuditAction

AUDIT_PAGE_SIZE = 50
MESSAGE_ENROLLED = _("Two-factor authentication is set up. You will need your app at every sign-in.")


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "registration/signin.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(action=AuditAction.PASSWORD_CHANGED, object_type="auth.user", object_id=self.request.user.pk)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


@require_http_methods(["GET", "POST"])
def otp_verify(request):
    if request.user.is_verified():
        return redirect(_next_url(request))
    device = selectors.confirmed_device(user=request.user)
    if device is None:
        return redirect(f"{reverse('otp_setup')}?next={_next_url(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verified, _detail = device.verify_is_allowed()
        if verified and device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            audit.record(action=AuditAction.OTP_VERIFIED, object_type="auth.user", object_id=request.user.pk)
            return redirect(_next_url(request))
        audit.record(action=AuditAction.OTP_FAILED, object_type="auth.user", object_id=request.user.pk)
        form.add_error("token", ERROR_BAD_TOKEN)
    return render(request, "registration/otp_verify.html", {"form": form, "next": _next_url(request)})


@require_http_methods(["GET", "POST"])
def otp_setup(request):
    if selectors.confirmed_device(user=request.user) is not None:
        return redirect(f"{reverse('otp_verify')}?next={_next_url(request)}")
    device = services.otp_device_for_enrolment(user=request.user, name=str(_("Authenticator app")))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            audit.record(action=AuditAction.OTP_ENROLLED, object_type="auth.user", object_id=request.user.pk)
            messages.success(request, MESSAGE_ENROLLED)
            return redirect(_next_url(request))
        audit.record(action=AuditAction.OTP_FAILED, object_type="auth.user", object_id=request.user.pk)
        form.add_error("token", ERROR_BAD_TOKEN)
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_data_uri": qr_data_uri(device.config_url),
        "secret": base64.b32encode(device.bin_key).decode().rstrip("="),
    }
    return render(request, "registration/otp_setup.html", context)


def qr_data_uri(text: str) -> str:
    """A QR code as an SVG image in a data URI: a standalone document, so it carries its namespace
    (segno's inline SVG omits it, and a browser then draws nothing)."""
    svg = io.BytesIO()
    segno.make(text, error="m").save(svg, kind="svg", scale=4, dark="#000", light="#fff", xmldecl=False,
                                     svgclass=None, lineclass=None)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode()


@require_GET
def favicon(request):
    return redirect(static("favicon.ico"), permanent=True)


@require_GET
def home(request):
    return render(request, ROLE_HOME_TEMPLATES[request.role],
                  {"organisation": request.organisation, "panels": home_panels.panels_for(request)})


@require_GET
def audit_events(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.audit_events_filtered(
        username=filters.get("user", ""), action=filters.get("action", ""),
        since=filters.get("since"), until=filters.get("until"), obj=filters.get("object", ""),
    )
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    names = selectors.organisation_names([*(event.organisation_id for event in page.object_list),
                                          *audit_texts.organisation_ids_in(page.object_list)])
    for event in page.object_list:
        event.organisation_name = names.get(event.organisation_id, "")
    audit_texts.describe_all(page.object_list, organisation_names=names)
    audit.record(action=AuditAction.VIEW, object_type="audit_trail", fields=sorted(k for k, v in filters.items() if v))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "casemgmt/audit_events.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "last_verification": selectors.last_audit_verification(),
        },
    )


@require_POST
def audit_verify(request):
    """The same verification as ``manage.py verify_audit``, run by an auditor and audited."""
    result = audit_verification.verify_and_record()
    messages.add_message(request, messages.SUCCESS if result.ok else messages.ERROR, " ".join(result.lines()))
    return redirect("audit_events")


@require_GET
def key_status(request):
    ring = crypto.keyring()
    return render(
        request,
        "casemgmt/key_status.html",
        {
            "keks": sorted(ring.keks),
            "active_kek": ring.active_kek,
            "index_keys": sorted(ring.index_keys),
            "active_index_key": ring.active_index_key,
            "data_keys": selectors.data_key_status(),
            "bits": crypto.blind_index_bits(),
            "expected_subjects": settings.CASEMGMT_EXPECTED_SUBJECTS,
        },
    )


def csrf_failure(request, reason=""):
    audit.record(action=AuditAction.CSRF_FAILURE, object_type="url", object_id=request.path[:64])
    return render(request, "errors/csrf.html", status=403)


def error_400(request, exception=None):
    return render(request, "errors/400.html", status=400)


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_500(request):
    # No request context: whatever failed (the database, a key) must not fail this page too.
    return HttpResponseServerError(loader.get_template("errors/500.html").render({}))
