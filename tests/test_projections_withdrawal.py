"""Withdrawal, objection and a granted erasure request make data due (issue 10 item 3).

Art. 17(1)(b): consent withdrawn and no other legal basis; 17(1)(c): objection
under Art. 21.  From that moment the items collected before it for the purpose
are due for erasure within the policy's ``erasure_grace`` (default P30D, which the
bundled XP² cloud policy uses: it sets none); the register says
why (``reason``).  Hand-computed boundaries on both sides, both databases.

Timeline (all recorded on 2027-01-01, after it happened):
* 2025-01-10T10:00Z consent cookies_audience and recruitment; 10:01 collections
  tracker_audience (13 months: 2026-02-10T10:01Z) and identification_contact for
  recruitment (2 years: 2027-01-10T10:01Z), contact_requests (legitimate
  interests, 3 years: 2028-01-10T10:01Z) and order_delivery (contract, 5 years)
* W = 2025-06-05T10:00Z: consent to cookies_audience withdrawn
  -> tracker item due from W, deadline W + 30 days = 2025-07-05T10:00Z
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.app.application import Ledger
from ledger.domain.policy import DEFAULT_ERASURE_GRACE, Policy, bundled_policy
from ledger.errors import PolicyError
from projections.queries import Reader, parse_when

S = "wanda@example.org"


def t(text: str) -> str:
    out = parse_when(text, "t")
    assert out is not None
    return out


def ev(type_: str, at: str, **data: Any) -> dict[str, Any]:
    return {"type": type_, "subject": S, "occurred_at": at, "actor": "test", "data": data}


def collect(purpose: str, category: str, at: str) -> dict[str, Any]:
    return ev("DataCollected", at, purpose=purpose, category=category, source="subject",
              values={"visitor_id": "v"} if category.startswith("tracker") else
              {"email": "w@example.org"})


@pytest.fixture
def reader(ledger: Ledger, env: dict[str, str], clock: Any) -> Any:
    clock.now = datetime(2027, 1, 1, tzinfo=UTC)
    ledger.append([
        ev("ConsentGiven", "2025-01-10T10:00:00Z", purpose="cookies_audience", method="banner"),
        ev("ConsentGiven", "2025-01-10T10:00:00Z", purpose="recruitment", method="form"),
        collect("cookies_audience", "tracker_audience", "2025-01-10T10:01:00Z"),
        collect("recruitment", "identification_contact", "2025-01-10T10:01:00Z"),
        collect("contact_requests", "identification_contact", "2025-01-10T10:01:00Z"),
        collect("order_delivery", "identification_contact", "2025-01-10T10:01:00Z")])
    r = Reader(ledger.url, ledger.name, env=env)
    yield r
    r.close()


def items(reader: Reader, at: str, **kw: Any) -> dict[str, tuple[str, str, str | None]]:
    doc = reader.retention(as_of=t(at), subject=S, **kw)
    return {i["purpose"]: (i["status"], i["reason"], i["deadline"]) for i in doc["items"]}


def test_withdrawal_makes_consent_data_due(ledger: Ledger, reader: Reader) -> None:
    assert DEFAULT_ERASURE_GRACE == "P30D" and bundled_policy().erasure_grace is None
    ledger.append([ev("ConsentWithdrawn", "2025-06-05T10:00:00Z", purpose="cookies_audience",
                      method="settings")])
    # one second before the withdrawal: active on its 13-month period
    assert items(reader, "2025-06-05T09:59:59Z")["cookies_audience"] == (
        "active", "retention_period", "2026-02-10T10:01:00.000000Z")
    # from the withdrawal: due, 30 days to erase
    at_w = items(reader, "2025-06-05T10:00:00Z")
    assert at_w["cookies_audience"] == ("due", "consent_withdrawn",
                                        "2025-07-05T10:00:00.000000Z")
    assert items(reader, "2025-07-05T09:59:59Z")["cookies_audience"][0] == "due"
    assert items(reader, "2025-07-05T10:00:00Z")["cookies_audience"][0] == "overdue"
    # other purposes keep their own period (the withdrawal is per purpose)
    assert at_w["recruitment"] == ("active", "retention_period",
                                   "2027-01-10T10:01:00.000000Z")
    assert at_w["contact_requests"][1] == at_w["order_delivery"][1] == "retention_period"
    doc = reader.retention(as_of=t("2025-06-05T10:00:00Z"), subject=S)
    tracker = next(i for i in doc["items"] if i["purpose"] == "cookies_audience")
    assert tracker["retention_deadline"] == "2026-02-10T10:01:00.000000Z"
    assert tracker["reason_seq"] is not None and tracker["legal_basis"] == "consent"


def test_data_collected_after_a_new_consent_is_not_due(ledger: Ledger,
                                                         reader: Reader) -> None:
    ledger.append([
        ev("ConsentWithdrawn", "2025-06-05T10:00:00Z", purpose="cookies_audience",
           method="settings"),
        ev("ConsentGiven", "2025-08-01T10:00:00Z", purpose="cookies_audience", method="banner"),
        collect("cookies_audience", "tracker_audience", "2025-08-01T10:01:00Z")])
    doc = reader.retention(as_of=t("2025-08-02"), subject=S, status=None)
    got = [(i["collected_at"][:10], i["status"], i["reason"]) for i in doc["items"]
           if i["purpose"] == "cookies_audience"]
    assert got == [("2025-01-10", "overdue", "consent_withdrawn"),
                   ("2025-08-01", "active", "retention_period")]


def test_objection_makes_legitimate_interest_data_due(ledger: Ledger, reader: Reader) -> None:
    ledger.append([ev("ObjectionRecorded", "2025-09-01T00:00:00Z",
                      purpose="contact_requests")])
    assert items(reader, "2025-08-31T23:59:59Z")["contact_requests"] == (
        "active", "retention_period", "2028-01-10T10:01:00.000000Z")
    at_o = items(reader, "2025-09-01T00:00:00Z")
    assert at_o["contact_requests"] == ("due", "objection", "2025-10-01T00:00:00.000000Z")
    assert items(reader, "2025-10-01T00:00:00Z")["contact_requests"][0] == "overdue"
    assert items(reader, "2025-09-30T23:59:59Z")["contact_requests"][0] == "due"
    # the consent-based and contract items are not reached by an objection
    assert {at_o[p][1] for p in ("cookies_audience", "recruitment", "order_delivery")} == {
        "retention_period"}


def test_granted_erasure_request_makes_consent_data_due(ledger: Ledger,
                                                         reader: Reader) -> None:
    ledger.append([
        ev("RightsRequestReceived", "2025-03-01T09:00:00Z", request_id="E1", right="erasure",
           channel="email"),
        ev("RightsRequestReceived", "2025-03-01T09:00:00Z", request_id="A1", right="access",
           channel="email"),
        ev("RightsRequestFulfilled", "2025-03-02T09:00:00Z", request_id="A1"),
        ev("RightsRequestFulfilled", "2025-03-20T09:00:00Z", request_id="E1")])
    before = items(reader, "2025-03-20T08:59:59Z")
    assert {v[1] for v in before.values()} == {"retention_period"}  # access: no trigger
    at_f = items(reader, "2025-03-20T09:00:00Z")
    # 30 days on the Paris calendar: 20 March 10:00 +01:00 -> 19 April 10:00 +02:00
    assert at_f["cookies_audience"] == ("due", "erasure_request",
                                        "2025-04-19T08:00:00.000000Z")
    assert at_f["recruitment"] == ("due", "erasure_request", "2025-04-19T08:00:00.000000Z")
    # kept on another basis (legitimate interests, contract): their own period
    assert at_f["contact_requests"][1] == at_f["order_delivery"][1] == "retention_period"
    assert items(reader, "2025-04-19T09:00:00Z")["recruitment"][0] == "overdue"
    overdue = reader.retention(as_of=t("2025-04-19T09:00:00Z"), status="overdue")
    assert sorted(i["purpose"] for i in overdue["items"]) == ["cookies_audience",
                                                             "recruitment"]


def test_legal_hold_keeps_withdrawn_data_held(ledger: Ledger, reader: Reader) -> None:
    ledger.append([
        ev("LegalHoldPlaced", "2025-05-01T00:00:00Z", hold_id="H", basis="litigation"),
        ev("ConsentWithdrawn", "2025-06-05T10:00:00Z", purpose="cookies_audience",
           method="settings")])
    assert items(reader, "2025-08-01")["cookies_audience"] == (
        "held", "consent_withdrawn", "2025-07-05T10:00:00.000000Z")
    ledger.append([ev("LegalHoldReleased", "2025-09-01T00:00:00Z", hold_id="H")])
    assert items(reader, "2025-08-31")["cookies_audience"][0] == "held"
    assert items(reader, "2025-09-01")["cookies_audience"][0] == "overdue"


def test_back_dated_withdrawal_known_later(ledger: Ledger, reader: Reader,
                                           clock: Any) -> None:
    clock.now = datetime(2027, 2, 1, tzinfo=UTC)  # recorded 2027-02-01, occurred 2025-06-05
    ledger.append([ev("ConsentWithdrawn", "2025-06-05T10:00:00Z", purpose="cookies_audience",
                      method="settings")])
    known_before = reader.retention(as_of=t("2025-06-06"), known_at=t("2027-01-15"),
                                    subject=S)
    assert {i["reason"] for i in known_before["items"]} == {"retention_period"}
    known_now = items(reader, "2025-06-06")
    assert known_now["cookies_audience"][:2] == ("due", "consent_withdrawn")


def test_the_policy_sets_the_grace_period(ledger: Ledger, reader: Reader) -> None:
    # a policy in force from 2025-05-01 gives 7 days; the withdrawal at W (2025-06-05T10:00Z)
    # is due by 2025-06-12T10:00Z
    doc = bundled_policy().to_json()
    doc.update(version="2025-05-01", effective_at="2025-05-01T00:00:00.000000Z",
               erasure_grace="P7D")
    ledger.publish_policy(Policy.from_json(doc), actor="test")
    ledger.append([ev("ConsentWithdrawn", "2025-06-05T10:00:00Z", purpose="cookies_audience",
                      method="settings")])
    assert items(reader, "2025-06-12T09:59:59Z")["cookies_audience"] == (
        "due", "consent_withdrawn", "2025-06-12T10:00:00.000000Z")
    assert items(reader, "2025-06-12T10:00:00Z")["cookies_audience"][0] == "overdue"
    # the policy form keeps the field; without it the digest of older policies is unchanged
    assert Policy.from_json(doc).to_json()["erasure_grace"] == "P7D"
    assert "erasure_grace" not in bundled_policy().to_json()


@pytest.mark.parametrize("bad", ["P2M", "P1M1D", "P32D", "P1Y", "P0D", "30 days", 30])
def test_erasure_grace_must_be_at_most_one_month(bad: object) -> None:
    doc = bundled_policy().to_json()
    doc["erasure_grace"] = bad
    with pytest.raises(PolicyError, match="erasure_grace"):
        Policy.from_json(doc)
    doc["erasure_grace"] = "P1M"
    assert Policy.from_json(doc).erasure_grace == "P1M"
