"""The controller's calendar: periods counted on the local date of the policy's time zone.

A policy names its time zone (``time_zone``, an IANA name such as
``Europe/Paris``).  Every period of the ledger (13 months for tracker data,
retention periods, one month to answer a rights request, two more when it is
extended) is counted in that zone, as the controller's calendar counts it
(``docs/POLICY.md``, "Time zone and calendar"):

1. the UTC instant is turned into the local date and wall time in the zone;
2. months and years are added to the local date, keeping the day of the month,
   clamped to the last day of the month when that month is shorter
   (Regulation (EEC, Euratom) No 1182/71, art. 3(2)(c): 31 January + 1 month
   = 28 or 29 February);
3. days are then added as calendar days;
4. the local wall time is kept, and the result is turned back to UTC.

Daylight-saving changes: a wall time that does not exist on the day reached
(the spring gap, 02:00-03:00 in Paris) or that occurs twice (the autumn
overlap, 02:00-03:00) is read as :mod:`zoneinfo` reads ``fold=0``, the rule of
RFC 5545 §3.3.5: a time in the gap takes the offset in force before the change
(02:30 is read as 02:30+01:00, i.e. 03:30 summer time), an ambiguous time its
first occurrence (02:30+02:00, summer time).

Pure and standard library only: no I/O but the time zone database
:mod:`zoneinfo` reads (the system's, else the ``tzdata`` package).
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

__all__ = ["DEFAULT_TIME_ZONE", "add_in_zone", "add_to_text", "add_wall", "human_time",
           "time_zone"]

#: The zone of a policy that names none (policies published before the field existed).
DEFAULT_TIME_ZONE = "UTC"

# An IANA key: "UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT-1".
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]{0,29}(?:/[A-Za-z0-9_+-]{1,30}){0,2}")


@functools.lru_cache(maxsize=64)
def time_zone(name: str) -> tzinfo:
    """The zone named ``name`` (an IANA time zone database key); ValueError if unknown.

    ``UTC`` is :data:`datetime.UTC` itself (no database needed, and the fast path
    of :func:`add_to_text`).
    """
    if name == "UTC":
        return UTC
    if not _ZONE_NAME.fullmatch(name) or name.startswith(("posix/", "right/")):
        raise ValueError("is not an IANA time zone name such as Europe/Paris or UTC")
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError("is not a time zone of the IANA time zone database "
                         "(such as Europe/Paris or UTC)") from exc


def add_wall(moment: datetime, months: int, days: int) -> datetime:
    """``moment`` plus months then days on its own wall clock (day clamped to the month's end).

    The time of day and ``tzinfo`` are kept; with a :class:`~zoneinfo.ZoneInfo`
    the offset is the one in force at the new wall time (``fold=0``).
    """
    total = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(total, 12)
    if year > datetime.max.year:
        raise OverflowError("date beyond year 9999")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    moved = moment.replace(year=year, month=month + 1, day=day, fold=0)
    if days:
        moved = (moved.replace(tzinfo=None) + timedelta(days=days)).replace(
            tzinfo=moment.tzinfo)
    return moved


def add_in_zone(moment: datetime, months: int, days: int, zone: tzinfo) -> datetime:
    """The aware instant ``moment`` plus the period, counted on the local date in ``zone``.

    Returned in UTC.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: a period is counted from an instant")
    local = moment.astimezone(zone).replace(tzinfo=None)
    return add_wall(local, months, days).replace(tzinfo=zone).astimezone(UTC)


def add_to_text(utc_text: str, months: int, days: int, zone: tzinfo) -> str:
    """:func:`add_in_zone` on the ledger's time text ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.

    The read models call it once per collected item, so whole months take a
    fast path: the start's UTC hour is mapped to its local date and hour, and
    the deadline's local hour back to UTC, each once per hour (cached), when
    the zone's offset is whole hours and the same throughout that hour (no
    daylight-saving change inside it); minutes and seconds then carry over
    unchanged.  Anything else takes :func:`add_in_zone`.
    """
    if not days:
        y, m, d, h = (_local_hour(zone, utc_text[:13]) if zone is not UTC else
                      (int(utc_text[0:4]), int(utc_text[5:7]), int(utc_text[8:10]), -1))
        if y:
            year, month = divmod(y * 12 + m - 1 + months, 12)
            if year > datetime.max.year:
                raise OverflowError("date beyond year 9999")
            day = min(d, _month_days(year, month + 1))
            if h < 0:  # UTC: the text itself
                return f"{year:04d}-{month + 1:02d}-{day:02d}{utc_text[10:]}"
            prefix = _utc_hour(zone, year, month + 1, day, h)
            if prefix:
                return prefix + utc_text[13:]
    start = datetime(int(utc_text[0:4]), int(utc_text[5:7]), int(utc_text[8:10]),
                     int(utc_text[11:13]), int(utc_text[14:16]), int(utc_text[17:19]),
                     int(utc_text[20:26]), tzinfo=UTC)
    end = add_in_zone(start, months, days, zone)
    return (f"{end.year:04d}-{end.month:02d}-{end.day:02d}T{end.hour:02d}:{end.minute:02d}:"
            f"{end.second:02d}.{end.microsecond:06d}Z")


_NO_HOUR = (0, 0, 0, 0)
_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_days(year: int, month: int) -> int:
    """Days in the month (``calendar.monthrange`` without the weekday it also computes)."""
    if month == 2 and calendar.isleap(year):
        return 29
    return _DAYS[month]


@functools.lru_cache(maxsize=1 << 17)
def _local_hour(zone: tzinfo, utc_hour: str) -> tuple[int, int, int, int]:
    """Local (year, month, day, hour) of the UTC hour ``YYYY-MM-DDTHH``, or zeros.

    Zeros when the offset is not whole hours or changes within the hour.
    """
    try:
        start = datetime(int(utc_hour[0:4]), int(utc_hour[5:7]), int(utc_hour[8:10]),
                         int(utc_hour[11:13]), tzinfo=UTC)
        first = start.astimezone(zone)
        last = (start + timedelta(hours=1, microseconds=-1)).astimezone(zone)
    except OverflowError:
        return _NO_HOUR
    offset = first.utcoffset()
    if offset is None or offset != last.utcoffset() or offset.total_seconds() % 3600:
        return _NO_HOUR
    return first.year, first.month, first.day, first.hour


@functools.lru_cache(maxsize=1 << 17)
def _utc_hour(zone: tzinfo, year: int, month: int, day: int, hour: int) -> str:
    """UTC ``YYYY-MM-DDTHH`` of the local wall hour, or ``""``.

    ``""`` when the offset is not whole hours or the hour holds a daylight-saving
    change (a gap or an overlap: the wall times in it need :func:`add_in_zone`).
    """
    try:
        wall = datetime(year, month, day, hour, tzinfo=zone)
        end = wall.replace(minute=59, second=59, microsecond=999999)
        offsets = {t.utcoffset() for t in (wall, wall.replace(fold=1), end,
                                           end.replace(fold=1))}
        utc = wall.astimezone(UTC)
    except OverflowError:
        return ""
    offset = offsets.pop()
    if offsets or offset is None or offset.total_seconds() % 3600:
        return ""
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}"


def human_time(utc_text: str, zone: tzinfo | str, *, seconds: bool = False) -> str:
    """A ledger time (UTC text) for people: the wall time in ``zone`` with its offset.

    ``2026-03-03T09:12:05.000000Z`` in Europe/Paris -> ``2026-03-03 10:12 +01:00``
    (``2026-03-03 10:12:05 +01:00`` with ``seconds``).  Text that is not a
    ledger time (``none``, ``-``) is returned unchanged.
    """
    if isinstance(zone, str):
        zone = time_zone(zone)
    try:
        moment = datetime.fromisoformat(utc_text)
    except (TypeError, ValueError):
        return utc_text
    if moment.tzinfo is None:
        return utc_text
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    shown = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{shown} {offset[:3]}:{offset[3:5]}"
