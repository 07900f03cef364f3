"""The controller's calendar, end to end: deadlines counted on the local date in Paris.

The bundled XP² cloud policy names ``Europe/Paris``.  Each case is recorded
through the ledger and read back from the registers, on SQLite and PostgreSQL.
Times in the comments are Paris wall time unless they end in ``Z``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ledger.application import Ledger
from projections.queries import Reader, parse_when
from tests.conftest import Clock
from tests.helpers import collect, consent


@pytest.fixture
def reader(ledger: Ledger, env: dict[str, str], clock: Clock) -> Iterator[Reader]:
    clock.now = datetime(2028, 1, 1, tzinfo=UTC)  # every event below is in its past
    r = Reader(ledger.url, ledger.name, env=env)
    yield r
    r.close()


def t(text: str) -> str:
    out = parse_when(text, "t")
    assert out is not None
    return out


def tracker(ledger: Ledger, subject: str, at: str) -> None:
    ledger.append([consent(subject, "cookies_audience", at=at),
                   collect(subject, {"visitor_id": "v-1"}, at=at, category="tracker_audience",
                           purpose="cookies_audience")])


def received(ledger: Ledger, subject: str, request_id: str, at: str) -> None:
    ledger.append([{"type": "RightsRequestReceived", "subject": subject, "occurred_at": at,
                    "data": {"request_id": request_id, "right": "access",
                             "channel": "email"}}])


# -- the two defects of issue 10 ------------------------------------------------------
def test_tracker_deadline_keeps_the_paris_calendar_day(ledger: Ledger, reader: Reader) -> None:
    # collected 31 January 2026 at 00:30 in Paris = 30 January 23:30Z; 13 months on the
    # local date: 31 February 2027 does not exist, clamped to 28 February 2027 00:30
    # Paris = 27 February 23:30Z.  Counted on the UTC date it was 1 March 00:30 Paris.
    tracker(ledger, "jan31@example.org", "2026-01-31T00:30:00+01:00")
    [item] = reader.retention(at=t("2027-02-28T00:00:00+01:00"))["items"]
    assert item["deadline"] == "2027-02-27T23:30:00.000000Z"
    assert item["status"] == "due"
    # one minute either side of the deadline, in Paris time
    [before] = reader.retention(at=t("2027-02-28T00:29:00+01:00"))["items"]
    [after] = reader.retention(at=t("2027-02-28T00:30:00+01:00"))["items"]
    assert (before["status"], after["status"]) == ("due", "overdue")


def test_request_of_31_march_is_overdue_on_1_may(ledger: Ledger, reader: Reader) -> None:
    # received 31 March 2026 at 00:30 in Paris (summer time) = 30 March 22:30Z; one month
    # on the local date: 30 April 00:30 Paris = 29 April 22:30Z.  On 1 May at 00:15 Paris
    # the request is overdue; counted on the UTC date it was due on 1 May 00:30 Paris.
    received(ledger, "mar31@example.org", "R-31", "2026-03-31T00:30:00+02:00")
    doc = reader.requests(at=t("2026-05-01T00:15:00+02:00"))
    [r] = doc["requests"]
    assert r["due_at"] == "2026-04-29T22:30:00.000000Z"
    assert r["overdue"] is True
    # the boundary on both sides, in Paris time
    [on] = reader.requests(at=t("2026-04-30T00:30:00+02:00"))["requests"]
    [past] = reader.requests(at=t("2026-04-30T00:30:01+02:00"))["requests"]
    assert (on["overdue"], past["overdue"]) == (False, True)
