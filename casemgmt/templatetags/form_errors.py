"""The error summary at the top of a form (templates/includes/form_fields.html)."""

from django import template

register = template.Library()


@register.simple_tag
def fields_in_error(form) -> list:
    """The form's visible fields that have errors, in the order the form shows them."""
    return [field for field in form.visible_fields() if field.errors]
