"""Counselling pages. Thin: the policy (middleware), the access call, the form, the service, the redirect."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from casemgmt import audit
from casemgmt.conflicts import conflict_page
from casemgmt.models import AuditAction
from casemgmt.submission import form_errors_from, submitted
from casemgmt.transitions import TransitionRefused
from clients import selectors as client_selectors
from counselling import dates, forms, selectors, services
from counselling.models import Attendance, FlagStatus, Modality, SessionStatus

PAGE_SIZE = 50

MESSAGE_RECORDED = _("The session is recorded.")
MESSAGE_SCHEDULED = _("The appointment is scheduled.")
MESSAGE_GROUP_SCHEDULED = _("The group session is scheduled.")
MESSAGE_NOTHING_TO_RECORD = _("Everyone in this session you may see is recorded already.")
MESSAGE_FLAG_RESOLVED = _("The risk flag is resolved.")
MESSAGE_TASK_DONE = _("The follow-up is marked done.")


def _to_client_page(client_id):
    return lambda _result: redirect("clients:detail", client_id=client_id)


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --------------------------------------------------------------------------------------------
# A client's sessions and appointments (from the client's page)


@require_http_methods(["GET", "POST"])
def session_add(request, client_id):
    client = client_selectors.access_client(user=request.user, client_id=client_id, write=True)
    form = forms.SessionForm(request.POST or None, initial={"starts_at": selectors.now_minute(),
                                                            "modality": Modality.INDIVIDUAL})
    done = submitted(request, form, lambda data: services.session_record(actor=request.user, client=client, **data),
                     then=_to_client_page(client.pk), message=MESSAGE_RECORDED)
    return done or render(request, "counselling/session_form.html", {"form": form, "client": client})


@require_http_methods(["GET", "POST"])
def appointment_add(request, client_id):
    client = client_selectors.access_client(user=request.user, client_id=client_id, write=True)
    form = forms.AppointmentForm(request.POST or None, initial={"modality": Modality.INDIVIDUAL})
    done = submitted(request, form, lambda data: services.appointment_schedule(actor=request.user, client=client,
                                                                               **data),
                     then=_to_client_page(client.pk), message=MESSAGE_SCHEDULED)
    return done or render(request, "counselling/appointment_form.html", {"form": form, "client": client})


@require_GET
def client_sessions(request, client_id):
    client = client_selectors.access_client(user=request.user, client_id=client_id)
    page = _page(request, selectors.client_history(client=client))
    for participant in page.object_list:
        participant.client = client
    audit.record(action=AuditAction.VIEW, object_type="counselling.participant", client_id=client.pk,
                 fields=["attendance", "note"])
    return render(request, "counselling/client_sessions.html", {"client": client, "page": page,
                                                                "organisation": request.organisation})


@require_http_methods(["GET", "POST"])
def flag_resolve(request, client_id, flag_id):
    flag = selectors.access_flag(user=request.user, client_id=client_id, flag_id=flag_id)
    form = forms.ResolveFlagForm(request.POST or None)
    done = submitted(request, form, lambda data: services.flag_resolve(actor=request.user, flag=flag, **data),
                     then=_to_client_page(flag.client_id), message=MESSAGE_FLAG_RESOLVED)
    if done:
        return done
    if flag.status != FlagStatus.OPEN:  # resolved: the page shows how
        audit.record(action=AuditAction.VIEW, object_type="counselling.riskflag", object_id=flag.pk,
                     client_id=flag.client_id, fields=["resolution_note"])
    return render(request, "counselling/flag_resolve.html", {"form": form, "client": flag.client, "flag": flag})


# --------------------------------------------------------------------------------------------
# Sessions


@require_GET
def sessions(request):
    start = dates.day_start(dates.today())
    upcoming = list(selectors.upcoming_sessions(user=request.user)[:PAGE_SIZE])
    page = _page(request, selectors.user_sessions(user=request.user).exclude(
        status=SessionStatus.SCHEDULED, starts_at__gte=start))
    selectors.visible_participants(user=request.user, sessions=[*upcoming, *page.object_list])
    audit.record(action=AuditAction.VIEW, object_type="counselling.sessions")
    return render(request, "counselling/sessions.html", {"upcoming": upcoming, "page": page})


@require_http_methods(["GET", "POST"])
def group_new(request):
    form = forms.GroupSessionForm(request.POST or None, initial={"starts_at": selectors.now_minute()})

    def save(data):
        return services.group_session_create(
            actor=request.user, starts_at=data["starts_at"], clients=_clients_by_uic(request, data["participants"]),
            held=data["held"], duration_minutes=data["duration_minutes"], approach=data["approach"])

    def then(session):
        if form.cleaned_data["held"]:  # it took place: its attendance next
            return redirect("counselling:session_record", session_id=session.pk)
        messages.success(request, MESSAGE_GROUP_SCHEDULED)
        return redirect("counselling:session", session_id=session.pk)

    done = submitted(request, form, save, then=then, message=None)
    return done or render(request, "counselling/group_form.html", {"form": form})


def _clients_by_uic(request, uics) -> list:
    """The clients the UICs name, among those the user may write (exact, through the blind index); otherwise a
    ``ValidationError`` naming only what the user typed."""
    found, errors = selectors.writable_clients_by_uic(user=request.user, uics=uics)
    audit.record(action=AuditAction.SEARCH, object_type="clients.client", fields=["uic"])
    if errors:
        raise ValidationError({"participants": [
            ValidationError(forms.ERROR_UIC_NOT_FOUND if problem == "none" else forms.ERROR_UIC_AMBIGUOUS,
                            params={"uic": uic}) for uic, problem in errors]})
    return found


@require_GET
def session_detail(request, session_id):
    session = selectors.access_session(user=request.user, session_id=session_id)
    selectors.visible_participants(user=request.user, sessions=[session])
    selectors.with_flags_raised(session.visible)
    for participant in session.visible:
        audit.record(action=AuditAction.VIEW, object_type="counselling.participant", object_id=participant.pk,
                     client_id=participant.client_id, fields=["attendance", "note"])
    audit.record(action=AuditAction.VIEW, object_type="counselling.session", object_id=session.pk)
    return render(request, "counselling/session.html", {
        "session": session,
        "to_record": any(p.attendance == Attendance.SCHEDULED for p in session.visible),
        "client": session.visible[0].client if not session.is_group and session.visible else None,
    })


@require_http_methods(["GET", "POST"])
def session_record(request, session_id):
    session = selectors.access_session(user=request.user, session_id=session_id)
    selectors.visible_participants(user=request.user, sessions=[session], write=True)
    data = request.POST if request.method == "POST" else None
    # Those still to record, and those the posted page was recording (recorded by someone else meanwhile: the
    # save is refused and what was typed stays on the page).
    rows = [(p, forms.ParticipantOutcomeForm(data, prefix=f"p-{p.pk}")) for p in session.visible
            if p.attendance == Attendance.SCHEDULED or (data is not None and f"p-{p.pk}-attendance" in data)]
    if not rows:
        messages.info(request, MESSAGE_NOTHING_TO_RECORD)
        return redirect("counselling:session", session_id=session.pk)
    outcome = forms.OutcomeForm(data, group=session.is_group, initial={
        "duration_minutes": session.duration_minutes, "approach": session.approach})
    status = 200
    if data is not None and outcome.is_valid() and all(form.is_valid() for _p, form in rows):
        try:
            services.session_record_outcome(
                actor=request.user, session=session,
                outcomes=[services.Outcome(participant=p, attendance=form.cleaned_data["attendance"],
                                           note=form.cleaned_data["note"],
                                           risk_flags=tuple(form.cleaned_data["risk_flags"])) for p, form in rows],
                duration_minutes=outcome.cleaned_data["duration_minutes"], approach=outcome.cleaned_data["approach"],
                next_appointment=outcome.cleaned_data.get("next_appointment"))
        except TransitionRefused as exc:
            outcome.add_error(None, exc.message)
            status = 409
        except ValidationError as exc:  # each participant's refusal under their attendance, the others on top
            by_participant = {f"participant:{p.pk}": form for p, form in rows}
            for name, errors in exc.message_dict.items():
                target = by_participant.get(name)
                if target is not None:
                    target.add_error("attendance", errors)
                else:
                    form_errors_from(outcome, ValidationError({name: errors}))
        else:
            messages.success(request, MESSAGE_RECORDED)
            if not session.is_group and session.visible:
                return redirect("clients:detail", client_id=session.visible[0].client_id)
            return redirect("counselling:session", session_id=session.pk)
    return render(request, "counselling/record.html", {
        "session": session, "outcome": outcome, "rows": rows,
        "client": session.visible[0].client if not session.is_group and session.visible else None,
    }, status=status)


@require_http_methods(["GET", "POST"])
def note_edit(request, session_id, participant_id):
    session = selectors.access_session(user=request.user, session_id=session_id)
    participant = selectors.access_participant(user=request.user, session=session, participant_id=participant_id,
                                               write=True)
    form = forms.NoteForm(request.POST or None, initial={"note": participant.note, "version": participant.version})
    context = {"client": participant.client, "participant": participant, "session": session}
    if request.method == "GET":
        audit.record(action=AuditAction.VIEW, object_type="counselling.participant", object_id=participant.pk,
                     client_id=participant.client_id, fields=["note"])

    def conflict():
        current = selectors.access_participant(user=request.user, session=session, participant_id=participant_id,
                                               write=True)
        return conflict_page(request, form=form, current={"note": current.note}, version=current.version,
                             template="counselling/note_form.html", context={**context, "participant": current})

    done = submitted(request, form, lambda data: services.participant_note_update(
        actor=request.user, participant=participant, note=data["note"], expected_version=data["version"]),
        then=_to_client_page(participant.client_id), on_conflict=conflict)
    return done or render(request, "counselling/note_form.html", {**context, "form": form})


# --------------------------------------------------------------------------------------------
# Follow-up: flags, tasks, clients not seen


@require_GET
def flags(request):
    page = _page(request, selectors.open_flags(user=request.user).with_data_keys())
    audit.record(action=AuditAction.VIEW, object_type="counselling.riskflags")
    return render(request, "counselling/flags.html", {"page": page})


@require_GET
def tasks(request):
    page = _page(request, selectors.open_tasks(user=request.user).with_data_keys())
    page.object_list = selectors.tasks_with_due(page.object_list)
    audit.record(action=AuditAction.VIEW, object_type="counselling.followuptasks")
    return render(request, "counselling/tasks.html", {"page": page})


@require_POST
def task_done(request, task_id):
    task = selectors.access_task(user=request.user, task_id=task_id)
    try:
        services.task_complete(actor=request.user, task=task)
    except TransitionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, MESSAGE_TASK_DONE)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = reverse("counselling:tasks")
    return redirect(target)


@require_GET
def not_seen(request):
    page = _page(request, selectors.not_seen(user=request.user).with_data_keys())
    audit.record(action=AuditAction.VIEW, object_type="counselling.not_seen")
    return render(request, "counselling/not_seen.html", {"page": page, "days": dates.NOT_SEEN_DAYS})
