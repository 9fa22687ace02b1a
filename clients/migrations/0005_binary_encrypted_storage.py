"""Encrypted values move from their text form (cm1: + base64) to binary columns: a quarter smaller,
with nothing to decode before decrypting. The same bytes either way: nothing is decrypted or re-encrypted."""

import casemgmt.fields
import clients.validators
from django.db import migrations

from casemgmt.storage import binary_storage


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0004_caseload_count_index'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # One conversion per column that knows the stored format, rather than the generic type change.
            database_operations=[binary_storage('clients')],
            state_operations=[
                migrations.AlterField(
                    model_name='client',
                    name='commune',
                    field=casemgmt.fields.EncryptedCharField(blank=True, default='', max_length=100, verbose_name='commune'),
                ),
                migrations.AlterField(
                    model_name='client',
                    name='date_of_birth',
                    field=casemgmt.fields.EncryptedDateField(validators=[clients.validators.not_in_future], verbose_name='date of birth'),
                ),
                migrations.AlterField(
                    model_name='client',
                    name='district',
                    field=casemgmt.fields.EncryptedCharField(blank=True, default='', max_length=100, verbose_name='district'),
                ),
                migrations.AlterField(
                    model_name='client',
                    name='family_name',
                    field=casemgmt.fields.EncryptedCharField(max_length=100, verbose_name='family name'),
                ),
                migrations.AlterField(
                    model_name='client',
                    name='father_first_name',
                    field=casemgmt.fields.EncryptedCharField(max_length=100, verbose_name="father's first name"),
                ),
                migrations.AlterField(
                    model_name='client',
                    name='given_name',
                    field=casemgmt.fields.EncryptedCharField(max_length=100, verbose_name='given name'),
                ),
                migrations.AlterField(
                    model_name='client',
                    name='mother_first_name',
                    field=casemgmt.fields.EncryptedCharField(max_length=100, verbose_name="mother's first name"),
                ),
                migrations.AlterField(
                    model_name='client',
                    name='national_id',
                    field=casemgmt.fields.EncryptedCharField(blank=True, max_length=32, null=True, verbose_name='national ID'),
                ),
                migrations.AlterField(
                    model_name='client',
                    name='other_names',
                    field=casemgmt.fields.EncryptedCharField(blank=True, default='', max_length=200, verbose_name='other names or aliases'),
                ),
                migrations.AlterField(
                    model_name='client',
                    name='phone',
                    field=casemgmt.fields.EncryptedCharField(blank=True, max_length=32, null=True, validators=[clients.validators.valid_phone], verbose_name='phone'),
                ),
                migrations.AlterField(
                    model_name='client',
                    name='uic',
                    field=casemgmt.fields.EncryptedCharField(editable=False, max_length=32, verbose_name='UIC'),
                ),
                migrations.AlterField(
                    model_name='client',
                    name='village',
                    field=casemgmt.fields.EncryptedCharField(blank=True, default='', max_length=100, verbose_name='village'),
                ),
                migrations.AlterField(
                    model_name='consent',
                    name='purpose',
                    field=casemgmt.fields.EncryptedTextField(blank=True, default='', verbose_name='purpose'),
                ),
                migrations.AlterField(
                    model_name='consent',
                    name='revoke_reason',
                    field=casemgmt.fields.EncryptedTextField(blank=True, default='', verbose_name='reason for revoking'),
                ),
                migrations.AlterField(
                    model_name='consent',
                    name='witness_name',
                    field=casemgmt.fields.EncryptedCharField(blank=True, default='', max_length=200, verbose_name='witness'),
                ),
                migrations.AlterField(
                    model_name='screening',
                    name='answers',
                    field=casemgmt.fields.EncryptedJSONField(),
                ),
                migrations.AlterField(
                    model_name='screening',
                    name='notes',
                    field=casemgmt.fields.EncryptedTextField(blank=True, default='', verbose_name='notes'),
                ),
            ],
        ),
    ]
