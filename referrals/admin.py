"""The service directory in the administration site: partner services are not client data.

Only ``PartnerService`` is registered here; referrals never are (tests/casemgmt/test_admin.py pins it).
"""

from django.contrib import admin

from referrals import services
from referrals.models import PartnerService


@admin.register(PartnerService)
class PartnerServiceAdmin(admin.ModelAdmin):
    list_display = ["service_type", "organisation", "province", "accepting_referrals", "target_days"]
    list_filter = ["service_type", "province", "accepting_referrals"]
    fields = ["organisation", *services.DIRECTORY_FIELDS]

    def save_model(self, request, obj, form, change):
        services.partner_service_save_by_administrator(actor=request.user, service=obj,
                                                       changed=list(form.changed_data))

    def has_delete_permission(self, request, obj=None):
        return False  # referrals point at their service: stop accepting referrals instead
