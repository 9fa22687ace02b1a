from django.shortcuts import render
from django.views.decorators.http import require_GET

from casemgmt import audit
from tests.featureapp import selectors


@require_GET
def notices(request):
    audit.record(action=audit.AuditAction.VIEW, object_type="featureapp.notice")
    return render(request, "featureapp/notices.html", {"notices": selectors.notices_for(user=request.user)})
