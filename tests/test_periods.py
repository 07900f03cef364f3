"""ledger.domain.periods: periods counted on the local date of the policy's time zone.

Times in the comments are Paris wall time unless they end in ``Z``.  Each
boundary is tested on both sides of midnight in Paris (where the UTC date is
the day before) and on both sides of each daylight-saving change.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.periods import add_in_zone, add_to_text, add_wall, human_time, time_zone
from ledger.domain.policy import add_period
from ledger.trust.canonical import format_time

PARIS = ZoneInfo("Europe/Paris")


def paris(text: str) -> datetime:
    """A Paris wall time (``YYYY-MM-DD HH:MM``, fold=0) as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).astimezone(UTC)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(("start", "period", "expected"), [
    # 31 Jan + P1M: clamped to the last day of February, on the Paris date
    ("2026-01-31T00:30", "P1M", "2026-02-27T23:30Z"),  # 28 Feb 00:30 (UTC's: 1 Mar 00:30)
    ("2026-01-30T23:30", "P1M", "2026-02-28T22:30Z"),  # 30 Jan 23:30 -> 28 Feb 23:30
    ("2028-01-31T00:30", "P1M", "2028-02-28T23:30Z"),  # leap year: 29 Feb 00:30
    ("2026-01-31T00:30", "P13M", "2027-02-27T23:30Z"),  # trackers: 28 Feb 2027 00:30
    # 29 Feb + P1Y: 28 Feb of the next year; + P4Y: 29 Feb again
    ("2024-02-29T00:30", "P1Y", "2025-02-27T23:30Z"),  # 28 Feb 2025 00:30 (UTC's: 1 Mar)
    ("2024-02-29T23:30", "P1Y", "2025-02-28T22:30Z"),  # 28 Feb 2025 23:30
    ("2024-02-29T00:30", "P4Y", "2028-02-28T23:30Z"),  # 29 Feb 2028 00:30
    ("2024-03-01T00:30", "P1Y", "2025-02-28T23:30Z"),  # 1 Mar 2025 00:30
    ("2024-02-28T23:30", "P1Y", "2025-02-28T22:30Z"),  # 28 Feb 2025 23:30
    # rights requests: 31 Mar + P1M = 30 Apr; 1 Apr + P1M = 1 May; + P3M once extended
    ("2026-03-31T00:30", "P1M", "2026-04-29T22:30Z"),  # 30 Apr 00:30 (UTC's: 1 May 00:30)
    ("2026-03-30T23:30", "P1M", "2026-04-30T21:30Z"),  # 30 Apr 23:30
    ("2026-04-01T00:30", "P1M", "2026-04-30T22:30Z"),  # 1 May 00:30
    ("2026-03-31T00:30", "P3M", "2026-06-29T22:30Z"),  # 30 Jun 00:30
    # across the March change (29 Mar 2026, 02:00 -> 03:00): same wall time, one hour less
    ("2026-03-15T12:00", "P1M", "2026-04-15T10:00Z"),  # 12:00 +01:00 -> 12:00 +02:00
    ("2026-03-28T12:00", "P1D", "2026-03-29T10:00Z"),  # a 23-hour calendar day
    ("2026-02-28T12:00", "P29D", "2026-03-29T10:00Z"),
    # across the October change (25 Oct 2026, 03:00 -> 02:00): one hour more
    ("2026-10-15T12:00", "P1M", "2026-11-15T11:00Z"),  # 12:00 +02:00 -> 12:00 +01:00
    ("2026-10-24T12:00", "P1D", "2026-10-25T11:00Z"),  # a 25-hour calendar day
])
def test_periods_on_the_paris_calendar(start: str, period: str, expected: str) -> None:
    begin = paris(start)
    got = add_period(begin, period, PARIS)
    assert got == z(expected)
    assert got.tzinfo is UTC
    # the text path of the read models agrees
    months, days = {"P1M": (1, 0), "P13M": (13, 0), "P1Y": (12, 0), "P4Y": (48, 0),
                    "P3M": (3, 0), "P1D": (0, 1), "P29D": (0, 29)}[period]
    assert add_to_text(format_time(begin), months, days, PARIS) == format_time(z(expected))


def test_a_wall_time_in_the_spring_gap_takes_the_offset_before_it() -> None:
    # 29 Mar 2025 02:30 +01:00 + P1Y = 29 Mar 2026 02:30, which does not exist in Paris
    # (02:00 -> 03:00): read with the offset before the change (fold=0, RFC 5545 3.3.5),
    # i.e. 01:30Z, shown 03:30 summer time
    got = add_period(paris("2025-03-29T02:30"), "P1Y", PARIS)
    assert got == z("2026-03-29T01:30Z")
    assert human_time(format_time(got), PARIS) == "2026-03-29 03:30 +02:00"
    # one hour earlier, 01:30 exists: no shift
    assert add_period(paris("2025-03-29T01:30"), "P1Y", PARIS) == z("2026-03-29T00:30Z")


def test_an_ambiguous_wall_time_takes_its_first_occurrence() -> None:
    # 25 Oct 2026 02:30 occurs twice in Paris (+02:00 then +01:00): the first, 00:30Z
    first = add_period(paris("2025-10-25T02:30"), "P1Y", PARIS)
    assert first == z("2026-10-25T00:30Z")
    # even when counted from the second occurrence of an ambiguous time (fold=1):
    # 25 Oct 2020 02:30 +01:00 (01:30Z) + P6Y = 25 Oct 2026 02:30, first occurrence
    second = z("2020-10-25T01:30Z")
    assert second.astimezone(PARIS).fold == 1
    assert add_period(second, "P6Y", PARIS) == z("2026-10-25T00:30Z")
    assert add_to_text(format_time(second), 72, 0, PARIS) == "2026-10-25T00:30:00.000000Z"


def test_utc_keeps_the_old_arithmetic() -> None:
    # a policy without time_zone counts in UTC, as every ledger did before
    start = z("2026-01-30T23:30Z")
    assert add_period(start, "P13M", UTC) == z("2027-02-28T23:30Z")
    assert add_period(start, "P13M") == z("2027-02-28T23:30Z")
    assert add_to_text(format_time(start), 13, 0, UTC) == "2027-02-28T23:30:00.000000Z"
    assert add_to_text(format_time(start), 1, 1, UTC) == "2026-03-01T23:30:00.000000Z"


def test_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        add_in_zone(datetime(2026, 1, 1), 1, 0, PARIS)


def test_beyond_year_9999_overflows() -> None:
    with pytest.raises(OverflowError):
        add_to_text("9999-06-01T00:00:00.000000Z", 12, 0, UTC)
    with pytest.raises(OverflowError):
        add_wall(datetime(9999, 6, 1), 12, 0)


ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham",
         "America/St_Johns", "Asia/Kolkata"]


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(UTC)),
       st.integers(0, 240), st.integers(0, 400), st.sampled_from(ZONES))
def test_local_date_rule_holds_everywhere(start: datetime, months: int, days: int,
                                          name: str) -> None:
    zone = time_zone(name)
    got = add_in_zone(start, months, days, zone)
    # the text path gives the same instant
    assert add_to_text(format_time(start), months, days, zone) == format_time(got)
    # the local date is the start's local date + months (day clamped) + days
    local = start.astimezone(zone)
    year, month = divmod(local.year * 12 + local.month - 1 + months, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    expected_date = datetime(year, month + 1, day) + timedelta(days=days)
    end = got.astimezone(zone)
    wall = datetime.combine(expected_date.date(), local.time())
    if end.replace(tzinfo=None) != wall:
        # only in a spring gap: the wall time did not exist, read with the offset before
        assert wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(
            tzinfo=None) != wall
        assert end.replace(tzinfo=None) - wall == end.utcoffset() - wall.replace(
            tzinfo=zone).utcoffset()  # type: ignore[operator]


def test_human_time() -> None:
    assert human_time("2026-03-03T09:12:05.000000Z", "Europe/Paris") == "2026-03-03 10:12 +01:00"
    assert human_time("2026-07-03T09:12:05.000000Z", PARIS) == "2026-07-03 11:12 +02:00"
    assert human_time("2026-07-03T09:12:05.000000Z", PARIS, seconds=True) == \
        "2026-07-03 11:12:05 +02:00"
    # the Paris date, not the UTC one
    assert human_time("2026-01-30T23:30:00.000000Z", PARIS) == "2026-01-31 00:30 +01:00"
    assert human_time("2026-01-30T23:30:00.000000Z", UTC) == "2026-01-30 23:30 +00:00"
    assert human_time("2026-01-30T23:30:00.000000Z", "America/St_Johns") == \
        "2026-01-30 20:00 -03:30"
    assert human_time("none", PARIS) == "none"


@pytest.mark.parametrize("name", ["Paris", "Europe/Pariss", "../etc/passwd",
                                  "/etc/localtime", "right/Europe/Paris", "", "Europe//Paris",
                                  "Europe/Paris\n", "x" * 200])
def test_unknown_time_zones_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        time_zone(name)


def test_known_time_zones() -> None:
    assert time_zone("UTC") is UTC
    assert time_zone("Europe/Paris") == PARIS
    assert str(time_zone("America/Argentina/Buenos_Aires")) == "America/Argentina/Buenos_Aires"


@pytest.mark.parametrize("name", ["Europe/Paris", "America/New_York", "Australia/Lord_Howe"])
def test_text_fast_path_agrees_at_every_hour_of_a_year(name: str) -> None:
    # every UTC hour of 2026 (both DST changes, and Lord Howe's half-hour one), at three
    # minutes of the hour, 1 and 13 months later: the cached hour path of add_to_text
    # gives the instant add_in_zone gives
    zone = time_zone(name)
    start = datetime(2025, 12, 31, tzinfo=UTC)
    for hour in range(366 * 24):
        for minute in (0, 30, 59):
            moment = start + timedelta(hours=hour, minutes=minute, seconds=7)
            for months in (1, 13):
                assert add_to_text(format_time(moment), months, 0, zone) == \
                    format_time(add_in_zone(moment, months, 0, zone)), (moment, months)
