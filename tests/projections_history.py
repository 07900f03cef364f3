"""A scripted history of the XP² cloud site, for the projection tests.

Everything is recorded with the ledger's clock at ``AT`` (2024-06-01 12:00 UTC,
the ``clock`` fixture's time); events occurred earlier.  The statuses the
tests expect are computed by hand in the comments, at ``AT``:

retention (13 months for tracker data; P2Y recruitment; P5Y order delivery)
* A  tracker_audience collected 2023-01-10T10:01Z → deadline 2024-02-10T10:01Z: overdue
       (and ``due`` at 2024-02-10T10:00Z, one minute before: the 13-month boundary)
* B  tracker_audience collected 2023-06-01T08:00Z → deadline 2024-07-01T08:00Z: due
       (within 30 days of AT), ``active`` at 2024-05-01
* C  identification_contact for recruitment 2024-01-15T09:00Z → 2026-01-15T09:00Z: active
* D  identification_contact for order_delivery 2023-02-01T09:00Z → 2028-02-01: held
       (legal hold placed 2024-05-01, never released)
* E  tracker_audience 2023-01-05T10:00Z, SubjectErased 2024-03-01: erased
* F  tracker_functional 2023-03-01T10:00Z, DataAnonymised 2024-04-01: anonymised

requests (one month, three when extended)
* R1 (C) access received 2024-04-20T10:00Z → due 2024-05-20T10:00Z, open: overdue
* R2 (C) portability received 2024-05-10T10:00Z → due 2024-06-10T10:00Z, open: not overdue
* R3 (D) access received 2024-03-15T10:00Z, extended 2024-04-01 → due 2024-06-15T09:00Z
       (11:00 in Paris both days: three months on the Paris calendar, across the DST change):
       extended, not overdue (without the extension it would be since 2024-04-15)
* R4 (A) erasure received 2024-04-01T09:00Z, fulfilled 2024-04-30T09:00Z: fulfilled, on time

breaches (72 hours)
* B1 discovered 2024-05-01T08:00Z, notified 2024-05-03T08:00Z (48 h), all Art. 33(3): on_time
* B2 discovered 2024-05-10T08:00Z, notified 2024-05-14T08:00Z (96 h) with a reason:
       late_with_reason; missing b, c, d and the record counts
* B3 discovered 2024-05-30T00:00Z, not notified: at AT (60 h) pending; overdue after
       2024-06-02T00:00Z
* B4 discovered 2024-05-20T00:00Z, risk unlikely, not notified: not_required
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

AT = "2024-06-01T12:00:00Z"
AT_TIME = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

SUBJECTS = {k: f"visitor-{k.lower()}@example.org" for k in "ABCDEFG"}
SECRETS = {  # personal values that must never appear once erased
    "E": ("vis-E-secret-7731", "banner-proof-E-99", "e-path-secret"),
}


def ev(type_: str, subject: str | None, at: str, **data: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"type": type_, "occurred_at": at, "actor": "test:script",
                           "data": data}
    if subject is not None:
        raw["subject"] = SUBJECTS.get(subject, subject)
    return raw


def consent(s: str, purpose: str, at: str, evidence: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"purpose": purpose, "method": "banner"}
    if evidence:
        data["evidence"] = evidence
    return ev("ConsentGiven", s, at, **data)


def collect(s: str, category: str, purpose: str, at: str, source: str,
            **values: Any) -> dict[str, Any]:
    return ev("DataCollected", s, at, category=category, purpose=purpose, source=source,
              values=values)


def history() -> list[list[dict[str, Any]]]:
    """The history, as append calls (each call all-or-nothing)."""
    full = {"categories_of_subjects": ["job_applicants"], "approx_subjects": 12,
            "categories_of_records": ["identification_contact"], "approx_records": 24,
            "dpo_contact": "data@xp2cloud.com", "likely_consequences": "phishing",
            "measures": "credentials rotated"}
    return [
        [consent("A", "cookies_audience", "2023-01-10T10:00:00Z"),
         collect("A", "tracker_audience", "cookies_audience", "2023-01-10T10:01:00Z",
                 "cookie", visitor_id="vis-A", visit_count=3)],
        [consent("B", "cookies_audience", "2023-06-01T07:59:00Z"),
         collect("B", "tracker_audience", "cookies_audience", "2023-06-01T08:00:00Z",
                 "cookie", visitor_id="vis-B")],
        [consent("C", "recruitment", "2024-01-15T08:59:00Z"),
         collect("C", "identification_contact", "recruitment", "2024-01-15T09:00:00Z",
                 "subject", email="claire.martin@example.org", last_name="Martin",
                 first_name="Claire")],
        [collect("D", "identification_contact", "order_delivery", "2023-02-01T09:00:00Z",
                 "subject", email="d@example.org", postal_address="1 rue X, Paris"),
         ev("LegalHoldPlaced", "D", "2024-05-01T09:00:00Z", hold_id="HOLD-1",
            basis="litigation")],
        [consent("E", "cookies_audience", "2023-01-05T09:59:00Z",
                 evidence=SECRETS["E"][1]),
         collect("E", "tracker_audience", "cookies_audience", "2023-01-05T10:00:00Z",
                 "cookie", visitor_id=SECRETS["E"][0], navigation_path=[SECRETS["E"][2]]),
         ev("SubjectErased", "E", "2024-03-01T10:00:00Z", ground="no_longer_necessary")],
        [consent("F", "cookies_functional", "2023-03-01T09:59:00Z"),
         collect("F", "tracker_functional", "cookies_functional", "2023-03-01T10:00:00Z",
                 "cookie", preferences={"lang": "fr"}),
         ev("DataAnonymised", "F", "2024-04-01T10:00:00Z", categories=["tracker_functional"],
            method="suppression")],
        [ev("RightsRequestReceived", "C", "2024-04-20T10:00:00Z", request_id="R1",
            right="access", channel="email"),
         ev("RightsRequestReceived", "C", "2024-05-10T10:00:00Z", request_id="R2",
            right="portability", channel="form"),
         ev("RightsRequestReceived", "D", "2024-03-15T10:00:00Z", request_id="R3",
            right="access", channel="post"),
         ev("RightsRequestExtended", "D", "2024-04-01T10:00:00Z", request_id="R3",
            reason="complex: archives on paper"),
         ev("RightsRequestReceived", "A", "2024-04-01T09:00:00Z", request_id="R4",
            right="erasure", channel="email"),
         ev("RightsRequestFulfilled", "A", "2024-04-30T09:00:00Z", request_id="R4",
            summary="tracker data deleted")],
        [ev("BreachDetected", None, "2024-05-01T08:00:00Z", breach_id="B1",
            nature=["confidentiality"], risk="risk", description="bucket left public",
            **full),
         ev("BreachNotified", None, "2024-05-03T08:00:00Z", breach_id="B1", authority="CNIL"),
         ev("BreachDetected", None, "2024-05-10T08:00:00Z", breach_id="B2",
            nature=["availability"], risk="high_risk", description="ransomware",
            categories_of_subjects=["customers"], approx_subjects=3),
         ev("BreachNotified", None, "2024-05-14T08:00:00Z", breach_id="B2", authority="CNIL",
            reason_for_delay="forensics needed first"),
         ev("BreachDetected", None, "2024-05-30T00:00:00Z", breach_id="B3",
            nature=["integrity"], risk="risk", description="records altered"),
         ev("BreachDetected", None, "2024-05-20T00:00:00Z", breach_id="B4",
            nature=["confidentiality"], risk="unlikely", description="encrypted laptop lost"),
         ev("DataDisclosed", "D", "2024-05-02T10:00:00Z", recipient="logistics",
            recipient_kind="processor", country="FR", categories=["identification_contact"],
            purpose="order_delivery")],
    ]


def build(ledger: Any) -> None:
    for call in history():
        ledger.append(call)
