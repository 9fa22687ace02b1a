from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casemgmt import normalise

ERROR_FUTURE_DATE = _("This date is in the future.")


def not_in_future(value) -> None:
    if value and hasattr(value, "isoformat") and value > timezone.localdate():
        raise ValidationError(ERROR_FUTURE_DATE, code="future")


def valid_phone(value) -> None:
    if value:
        normalise.phone(value)


def not_in_future_field(name: str, value) -> None:
    try:
        not_in_future(value)
    except ValidationError as exc:
        raise ValidationError({name: exc.messages}) from None
