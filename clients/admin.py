"""Consent wordings in the administration site: the texts read to clients are the same for every client, not
client data.

``ConsentWording`` is the one model of the clients app registered here (tests/casemgmt/test_admin.py pins it). A
new text is a new version (*Add consent wording*, with the kind and the language); a version that a consent
records is shown read-only and can never change (clients.services refuses it too); none is ever deleted.
"""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from clients import selectors, services
from clients.models import Consent, ConsentWording


@admin.register(ConsentWording)
class ConsentWordingAdmin(admin.ModelAdmin):
    list_display = ["kind", "language", "version", "published_on", "in_use"]
    list_filter = ["kind", "language"]
    fields = ["kind", "language", "version", "text", "published_on"]
    ordering = ["kind", "language", "-version"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            read_to_clients=Exists(Consent.objects.filter(wording=OuterRef("pk"))))

    @admin.display(description=_("read to clients"), boolean=True)
    def in_use(self, obj) -> bool:
        return bool(getattr(obj, "read_to_clients", False))

    def get_readonly_fields(self, request, obj=None):
        # The version is the next one of its kind and language; a wording keeps its kind and language.
        return ["version"] if obj is None else ["kind", "language", "version"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and selectors.wording_in_use(obj):
            return False  # read to clients: a new version instead
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # consents point at their wording

    def save_model(self, request, obj, form, change):
        services.consent_wording_save(actor=request.user, wording=obj, changed=list(form.changed_data))
