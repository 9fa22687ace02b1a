"""Indexes on the feature apps' tables for the Ministry reports' period queries (docs/reports.md, "Performance").

The reports count records of a period across every organisation: a national month of attended sessions, the
screenings, referrals and registrations of a month. The feature apps' own indexes lead with the organisation, the
client or the counsellor (a centre's list, a client's history), so a national period query read the whole table
(EXPLAIN on 5,000,000 participants: a parallel sequential scan, 1.5 s for one month). These lead with the date
that places a record in a period and carry the column the query needs next, so that a period is a range of one
index (PostgreSQL reads it alone where the visibility map allows). Each is partial where the reports count only
some rows (attended participations, held sessions, referrals sent, referrals waiting for acceptance).

SQL rather than model indexes: the tables are the other apps' (their model state does not know these, and
``makemigrations`` leaves them alone), as counselling/migrations/0002 does for clients_client. On a large
installation build them beforehand with ``CREATE INDEX CONCURRENTLY`` (the same statements): this migration then
finds them and does nothing.
"""

from django.db import migrations

INDEXES = {
    # CL-ACT (contacts), RT-M3/M6 and PR-LNK: attended participations of a period, and their client.
    "reports_participant_attended": "ON counselling_participant (starts_at, client_id) WHERE attendance = 'attended'",
    # CL-ACT and AS-SCR/AS-INJ: the screenings of a period.
    "reports_screening_day": "ON clients_screening (screened_on, client_id)",
    # CL-ACT, RF-*, the trend: referrals sent in a period.
    "reports_referral_sent": "ON referrals_referral (sent_at, client_id) WHERE sent_at IS NOT NULL",
    # RF-OVD: referrals waiting for acceptance, by service.
    "reports_referral_waiting": "ON referrals_referral (service_id, sent_at) WHERE status = 'sent'",
    # CL-NEW, the cascade's cohort, retention's cohorts, the trend: registrations of a period.
    "reports_client_registered": "ON clients_client (created_at, registered_by_organisation_id)",
    # CO-HELD and the trend: sessions held in a period, where and how.
    "reports_session_held": "ON counselling_session (starts_at, organisation_id, modality) WHERE status = 'held'",
    # PR-*: releases of a period.
    "reports_custody_release": "ON clients_custodyepisode (released_on, facility_id) WHERE released_on IS NOT NULL",
}


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("clients", "0007_text_validators"),
        ("counselling", "0003_text_validators"),
        ("referrals", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(sql=f"CREATE INDEX IF NOT EXISTS {name} {definition}",
                          reverse_sql=f"DROP INDEX IF EXISTS {name}")
        for name, definition in INDEXES.items()
    ]
