"""Write the service directory as Open Referral HSDS 3.0-shaped JSON (no client data is in the directory)."""

from __future__ import annotations

import json
import uuid

from casemgmt import audit
from casemgmt.management.base import AuditedCommand
from casemgmt.models import AuditAction
from referrals import selectors

# Stable ids for the HSDS objects derived from one directory row: the same export twice gives the same ids.
NAMESPACE = uuid.UUID("6f1c4d5e-9a1b-4e0e-8f4a-2b7d3c9e1a55")


def _derived(kind: str, service_id) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{service_id}"))


def hsds_directory() -> list[dict]:
    """Organizations, each with its services; each service at its location, with its schedule."""
    organizations: dict = {}
    for service in selectors.directory().order_by("organisation__name", "service_type", "pk"):
        organisation = service.organisation
        entry = organizations.setdefault(organisation.pk, {
            "id": str(organisation.pk), "name": organisation.name, "description": "",
            "services": [], "locations": [],
        })
        location_id = _derived("location", service.pk)
        entry["locations"].append({
            "id": location_id, "organization_id": str(organisation.pk), "location_type": "physical",
            "name": organisation.name, "languages": [{"name": n.strip()} for n in service.languages.split(",")
                                                     if n.strip()],
            "addresses": [{"address_1": service.address, "city": service.district,
                           "state_province": service.get_province_display(), "region": service.province,
                           "country": "KH", "address_type": "physical"}],
        })
        entry["services"].append({
            "id": str(service.pk), "organization_id": str(organisation.pk),
            "name": str(service.get_service_type_display()), "description": service.description,
            "status": "active" if service.accepting_referrals else "inactive",
            "eligibility_description": service.eligibility, "fees_description": service.cost,
            "languages": [{"name": n.strip()} for n in service.languages.split(",") if n.strip()],
            "contacts": [{"name": service.contact}] if service.contact else [],
            "attributes": [{"taxonomy_term": {"code": service.service_type}}],
            "service_at_locations": [{
                "id": _derived("service_at_location", service.pk), "service_id": str(service.pk),
                "location_id": location_id,
                "schedules": [{"id": _derived("schedule", service.pk), "description": service.hours}],
            }],
        })
    return list(organizations.values())


class Command(AuditedCommand):
    help = ("Write the partner service directory as Open Referral HSDS 3.0-shaped JSON: organizations with their "
            "services, locations, service_at_locations and schedules. The directory holds no client data.")

    def add_arguments(self, parser):
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args, **options):
        data = json.dumps(hsds_directory(), ensure_ascii=False, indent=2)
        audit.record(action=AuditAction.EXPORT, object_type="referrals.partnerservice")
        if options.get("output"):
            with open(options["output"], "w", encoding="utf-8") as out:
                out.write(data + "\n")
        else:
            self.stdout.write(data)
