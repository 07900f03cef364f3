"""The controller's calendar, end to end: deadlines counted on the local date in Paris.

The bundled XP² cloud policy names ``Europe/Paris``.  Each case is recorded
through the ledger and read back from the registers, on SQLite and PostgreSQL.
Times in the comments are Paris wall time unless they end in ``Z``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ledger.app.application import Ledger
from ledger.domain.policy import bundled_policy
from ledger.trust.canonical import format_time
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


# -- retention deadlines on the Paris calendar, through the register -------------------
# (collected at, Paris wall time with its offset; category; expected deadline in UTC)
RETENTION_CASES = [
    # 13 months for tracker data, 31 January on both sides of Paris midnight
    ("2026-01-31T00:30:00+01:00", "tracker_audience", "2027-02-27T23:30:00.000000Z"),
    ("2026-01-30T23:30:00+01:00", "tracker_audience", "2027-02-28T22:30:00.000000Z"),
    # P1Y (connection data) from a leap day, on both sides of Paris midnight
    ("2024-02-29T00:30:00+01:00", "connection_browsing", "2025-02-27T23:30:00.000000Z"),
    ("2024-02-29T23:30:00+01:00", "connection_browsing", "2025-02-28T22:30:00.000000Z"),
    ("2024-03-01T00:30:00+01:00", "connection_browsing", "2025-02-28T23:30:00.000000Z"),
    # P1Y landing in the spring gap (29 March 2026, 02:00 -> 03:00): 02:30 is read with
    # the offset before the change (+01:00), i.e. 03:30 summer time
    ("2025-03-29T02:30:00+01:00", "connection_browsing", "2026-03-29T01:30:00.000000Z"),
    # P1Y landing on the autumn overlap (25 October 2026, 02:00-03:00 twice): the first
    ("2025-10-25T02:30:00+02:00", "connection_browsing", "2026-10-25T00:30:00.000000Z"),
    # 13 months across the March change: same Paris wall time, offset +01:00 -> +02:00
    ("2025-02-15T12:00:00+01:00", "tracker_audience", "2026-03-15T11:00:00.000000Z"),
    ("2025-03-15T12:00:00+01:00", "tracker_audience", "2026-04-15T10:00:00.000000Z"),
    # and across the October change: +02:00 -> +01:00
    ("2025-09-15T12:00:00+02:00", "tracker_audience", "2026-10-15T10:00:00.000000Z"),
    ("2025-10-15T12:00:00+02:00", "tracker_audience", "2026-11-15T11:00:00.000000Z"),
]
_PURPOSE = {"tracker_audience": "cookies_audience", "connection_browsing": "service_improvement"}


def test_retention_deadlines_on_the_paris_calendar(ledger: Ledger, reader: Reader) -> None:
    for n, (at, category, _) in enumerate(RETENTION_CASES):
        subject = f"case-{n}@example.org"
        purpose = _PURPOSE[category]
        events = [collect(subject, {"ip_address": "192.0.2.1"} if category ==
                          "connection_browsing" else {"visitor_id": f"v-{n}"},
                          at=at, category=category, purpose=purpose)]
        if purpose == "cookies_audience":
            events.insert(0, consent(subject, purpose, at=at))
        ledger.append(events)
    doc = reader.retention(as_of=t("2030-01-01T00:00:00Z"))  # every item collected by then
    got = [(i["collected_at"], i["deadline"]) for i in doc["items"]]
    expected = [(t(at), deadline) for at, _, deadline in RETENTION_CASES]
    assert got == expected
    # the register's fast path agrees with the policy's own arithmetic
    policy = bundled_policy()
    for at, category, deadline in RETENTION_CASES:
        collected = datetime.fromisoformat(at)
        assert format_time(policy.retention_deadline(  # type: ignore[arg-type]
            collected, _PURPOSE[category], category)) == deadline


def test_a_rebuilt_register_keeps_the_paris_deadlines(ledger: Ledger, reader: Reader) -> None:
    tracker(ledger, "jan31@example.org", "2026-01-31T00:30:00+01:00")
    received(ledger, "mar31@example.org", "R-31", "2026-03-31T00:30:00+02:00")
    reader.projector.rebuild(None)
    [item] = reader.retention(at=t("2026-06-01T00:00:00Z"))["items"]
    [request] = reader.requests(at=t("2026-06-01T00:00:00Z"))["requests"]
    assert (item["deadline"], request["due_at"]) == ("2027-02-27T23:30:00.000000Z",
                                                     "2026-04-29T22:30:00.000000Z")


# -- rights requests: one month, three once extended, on the Paris calendar ------------
def test_request_due_dates_across_the_dst_changes(ledger: Ledger, reader: Reader) -> None:
    received(ledger, "a@example.org", "R-MARCH", "2026-03-15T12:00:00+01:00")
    received(ledger, "b@example.org", "R-OCT", "2026-10-15T12:00:00+02:00")
    received(ledger, "c@example.org", "R-APR1", "2026-04-01T00:30:00+02:00")
    due = {r["request_id"]: r["due_at"] for r in
           reader.requests(as_of=t("2026-10-16T00:00:00Z"))["requests"]}  # all received
    assert due == {"R-MARCH": "2026-04-15T10:00:00.000000Z",   # 15 Apr 12:00 +02:00
                   "R-OCT": "2026-11-15T11:00:00.000000Z",     # 15 Nov 12:00 +01:00
                   "R-APR1": "2026-04-30T22:30:00.000000Z"}    # 1 May 00:30 +02:00


def extend(ledger: Ledger, subject: str, request_id: str, at: str) -> None:
    ledger.append([{"type": "RightsRequestExtended", "subject": subject, "occurred_at": at,
                    "data": {"request_id": request_id,
                             "reason": "many requests from the same person"}}])


def test_extension_limit_and_extended_due_date(ledger: Ledger, reader: Reader) -> None:
    from ledger.errors import InputError

    # received 31 March 00:30 Paris: an extension may be decided until 30 April 00:30
    # Paris (29 April 22:30Z), not one minute later
    received(ledger, "late@example.org", "R-LATE", "2026-03-31T00:30:00+02:00")
    with pytest.raises(InputError) as e:
        extend(ledger, "late@example.org", "R-LATE", "2026-04-30T00:31:00+02:00")
    assert e.value.field == "occurred_at"
    assert "within 1 month" in e.value.rule
    received(ledger, "ok@example.org", "R-OK", "2026-03-31T00:30:00+02:00")
    extend(ledger, "ok@example.org", "R-OK", "2026-04-30T00:30:00+02:00")
    got = {r["request_id"]: (r["status"], r["due_at"]) for r in
           reader.requests(at=t("2026-06-30T00:30:00+02:00"))["requests"]}
    # 31 March + 3 months on the Paris calendar = 30 June 00:30 Paris = 29 June 22:30Z
    assert got == {"R-LATE": ("open", "2026-04-29T22:30:00.000000Z"),
                   "R-OK": ("extended", "2026-06-29T22:30:00.000000Z")}
    [ok] = [r for r in reader.requests(at=t("2026-06-30T00:30:01+02:00"))["requests"]
            if r["request_id"] == "R-OK"]
    assert ok["overdue"] is True


# -- the policy's time zone in the chain ------------------------------------------------
def test_published_policy_carries_its_time_zone(ledger: Ledger) -> None:
    [entry] = list(ledger.log(types=["PolicyPublished"]))
    assert entry["data"]["policy"]["time_zone"] == "Europe/Paris"
    assert ledger.time_zone() == "Europe/Paris"


def test_unknown_time_zone_is_refused_and_nothing_stored(ledger: Ledger) -> None:
    from ledger.errors import InputError

    doc = bundled_policy().to_json()
    doc["version"], doc["time_zone"] = "2026-bad", "Europe/Lutece"
    head = ledger.head()
    with pytest.raises(InputError) as e:
        ledger.append([{"type": "PolicyPublished", "occurred_at": "2024-06-01T11:00:00Z",
                        "data": {"policy": doc}}])
    assert e.value.field == "data.policy.time_zone"
    assert "IANA" in e.value.rule
    assert ledger.head() == head


def test_an_older_policy_without_time_zone_counts_in_utc(
        db_url: str, env: dict[str, str], clock: Clock) -> None:
    # a policy document without time_zone, as every one published before the field
    # existed: it counts in UTC, so its deadlines keep the meaning they had (UTC date)
    led, _ = Ledger.init(db_url, env=env)
    try:
        led.clock = clock
        old = bundled_policy().to_json()
        del old["time_zone"]
        led.append([{"type": "PolicyPublished", "occurred_at": "2024-06-01T11:00:00Z",
                     "data": {"policy": old}}])
        assert led.time_zone() == "UTC"
        clock.now = datetime(2028, 1, 1, tzinfo=UTC)
        tracker(led, "jan31@example.org", "2026-01-31T00:30:00+01:00")
        with Reader(db_url, led.name, env=env) as r:
            [item] = r.retention(at=t("2027-01-01T00:00:00Z"))["items"]
        assert item["deadline"] == "2027-02-28T23:30:00.000000Z"
    finally:
        led.close()
