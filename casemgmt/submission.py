"""The one place where a form page's POST is handled: validate, call the service, show its refusal on the form,
or say so and move on (docs/adding-a-feature.md). Views stay: access, form, ``submitted(...)``, render."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from casemgmt.transitions import TransitionRefused
from casemgmt.versioning import ERROR_CONFLICT, Conflict

MESSAGE_SAVED = _("Saved.")


def form_errors_from(form, exc: ValidationError) -> None:
    """A service's ``ValidationError`` on the form: under its field where the form has it, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def submitted(request, form, save: Callable[[dict], object], *, then: Callable[[object], HttpResponse],
              message=MESSAGE_SAVED, on_conflict: Callable[[], HttpResponse] | None = None) -> HttpResponse | None:
    """On a valid POST, ``save(form.cleaned_data)``; on success the message and ``then(result)``. A refusal
    (``ValidationError``, ``TransitionRefused``) is put on the form and None returned: the view renders the form
    again, with what was typed. So is a ``Conflict`` (someone else saved the record meanwhile: nothing was
    written), unless ``on_conflict`` renders the conflict page (casemgmt.conflicts). Anything else (GET, invalid
    form) also returns None."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = save(form.cleaned_data)
    except ValidationError as exc:
        form_errors_from(form, exc)
        return None
    except TransitionRefused as exc:
        form.add_error(None, exc.message)
        return None
    except Conflict:
        if on_conflict is not None:
            return on_conflict()
        form.add_error(None, ERROR_CONFLICT)
        return None
    if message:
        messages.success(request, message)
    return then(result)
