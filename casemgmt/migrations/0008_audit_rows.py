"""Row digests in the audit chain (casemgmt.integrity), and the actions of this release."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('casemgmt', '0007_audit_tail'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('signin', 'Signed in'), ('signin_failed', 'Sign-in failed'), ('signin_refused', 'Sign-in refused'), ('signout', 'Signed out'), ('lockout', 'Locked out'), ('session_expired', 'Session expired'), ('password_changed', 'Password changed'), ('otp_enrolled', 'Two-factor enrolled'), ('otp_verified', 'Two-factor verified'), ('otp_failed', 'Two-factor failed'), ('otp_reset', 'Two-factor reset'), ('access_denied', 'Access denied'), ('csrf_failure', 'Forged or expired form'), ('view', 'Viewed'), ('create', 'Created'), ('change', 'Changed'), ('delete', 'Deleted'), ('print', 'Printed'), ('export', 'Exported'), ('search', 'Searched'), ('break_glass', 'Break-glass access'), ('consent_change', 'Consent changed'), ('key_generated', 'Keys generated'), ('key_rotated', 'Keys rotated'), ('blind_index_rebuilt', 'Blind indexes rebuilt'), ('subject_erased', 'Subject erased'), ('record_damaged', 'Record damaged'), ('record_written', 'Record written'), ('rows_verified', 'Records verified against the audit trail'), ('audit_verified', 'Audit trail verification')], db_index=True, max_length=32),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='rows',
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
    ]
