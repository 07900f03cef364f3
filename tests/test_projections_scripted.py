"""Each projection against hand-computed expectations (tests/projections_history.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ledger.app.application import Ledger
from projections.queries import Reader, parse_when
from tests.projections_history import AT, SECRETS, SUBJECTS, build


@pytest.fixture
def reader(ledger: Ledger, env: dict[str, str]) -> Any:
    build(ledger)
    r = Reader(ledger.url, ledger.name, env=env)
    yield r
    r.close()


def t(text: str) -> str:
    out = parse_when(text, "t")
    assert out is not None
    return out


def by_subject(items: list[dict[str, Any]], ledger: Ledger) -> dict[str, list[str]]:
    names = {ledger.pseudonym(v): k for k, v in SUBJECTS.items()}
    out: dict[str, list[str]] = {}
    for i in items:
        out.setdefault(names[i["subject"]], []).append(i["status"])
    return out


def test_retention_statuses_and_deadlines(reader: Reader, ledger: Ledger) -> None:
    doc = reader.retention(at=t(AT))
    assert by_subject(doc["items"], ledger) == {
        "A": ["overdue"], "B": ["due"], "C": ["active"], "D": ["held"], "E": ["erased"],
        "F": ["anonymised"]}
    deadlines = {i["category"] + "/" + i["purpose"]: i["deadline"] for i in doc["items"]
                 if i["subject"] == ledger.pseudonym(SUBJECTS["A"])}
    assert deadlines == {"tracker_audience/cookies_audience": "2024-02-10T10:01:00.000000Z"}
    assert doc["counts"] == {"active": 1, "due": 1, "overdue": 1, "held": 1, "erased": 1,
                             "anonymised": 1}
    # the 13-month boundary, on both sides: one minute before, A is due; one after, overdue
    a = SUBJECTS["A"]
    before = reader.retention(at=t("2024-02-10T10:00:00Z"), subject=a)["items"]
    after = reader.retention(at=t("2024-02-10T10:01:00Z"), subject=a)["items"]
    assert [i["status"] for i in before] == ["due"]
    assert [i["status"] for i in after] == ["overdue"]
    # B is active a month earlier (deadline beyond the 30-day window)
    b = reader.retention(at=t("2024-05-01T00:00:00Z"), subject=SUBJECTS["B"])["items"]
    assert [i["status"] for i in b] == ["active"]
    # erased items carry the erasure that ended them
    e = reader.retention(at=t(AT), status="erased")["items"]
    assert [(i["status"], i["ended_at"]) for i in e] == [
        ("erased", "2024-03-01T10:00:00.000000Z")]


def test_retention_filters(reader: Reader) -> None:
    due = reader.retention(at=t(AT), due_before=t("2024-07-01T08:00:00Z"))["items"]
    # A (2024-02-10) and B (2024-07-01T08:00) are due by then; E was erased: not listed
    assert sorted(i["deadline"] for i in due) == ["2024-02-10T10:01:00.000000Z",
                                                  "2024-07-01T08:00:00.000000Z"]
    none = reader.retention(at=t(AT), due_before=t("2024-07-01T07:59:59Z"))["items"]
    assert [i["deadline"] for i in none] == ["2024-02-10T10:01:00.000000Z"]
    held = reader.retention(at=t(AT), status="held")["items"]
    assert [i["purpose"] for i in held] == ["order_delivery"]


def test_retention_hold_released(ledger: Ledger, reader: Reader) -> None:
    ledger.append([{"type": "LegalHoldReleased", "subject": SUBJECTS["D"],
                    "occurred_at": "2024-05-31T10:00:00Z", "data": {"hold_id": "HOLD-1"}}])
    d = reader.retention(at=t(AT), subject=SUBJECTS["D"])["items"]
    assert [i["status"] for i in d] == ["active"]  # deadline 2028


def test_requests_due_dates_and_overdue(reader: Reader, ledger: Ledger) -> None:
    doc = reader.requests(at=t(AT))
    got = {r["request_id"]: (r["status"], r["due_at"], r["overdue"], r["answered_late"])
           for r in doc["requests"]}
    assert got == {
        "R1": ("open", "2024-05-20T10:00:00.000000Z", True, False),
        "R2": ("open", "2024-06-10T10:00:00.000000Z", False, False),
        # received 15 March 11:00 Paris (winter time) + 3 months on the Paris date =
        # 15 June 11:00 Paris (summer time) = 09:00Z: the policy's calendar, not UTC's
        "R3": ("extended", "2024-06-15T09:00:00.000000Z", False, False),
        "R4": ("fulfilled", "2024-05-01T09:00:00.000000Z", False, False),
    }
    assert [r["request_id"] for r in reader.requests(at=t(AT), overdue_only=True)
            ["requests"]] == ["R1"]
    assert sorted(r["request_id"] for r in reader.requests(at=t(AT), open_only=True)
                  ["requests"]) == ["R1", "R2", "R3"]
    # the one-month boundary of R1 on both sides
    r1_before = reader.requests(at=t("2024-05-20T10:00:00Z"), overdue_only=True)["requests"]
    assert r1_before == []
    r1_after = reader.requests(at=t("2024-05-20T10:00:01Z"), overdue_only=True)["requests"]
    assert [r["request_id"] for r in r1_after] == ["R1"]


def test_breach_register(reader: Reader) -> None:
    doc = reader.breaches(at=t(AT))
    got = {b["breach_id"]: (b["status"], b["hours_elapsed"], b["deadline"])
           for b in doc["breaches"]}
    assert got == {
        "B1": ("on_time", 48.0, "2024-05-04T08:00:00.000000Z"),
        "B2": ("late_with_reason", 96.0, "2024-05-13T08:00:00.000000Z"),
        "B3": ("pending", 60.0, "2024-06-02T00:00:00.000000Z"),
        "B4": ("not_required", 300.0, "2024-05-23T00:00:00.000000Z"),
    }
    missing = {b["breach_id"]: b["missing"] for b in doc["breaches"]}
    assert missing["B1"] == []
    assert missing["B2"] == ["a:categories_of_records", "a:approx_records", "b:dpo_contact",
                             "c:likely_consequences", "d:measures"]
    # the 72-hour boundary of B3, on both sides
    at72 = {b["breach_id"]: b["status"] for b in
            reader.breaches(at=t("2024-06-02T00:00:00Z"))["breaches"]}
    after = {b["breach_id"]: b["status"] for b in
             reader.breaches(at=t("2024-06-02T00:00:01Z"))["breaches"]}
    assert (at72["B3"], after["B3"]) == ("pending", "overdue")


def test_consent_now(reader: Reader) -> None:
    doc = reader.consent(SUBJECTS["E"], now=t("2023-06-01"))
    states = {p["purpose"]: p["status"] for p in doc["purposes"]}
    assert states["cookies_audience"] == "granted"
    assert states["recruitment"] == "none"
    item = next(p for p in doc["purposes"] if p["purpose"] == "cookies_audience")
    assert item["since"] == item["given_at"] == "2023-01-05T09:59:00.000000Z"
    # at AT, 17 months later, past the bundled 6-month consent_validity: expired
    late = next(p for p in reader.consent(SUBJECTS["E"], now=t(AT))["purposes"]
                if p["purpose"] == "cookies_audience")
    assert late["status"] == "expired" and late["given_at"] == item["given_at"]
    assert late["since"] == late["expires_at"] == item["expires_at"]
    assert "2023-07-04" <= late["expires_at"] <= "2023-07-06"
    assert item["policy_version"] == "2022-05-14"
    assert item["seq"] > 1 and len(item["hash"]) == 64


def test_ropa_counts(reader: Reader) -> None:
    doc = reader.ropa(at=t(AT))
    seen = {p["id"]: p["seen"] for p in doc["purposes"]}
    assert seen["cookies_audience"]["consents_granted"] == 3
    assert seen["cookies_audience"]["collections"] == 3
    assert seen["cookies_audience"]["subjects_collected"] == 3
    assert seen["order_delivery"]["disclosures"] == 1
    assert seen["order_delivery"]["recipients_disclosed_to"] == ["logistics"]
    assert seen["recruitment"]["categories_collected"] == ["identification_contact"]
    assert doc["controller"]["name"] == "XP² cloud"
    assert doc["transfers"] == [] and doc["transfers_seen"] == 0
    logistics = next(r for r in doc["recipients"] if r["id"] == "logistics")
    assert logistics["seen"] == {"disclosures": 1, "countries": ["FR"], "outside_eea": 0}
    purpose = next(p for p in doc["purposes"] if p["id"] == "cookies_audience")
    assert purpose["data_categories"] == [
        {"id": "tracker_audience", "name": "Audience measurement cookie data",
         "retention": "P13M"}]


def test_export_of_an_erased_subject_holds_no_personal_value(reader: Reader) -> None:
    doc = reader.export(SUBJECTS["E"])
    text = json.dumps(doc, ensure_ascii=False)
    for secret in (*SECRETS["E"], SUBJECTS["E"]):
        assert secret not in text
    assert doc["erased"] is True
    assert doc["erasures"][0]["type"] == "SubjectErased"
    assert doc["collections"][0]["values"] is None or all(
        v is None for v in doc["collections"][0]["values"].values())
    assert "[erased]" not in text
    # the facts stay: purposes, categories, times, seq and hash
    assert doc["consents"][0]["status"] == "granted"
    assert doc["collections"][0]["category"] == "tracker_audience"


def test_export_of_a_living_subject(reader: Reader, ledger: Ledger) -> None:
    from projections.portability import export_tables

    doc = reader.export(SUBJECTS["C"])
    assert doc["erased"] is False
    (c,) = doc["collections"]
    assert c["values"] == {"email": "claire.martin@example.org", "last_name": "Martin",
                           "first_name": "Claire"}
    shown = ledger.show(c["seq"])
    assert shown is not None and shown["hash"] == c["hash"]
    assert [r["request_id"] for r in doc["requests"]] == ["R1", "R2"]
    assert doc["consents"][0]["purpose"] == "recruitment"
    tables = export_tables(doc)
    assert "claire.martin@example.org" in tables["collected_values.csv"]
    assert tables["requests.csv"].splitlines()[0].startswith("request_id,right")


def test_a_subject_who_comes_back_after_erasure(reader: Reader, ledger: Ledger,
                                                clock: Any) -> None:
    from datetime import UTC, datetime

    clock.now = datetime(2024, 6, 2, 12, 0, tzinfo=UTC)
    e = SUBJECTS["E"]
    ledger.append([
        {"type": "ConsentGiven", "subject": e, "occurred_at": "2024-06-02T10:00:00Z",
         "data": {"purpose": "cookies_audience", "method": "banner"}},
        {"type": "DataCollected", "subject": e, "occurred_at": "2024-06-02T10:01:00Z",
         "data": {"category": "tracker_audience", "purpose": "cookies_audience",
                  "source": "cookie", "values": {"visitor_id": "vis-E-new"}}}])
    items = reader.retention(at=t("2024-06-03T00:00:00Z"), subject=e)["items"]
    assert [(i["status"], i["deadline"]) for i in items] == [
        ("erased", "2024-02-05T10:00:00.000000Z"), ("active", "2025-07-02T10:01:00.000000Z")]
    doc = reader.export(e)
    assert doc["erased"] is True  # the old values are gone, and the export says so
    assert [c["values"] for c in doc["collections"]][-1] == {"visitor_id": "vis-E-new"}
    assert SECRETS["E"][0] not in json.dumps(doc)
