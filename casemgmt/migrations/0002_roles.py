"""Roles as groups (docs/access.md), with the model permissions the administration pages need.

The system administrator gets permissions on accounts, organisations, memberships,
two-factor devices and lockouts: never on any client or referral model.
"""

from django.db import migrations

ROLES = ["counsellor", "centre_manager", "referral_officer", "moh_reviewer", "auditor", "system_administrator"]

# A copy frozen with this migration; casemgmt.roles keeps the current list (applied after each migrate).
ADMIN_PERMISSIONS = [
    ("auth", "user", ["add", "change", "view"]),
    ("casemgmt", "organisation", ["add", "change", "view"]),
    ("casemgmt", "membership", ["add", "change", "delete", "view"]),
    ("otp_totp", "totpdevice", ["view", "delete"]),
    ("axes", "accessattempt", ["view", "delete"]),
]


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    admin_group = Group.objects.get(name="system_administrator")
    for app_label, model, actions in ADMIN_PERMISSIONS:
        for action in actions:
            admin_group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("casemgmt", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("otp_totp", "0003_add_timestamps"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
