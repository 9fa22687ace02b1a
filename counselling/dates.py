"""Days as the centre lives them: "today", "the next 7 days", "this month", "30 days", "overdue" are counted in
the site's time zone (settings.TIME_ZONE, Asia/Phnom_Penh by default), never in UTC. At 23:30 UTC it is
already 06:30 the next morning in Phnom Penh: that morning's appointments are today's."""

from __future__ import annotations

import datetime

from django.utils import timezone

NEXT_DAYS = 7  # "this week": the seven days after today
NOT_SEEN_DAYS = 30
FOLLOW_UP_DAYS = 2  # a missed appointment's follow-up is due two days after it


def today(now: datetime.datetime | None = None) -> datetime.date:
    return local_date(now or timezone.now())


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day``, in the site's time zone, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min),
                               timezone.get_default_timezone())


def month_start(day: datetime.date) -> datetime.datetime:
    return day_start(day.replace(day=1))


def local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()
