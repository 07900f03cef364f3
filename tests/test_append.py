"""Appending: chain shape, idempotency, all-or-nothing batches, rules (both databases)."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from typing import Any

import pytest

from ledger.app.application import Ledger
from ledger.errors import ConflictError, InputError, RuleViolation
from ledger.trust.chain import GENESIS_HASH, entry_hash
from tests.conftest import Clock
from tests.helpers import collect, consent


def stored(ledger: Ledger) -> list[dict[str, Any]]:
    return [json.loads(r.state) | {"hash": r.hash} for r in ledger.store.entries()]


def test_chain_links_seq_and_hashes(ledger: Ledger) -> None:
    receipts = ledger.append([consent("a@x.fr"), collect("a@x.fr"), consent("b@x.fr")])
    assert [r.seq for r in receipts] == [2, 3, 4]
    entries = stored(ledger)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    assert entries[0]["prev_hash"] == GENESIS_HASH
    for prev, cur in itertools.pairwise(entries):
        assert cur["prev_hash"] == prev["hash"]
    for r, e in zip(receipts, entries[1:], strict=True):
        assert r.hash == e["hash"]
    raw = next(iter(ledger.store.entries(start=3)))
    assert entry_hash(raw.state) == raw.hash
    assert ledger.verify().ok


def test_times_are_utc_microseconds_and_recorded_at_is_monotonic(ledger: Ledger,
                                                                 clock: Clock) -> None:
    ledger.append([consent("a@x.fr", at="2024-05-01T10:00:00.5+02:00")])
    clock.now -= timedelta(hours=1)  # the clock goes back: recorded_at must not
    ledger.append([consent("b@x.fr")])
    e = stored(ledger)
    assert e[1]["occurred_at"] == "2024-05-01T08:00:00.500000Z"
    assert e[1]["recorded_at"] == "2024-06-01T12:00:00.000000Z"
    assert e[2]["recorded_at"] >= e[1]["recorded_at"]


def test_same_event_id_is_stored_once(ledger: Ledger) -> None:
    ev = consent("a@x.fr") | {"event_id": "6a0f0f36-4f5e-4b7b-9d0b-0b3d6b8b9c01"}
    first = ledger.append([ev])[0]
    again = ledger.append([ev, consent("b@x.fr")])
    assert again[0].seq == first.seq and again[0].hash == first.hash
    assert again[0].new is False and again[1].new is True
    assert ledger.head()[0] == 3
    twice_in_batch = ledger.append([consent("c@x.fr") | {"event_id": str(i)} for i in
                                    ["7a0f0f36-4f5e-4b7b-9d0b-0b3d6b8b9c01"] * 2])
    assert twice_in_batch[0] == twice_in_batch[1]
    assert ledger.head()[0] == 4


def test_event_id_reused_for_another_event_is_refused(ledger: Ledger) -> None:
    eid = "6a0f0f36-4f5e-4b7b-9d0b-0b3d6b8b9c02"
    ledger.append([consent("a@x.fr") | {"event_id": eid}])
    with pytest.raises(ConflictError, match="already stored") as err:
        ledger.append([consent("someone-else@x.fr") | {"event_id": eid}])
    assert err.value.field == "subject" and err.value.event_id == eid


def test_a_bad_line_rejects_the_whole_batch(ledger: Ledger) -> None:
    head = ledger.head()
    batch = [consent("a@x.fr"), collect("a@x.fr"), consent("b@x.fr", purpose="nope")]
    with pytest.raises(InputError) as err:
        ledger.append(batch)
    assert err.value.line == 3 and err.value.field == "data.purpose"
    assert ledger.head() == head
    with pytest.raises(InputError) as err:
        ledger.append([consent("a@x.fr"), {"type": "ConsentGiven"}])
    assert err.value.line == 2 and err.value.field == "subject"
    assert ledger.head() == head and ledger.verify().ok


def test_batch_sees_its_own_earlier_events(ledger: Ledger) -> None:
    ledger.append([consent("a@x.fr"), collect("a@x.fr")])
    assert ledger.head()[0] == 3


@pytest.mark.parametrize(("events", "field", "rule"), [
    ([collect("a@x.fr")], "data.purpose", "consent was not in force"),
    ([consent("a@x.fr", at="2024-05-02T10:00:00+02:00"), collect("a@x.fr")],
     "data.purpose", "consent was not in force"),
    ([consent("kid@x.fr", age=14)], "data.guardian", "below 16"),
    ([consent("kid@x.fr", age=14, guardian={"name": "P. Kid", "relationship": "parent",
                                            "authorised_at": "2024-05-01T09:00:00+02:00"})],
     "data.guardian.joint", "jointly"),
    ([consent("a@x.fr", purpose="service_improvement")], "data.purpose",
     "legitimate_interests"),
    ([consent("a@x.fr"), collect("a@x.fr", category="tracker_audience")], "data.category",
     "not collected for purpose"),
    ([consent("a@x.fr"), collect("a@x.fr", values={"shoe_size": 42})],
     "data.values.shoe_size", "not a field of category"),
    ([{"type": "ConsentWithdrawn", "subject": "a@x.fr", "occurred_at": "2024-05-01T10:00:00Z",
       "data": {"purpose": "recruitment", "method": "email"}}], "data.purpose",
     "no consent in force"),
    ([consent("a@x.fr", policy_version="2019-01-01")], "data.policy_version",
     "policy in force"),
    ([consent("a@x.fr", at="2021-01-01T00:00:00Z")], "occurred_at", "no policy was in force"),
])
def test_rules_refuse(ledger: Ledger, events: list[dict[str, Any]], field: str,
                      rule: str) -> None:
    head = ledger.head()
    with pytest.raises(RuleViolation) as err:
        ledger.append(events)
    assert err.value.field == field
    assert rule in err.value.rule
    assert err.value.line == len(events)
    assert ledger.head() == head


def test_guardian_consent_below_16_is_accepted(ledger: Ledger) -> None:
    g = {"name": "Marie Kid", "relationship": "parent",
         "authorised_at": "2024-05-01T09:00:00+02:00", "joint": True}
    ledger.append([consent("kid@x.fr", age=14, guardian=g)])
    shown = ledger.show(2)
    assert shown is not None
    assert shown["data"]["guardian"]["name"] == "Marie Kid"
    assert shown["data"]["age"] == 14


def breach(type_: str, at: str, **data: Any) -> dict[str, Any]:
    return {"type": type_, "occurred_at": at, "data": {"breach_id": "BR-1", **data}}


def test_breach_notification_deadline(ledger: Ledger) -> None:
    detected = breach("BreachDetected", "2024-05-01T10:00:00+02:00",
                      nature=["confidentiality"], risk="high_risk",
                      description="Misconfigured bucket exposed CV files")
    ledger.append([detected])
    late = breach("BreachNotified", "2024-05-04T10:00:01+02:00", authority="CNIL")
    with pytest.raises(RuleViolation) as err:
        ledger.append([late])
    assert err.value.field == "data.reason_for_delay"
    on_time = breach("BreachNotified", "2024-05-04T10:00:00+02:00", authority="CNIL")
    ledger.append([on_time])
    with pytest.raises(RuleViolation, match="supplementary"):
        ledger.append([breach("BreachNotified", "2024-05-05T10:00:00+02:00",
                              authority="CNIL")])
    late_with_reason = breach("BreachNotified", "2024-05-06T10:00:00+02:00", authority="CNIL",
                              supplementary=True, measures="Bucket closed, keys rotated")
    ledger.append([late_with_reason])
    with pytest.raises(RuleViolation, match="not a detected breach"):
        ledger.append([{"type": "BreachNotified", "occurred_at": "2024-05-06T10:00:00Z",
                        "data": {"breach_id": "BR-404", "authority": "CNIL"}}])


def test_late_breach_notification_with_reason_is_accepted(ledger: Ledger) -> None:
    ledger.append([
        breach("BreachDetected", "2024-05-01T10:00:00+02:00", nature=["availability"],
               risk="risk", description="Ransomware on the CRM"),
        breach("BreachNotified", "2024-05-05T10:00:00+02:00", authority="CNIL",
               reason_for_delay="Scope assessment by the forensic team took four days"),
    ])
    assert ledger.head()[0] == 3


def test_rights_request_lifecycle(ledger: Ledger) -> None:
    def req(type_: str, at: str, **data: Any) -> dict[str, Any]:
        return {"type": type_, "subject": "a@x.fr", "occurred_at": at,
                "data": {"request_id": "REQ-1", **data}}
    ledger.append([req("RightsRequestReceived", "2024-03-01T10:00:00Z", right="access",
                       channel="email")])
    with pytest.raises(RuleViolation, match="within 1 month"):
        ledger.append([req("RightsRequestExtended", "2024-04-02T10:00:00Z",
                           reason="Many requests")])
    ledger.append([req("RightsRequestExtended", "2024-03-30T10:00:00Z",
                       reason="Many requests")])
    with pytest.raises(RuleViolation, match="already extended"):
        ledger.append([req("RightsRequestExtended", "2024-03-31T10:00:00Z", reason="Again")])
    ledger.append([req("RightsRequestFulfilled", "2024-05-01T10:00:00Z")])
    with pytest.raises(RuleViolation, match="already answered"):
        ledger.append([req("RightsRequestRefused", "2024-05-02T10:00:00Z", reason="late")])


def test_legal_hold_blocks_erasure_until_released(ledger: Ledger) -> None:
    hold = {"type": "LegalHoldPlaced", "subject": "a@x.fr",
            "occurred_at": "2024-05-02T10:00:00Z",
            "data": {"hold_id": "H-1", "basis": "pre_litigation", "matter": "CASE-7"}}
    ledger.append([consent("a@x.fr"), collect("a@x.fr"), hold])
    with pytest.raises(RuleViolation, match="legal hold"):
        ledger.erase("a@x.fr", ground="consent_withdrawn")
    ledger.append([{"type": "LegalHoldReleased", "subject": "a@x.fr",
                    "occurred_at": "2024-05-03T10:00:00Z", "data": {"hold_id": "H-1"}}])
    ledger.erase("a@x.fr", ground="consent_withdrawn")
    with pytest.raises(RuleViolation, match="already erased"):
        ledger.erase("a@x.fr", ground="consent_withdrawn")


def test_disclosure_outside_eea_is_flagged(ledger: Ledger) -> None:
    ledger.append([{"type": "DataDisclosed", "occurred_at": "2024-05-02T10:00:00Z",
                    "data": {"recipient": "hosting", "recipient_kind": "processor",
                             "country": "US", "categories": ["identification_contact"],
                             "purpose": "recruitment", "subject_count": 3}}])
    shown = ledger.show(2)
    assert shown is not None
    assert shown["data"]["outside_eea"] is True
    assert shown["data"]["recipient_in_policy"] is True


def test_policy_version_cannot_be_published_twice(ledger: Ledger) -> None:
    from ledger.domain.policy import bundled_policy

    with pytest.raises(InputError, match="already published"):
        ledger.publish_policy(bundled_policy())


def test_second_erasure_with_nothing_personal_since_is_refused(ledger: Ledger) -> None:
    ledger.append([consent("a@x.fr", evidence="form-1"), collect("a@x.fr")])
    ledger.erase("a@x.fr", ground="consent_withdrawn")
    ledger.append([{"type": "RightsRequestReceived", "subject": "a@x.fr",
                    "occurred_at": "2024-05-03T10:00:00Z",
                    "data": {"request_id": "R-9", "right": "erasure", "channel": "email"}}])
    with pytest.raises(RuleViolation) as err:
        ledger.erase("a@x.fr", ground="consent_withdrawn")
    assert err.value.field == "subject" and err.value.line is None
    ledger.append([consent("a@x.fr", at="2024-05-04T10:00:00Z", evidence="form-2")])
    ledger.erase("a@x.fr", ground="consent_withdrawn")  # new personal data: erasable again
