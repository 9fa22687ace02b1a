from django.contrib import admin
from django.urls import path
from django.views.i18n import set_language

from casemgmt import features, staff, views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("signin/", views.SignInView.as_view(), name="signin"),
    path("signout/", views.SignOutView.as_view(), name="signout"),
    path("account/two-factor/", views.otp_verify, name="otp_verify"),
    path("account/two-factor/setup/", views.otp_setup, name="otp_setup"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("account/password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("language/", set_language, name="set_language"),
    path("organisation/staff/", staff.staff_changes, name="staff_changes"),
    path("organisation/staff/<int:change_id>/decide/", staff.staff_change_decide, name="staff_change_decide"),
    path("audit/", views.audit_events, name="audit_events"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("audit/memberships/", staff.membership_changes, name="membership_changes"),
    path("administration/keys/", views.key_status, name="key_status"),
    path("administration/", admin.site.urls),
    # Feature apps mount themselves (casemgmt.features.register_urls, from their AppConfig.ready).
    *features.url_patterns(),
]

handler400 = "casemgmt.views.error_400"
handler403 = "casemgmt.views.error_403"
handler404 = "casemgmt.views.error_404"
handler500 = "casemgmt.views.error_500"
