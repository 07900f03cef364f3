"""Answers about the past (issue 10 item 1): each register at T, from what had happened by T.

Each test below pins one wrong answer measured on the old code (which counted
every event, whatever its time), on SQLite and PostgreSQL.  The old name
``at`` is used on purpose where the old code had it: it is now the alias of
``as_of``.  Times are hand-computed in the comments.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.app.application import Ledger
from projections.queries import Reader, parse_when

A = "anna@example.org"
B = "bruno@example.org"


def t(text: str) -> str:
    out = parse_when(text, "t")
    assert out is not None
    return out


def ev(type_: str, subject: str | None, at: str, **data: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"type": type_, "occurred_at": at, "actor": "test", "data": data}
    if subject is not None:
        raw["subject"] = subject
    return raw


@pytest.fixture
def reader(ledger: Ledger, env: dict[str, str], clock: Any) -> Any:
    clock.now = datetime(2027, 1, 1, tzinfo=UTC)  # everything recorded after it occurred
    r = Reader(ledger.url, ledger.name, env=env)
    yield r
    r.close()


def statuses(doc: dict[str, Any]) -> list[str]:
    return [i["status"] for i in doc["items"]]


def test_erased_later_is_overdue_before(ledger: Ledger, reader: Reader) -> None:
    # collected 2025-01-10T10:01Z, 13 months -> deadline 2026-02-10T10:01Z; erased 2026-11-10
    ledger.append([ev("ConsentGiven", A, "2025-01-10T10:00:00Z", purpose="cookies_audience",
                      method="banner"),
                   ev("DataCollected", A, "2025-01-10T10:01:00Z", category="tracker_audience",
                      purpose="cookies_audience", source="cookie", values={"visitor_id": "v"})])
    ledger.append([ev("SubjectErased", A, "2026-11-10T10:00:00Z", ground="no_longer_necessary")])
    june = reader.retention(at=t("2026-06-01"))
    assert statuses(june) == ["overdue"]  # the old code said "erased"
    assert june["items"][0]["ended_at"] is None
    assert june["counts"]["erased"] == 0 and june["counts"]["overdue"] == 1
    assert reader.retention(at=t("2026-06-01"), status="erased")["items"] == []
    assert statuses(reader.retention(as_of=t("2026-11-10T09:59:59Z"))) == ["overdue"]
    assert statuses(reader.retention(as_of=t("2026-11-10T10:00:00Z"))) == ["erased"]
    # an item not collected yet at T is not in the register at T
    assert reader.retention(as_of=t("2025-01-10T10:00:59Z"))["items"] == []


def test_holds_at_t(ledger: Ledger, reader: Reader) -> None:
    ledger.append([ev("ConsentGiven", A, "2025-01-10T10:00:00Z", purpose="cookies_audience",
                      method="banner"),
                   ev("DataCollected", A, "2025-01-10T10:01:00Z", category="tracker_audience",
                      purpose="cookies_audience", source="cookie", values={"visitor_id": "v"}),
                   ev("LegalHoldPlaced", A, "2026-05-01T00:00:00Z", hold_id="H",
                      basis="litigation")])
    ledger.append([ev("LegalHoldReleased", A, "2026-07-01T00:00:00Z", hold_id="H")])
    # placed after T: not held at T; released before T: not held at T
    assert statuses(reader.retention(as_of=t("2026-04-30T23:59:59Z"))) == ["overdue"]
    assert statuses(reader.retention(as_of=t("2026-05-01T00:00:00Z"))) == ["held"]
    assert statuses(reader.retention(as_of=t("2026-06-30T23:59:59Z"))) == ["held"]
    assert statuses(reader.retention(as_of=t("2026-07-01T00:00:00Z"))) == ["overdue"]


def test_requests_are_not_answered_before_they_arrive(ledger: Ledger, reader: Reader) -> None:
    # R1 received 2026-03-03T10:00Z (due 2026-04-03T10:00Z), fulfilled 2026-03-20
    # R2 received 2026-01-05T10:00Z (due 2026-02-05T10:00Z), fulfilled late 2026-03-01
    # R3 received 2026-01-05T10:00Z, extended 2026-02-01 (due 2026-04-05T10:00Z)
    ledger.append([ev("RightsRequestReceived", A, "2026-03-03T10:00:00Z", request_id="R1",
                      right="access", channel="email"),
                   ev("RightsRequestReceived", A, "2026-01-05T10:00:00Z", request_id="R2",
                      right="access", channel="email"),
                   ev("RightsRequestReceived", B, "2026-01-05T10:00:00Z", request_id="R3",
                      right="access", channel="email")])
    ledger.append([ev("RightsRequestFulfilled", A, "2026-03-20T10:00:00Z", request_id="R1"),
                   ev("RightsRequestFulfilled", A, "2026-03-01T10:00:00Z", request_id="R2"),
                   ev("RightsRequestExtended", B, "2026-02-01T10:00:00Z", request_id="R3",
                      reason="complex")])

    def got(at: str, **kw: Any) -> dict[str, tuple[Any, ...]]:
        return {r["request_id"]: (r["status"], r["due_at"][:10], r["overdue"])
                for r in reader.requests(at=t(at), **kw)["requests"]}

    # before R1 was received, it does not exist (the old code: "fulfilled")
    assert "R1" not in got("2026-03-01")
    assert got("2026-03-10")["R1"] == ("open", "2026-04-03", False)
    assert "R1" in got("2026-03-10", open_only=True)
    assert got("2026-03-20T10:00:00Z")["R1"] == ("fulfilled", "2026-04-03", False)
    # R2 is overdue on 10 Feb: still open then (fulfilled only on 1 March, late)
    assert got("2026-02-10")["R2"] == ("open", "2026-02-05", True)
    assert "R2" in got("2026-02-10", overdue_only=True)
    late = reader.requests(as_of=t("2026-03-02"))["requests"]
    assert [r["answered_late"] for r in late if r["request_id"] == "R2"] == [True]
    # R3: the extension of 1 Feb does not extend it before 1 Feb
    assert got("2026-01-31")["R3"] == ("open", "2026-02-05", False)
    assert got("2026-02-01T10:00:00Z")["R3"] == ("extended", "2026-04-05", False)


def test_breach_discovered_later_is_not_in_the_register(ledger: Ledger, reader: Reader,
                                                      clock: Any) -> None:
    # detected (and discovered) 2026-03-03T12:40Z, recorded 13:00: deadline 2026-03-06T12:40Z;
    # notified 2026-03-04T09:00Z (20.3 h), recorded 2026-03-05
    clock.now = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
    ledger.append([ev("BreachDetected", None, "2026-03-03T12:40:00Z", breach_id="BR",
                      nature=["confidentiality"], risk="risk", description="bucket public")])
    clock.now = datetime(2026, 3, 5, tzinfo=UTC)
    ledger.append([ev("BreachNotified", None, "2026-03-04T09:00:00Z", breach_id="BR",
                      authority="CNIL", dpo_contact="dpo@example.org")])
    assert reader.breaches(at=t("2026-03-03T10:00:00Z"))["breaches"] == []  # old: -2.7 h
    (b,) = reader.breaches(at=t("2026-03-03T20:00:00Z"))["breaches"]
    assert (b["status"], b["notified_at"], b["hours_elapsed"]) == ("pending", None, 7.3)
    assert "b:dpo_contact" in b["missing"] and b["authority"] is None
    (b,) = reader.breaches(as_of=t("2026-03-04T09:00:00Z"))["breaches"]
    assert (b["status"], b["hours_elapsed"]) == ("on_time", 20.3)
    assert "b:dpo_contact" not in b["missing"]
    (b,) = reader.breaches(as_of=t("2026-03-06T12:40:00Z"),
                           known_at=t("2026-03-04T08:00:00Z"))["breaches"]
    assert b["status"] == "pending"  # known then: not notified yet (nothing recorded)


def test_ropa_counts_only_what_happened_by_t(ledger: Ledger, reader: Reader) -> None:
    ledger.append([ev("ConsentGiven", A, "2026-03-03T10:00:00Z", purpose="cookies_audience",
                      method="banner"),
                   ev("ConsentGiven", B, "2026-03-05T10:00:00Z", purpose="cookies_audience",
                      method="banner"),
                   ev("DataCollected", B, "2026-03-05T10:01:00Z", category="tracker_audience",
                      purpose="cookies_audience", source="cookie", values={"visitor_id": "v"}),
                   ev("DataDisclosed", B, "2026-03-05T11:00:00Z", recipient="logistics",
                      recipient_kind="processor", country="FR",
                      categories=["identification_contact"], purpose="order_delivery")])

    def seen(doc: dict[str, Any], purpose: str) -> dict[str, Any]:
        return next(p["seen"] for p in doc["purposes"] if p["id"] == purpose)

    day = reader.ropa(at=t("2026-03-03"))
    assert seen(day, "cookies_audience")["consents_granted"] == 1  # the old code: 2
    assert seen(day, "cookies_audience")["collections"] == 0
    assert seen(day, "order_delivery")["disclosures"] == 0
    later = reader.ropa(as_of=t("2026-03-05"))
    assert seen(later, "cookies_audience")["consents_granted"] == 2
    assert seen(later, "cookies_audience")["collections"] == 1
    assert seen(later, "order_delivery")["disclosures"] == 1


def test_disclosures_register_and_export_at_t(ledger: Ledger, reader: Reader) -> None:
    ledger.append([ev("ConsentGiven", A, "2026-03-03T10:00:00Z", purpose="cookies_audience",
                      method="banner"),
                   ev("DataDisclosed", A, "2026-03-04T11:00:00Z", recipient="logistics",
                      recipient_kind="processor", country="FR",
                      categories=["identification_contact"], purpose="order_delivery"),
                   ev("DataDisclosed", A, "2026-03-06T11:00:00Z", recipient="hosting_us",
                      recipient_kind="processor", country="US",
                      categories=["identification_contact"], purpose="order_delivery",
                      safeguard="standard_contractual_clauses")])
    doc = reader.disclosures(as_of=t("2026-03-05"))
    assert (doc["count"], doc["outside_eea"], doc["per_recipient"]) == (
        1, 0, {"logistics": 1})
    assert reader.disclosures(as_of=t("2026-03-06"))["outside_eea"] == 1
    assert reader.disclosures(as_of=t("2026-03-03"))["disclosures"] == []
    export = reader.export(A, as_of=t("2026-03-05"))
    assert [d["recipient"] for d in export["disclosures"]] == ["logistics"]
    assert export["as_of"] == t("2026-03-05")
    assert len(reader.export(A)["disclosures"]) == 2


def test_at_is_an_alias_of_as_of(ledger: Ledger, reader: Reader) -> None:
    from ledger.errors import InputError

    assert reader.requests(at=t("2026-03-03")) == reader.requests(as_of=t("2026-03-03"))
    with pytest.raises(InputError, match="--at"):
        reader.requests(at=t("2026-03-03"), as_of=t("2026-03-04"))
