"""The retention projection's fast deadline arithmetic agrees with Policy.retention_deadline."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain.policy import bundled_policy
from ledger.trust.canonical import format_time
from projections.retention import deadline_text

POLICY = bundled_policy()
PAIRS = [(p.id, c) for p in POLICY.purposes for c in p.categories]


@pytest.mark.parametrize("start", [
    datetime(2023, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),  # clamped to 29 Feb 2024 (P13M)
    datetime(2024, 2, 29, 8, 0, tzinfo=UTC),                # leap day + P1Y, P2Y, P5Y
    datetime(2022, 12, 31, 0, 0, tzinfo=UTC),
    datetime(2023, 6, 15, 12, 30, 1, 250, tzinfo=UTC),
])
def test_fast_deadline_matches_the_policy(start: datetime) -> None:
    for purpose, category in [*PAIRS, ("recruitment", "tracker_audience"), ("nope", "x")]:
        expected = POLICY.retention_deadline(start, purpose, category)
        got = deadline_text(POLICY, format_time(start), purpose, category)
        assert got == (format_time(expected) if expected else None), (purpose, category)


def test_periods_with_days_take_the_slow_path() -> None:
    cats = tuple(replace(c, retention="P1M10D") if c.id == "tracker_audience" else c
                 for c in POLICY.categories)
    policy = replace(POLICY, version="days", categories=cats)
    start = datetime(2024, 1, 25, 10, 0, tzinfo=UTC)
    got = deadline_text(policy, format_time(start), "cookies_audience", "tracker_audience")
    assert got == format_time(datetime(2024, 2, 25, 10, 0, tzinfo=UTC) + timedelta(days=10))
