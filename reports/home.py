"""The reports on the home page: the reviewer's home is the dashboard (for the scope and period they see by
default: their whole country or province, the last full month); a centre manager's has a link to their centre's."""

from __future__ import annotations

from casemgmt.roles import Role


def reports_panel(request) -> dict | None:
    if request.role == Role.MOH_REVIEWER:
        from reports.forms import ReportForm
        from reports.views import dashboard_context, record_report

        form = ReportForm(None, user=request.user)
        scope, period = form.chosen()
        context = dashboard_context(request, form=form, scope=scope, period=period)
        record_report(action="view", page="home dashboard", scope=scope, period=period)
        return {"template": "reports/home_dashboard.html", **context}
    if request.role == Role.CENTRE_MANAGER:
        return {"template": "reports/home_manager.html"}
    return None
