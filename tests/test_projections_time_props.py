"""Property tests of the time model (issue 10 item 1), on SQLite and PostgreSQL.

For every register (consent, retention, requests, breaches, disclosures, ropa,
export): build a random history, take the answer at T as JSON, append random
valid events that occur after T, and the answer at T is the same byte for
byte.  Same for ``known_at``: events recorded after K never change the answer
known at K, even back-dated ones.  Random events the ledger refuses (a
withdrawal without consent, a notification of an unknown breach…) are simply
not stored.

One exception, by design, for the export only: an erasure destroys the
subject's keys (crypto-shredding), so an export made after it cannot show the
values even about the past; the export is compared when no erasure or
anonymisation was appended after T.  Its ``generated_at`` and ``head`` say when
the export was made, not what it answers, and are left out of the comparison.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.app.application import Ledger
from ledger.errors import InputError
from ledger.trust.canonical import format_time
from projections.queries import Reader

T = datetime(2026, 6, 1, tzinfo=UTC)
SUBJECTS = ("p1@example.org", "p2@example.org", "p3@example.org")
COLLECTIONS = (("cookies_audience", "tracker_audience", {"visitor_id": "v"}),
               ("recruitment", "identification_contact", {"email": "x@example.org"}),
               ("contact_requests", "identification_contact", {"email": "y@example.org"}),
               ("order_delivery", "identification_contact", {"email": "z@example.org"}))
CONSENT_PURPOSES = ("cookies_audience", "recruitment")
ERASING = ("SubjectErased", "DataAnonymised")
_names = itertools.count()


def _event(kind: int, s: str, n: int, flag: bool) -> tuple[str, str | None, dict[str, Any]]:
    """A candidate event (type, subject, data); the ledger may refuse it."""
    rid, bid, hid = f"R{n % 3}", f"B{n % 2}", f"H{n % 2}"
    purpose = CONSENT_PURPOSES[n % 2]
    table: list[tuple[str, str | None, dict[str, Any]]] = [
        ("ConsentGiven", s, {"purpose": purpose, "method": "banner"}),
        ("ConsentWithdrawn", s, {"purpose": purpose, "method": "settings"}),
        ("DataCollected", s, {"purpose": COLLECTIONS[n % 4][0],
                              "category": COLLECTIONS[n % 4][1],
                              "values": COLLECTIONS[n % 4][2], "source": "subject"}),
        ("ObjectionRecorded", s, {"purpose": "contact_requests"}),
        ("RightsRequestReceived", s, {"request_id": rid, "channel": "email",
                                      "right": "erasure" if flag else "access"}),
        ("RightsRequestExtended", s, {"request_id": rid, "reason": "complex"}),
        ("RightsRequestFulfilled" if flag else "RightsRequestRefused", s,
         {"request_id": rid} if flag else {"request_id": rid, "reason": "unfounded"}),
        ("SubjectErased" if flag else "DataAnonymised", s,
         {"ground": "consent_withdrawn"} if flag else
         {"categories": ["tracker_audience"], "method": "suppression"}),
        ("LegalHoldPlaced", s, {"hold_id": hid, "basis": "litigation"}),
        ("LegalHoldReleased", s, {"hold_id": hid}),
        ("BreachDetected", None, {"breach_id": bid, "nature": ["integrity"],
                                  "risk": "high_risk" if flag else "unlikely",
                                  "description": "test"}),
        ("BreachNotified", None, {"breach_id": bid, "authority": "CNIL",
                                  "reason_for_delay": "forensics", "measures": "rotated"}),
        ("BreachCommunicated", None, {"breach_id": bid, "method": "individual"}),
        ("DataDisclosed", s, {"recipient": "logistics", "recipient_kind": "processor",
                              "country": "FR", "categories": ["identification_contact"],
                              "purpose": "order_delivery"}),
    ]
    return table[kind % len(table)]


# (event kind, subject, variant, flag, minutes from the base time)
def events(lo: int, hi: int) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    one = st.tuples(st.integers(0, 13), st.sampled_from(SUBJECTS), st.integers(0, 11),
                    st.booleans(), st.integers(lo, hi))
    return st.lists(one, min_size=1, max_size=14).map(lambda xs: sorted(xs, key=lambda x: x[4]))


def append(led: Ledger, spec: list[tuple[Any, ...]], base: datetime) -> list[str]:
    """Append each candidate on its own; return the types the ledger accepted."""
    done = []
    for kind, s, n, flag, minutes in spec:
        type_, subject, data = _event(kind, s, n, flag)
        raw: dict[str, Any] = {"type": type_, "actor": "test", "data": data,
                               "occurred_at": format_time(base + timedelta(minutes=minutes))}
        if subject is not None:
            raw["subject"] = subject
        try:
            led.append([raw])
        except InputError:
            continue
        done.append(type_)
    return done


def base(led: Ledger) -> None:
    """A fixed start, 200 days before T, so later withdrawals, erasures and holds matter."""
    start = T - timedelta(days=200)
    spec: list[tuple[Any, ...]] = [(0, s, n, False, 0) for s in SUBJECTS for n in (0, 1)]
    spec += [(2, s, n, False, 1) for s in SUBJECTS for n in range(4)]
    spec += [(4, s, n, s == SUBJECTS[0], 2) for s in SUBJECTS for n in (0, 1)]
    spec += [(10, SUBJECTS[0], 0, True, 3)]
    append(led, spec, start)


def answers(r: Reader, **when: str) -> dict[str, str]:
    """Every register's JSON answer under ``when`` (as_of / known_at), as canonical text."""
    out = {"retention": r.retention(**when), "requests": r.requests(**when),
           "breaches": r.breaches(**when), "disclosures": r.disclosures(**when),
           "ropa": r.ropa(**when)}
    for s in SUBJECTS:
        out[f"consent {s}"] = r.consent(s, **when)
        doc = r.export(s, now="fixed", **when)
        out[f"export {s}"] = {k: v for k, v in doc.items() if k not in ("head", "generated_at")}
    return {k: json.dumps(v, sort_keys=True) for k, v in out.items()}


def fresh(ledger: Ledger, env: dict[str, str], clock: Any) -> Ledger:
    """A new ledger in the test's database (one per example), the bundled policy published."""
    from ledger.domain.policy import bundled_policy

    led, _ = Ledger.init(ledger.url, f"p{next(_names)}", env=env)
    led.clock = clock
    led.publish_policy(bundled_policy(), actor="test")
    return led


def compare(before: dict[str, str], after: dict[str, str], appended: list[str]) -> None:
    for name, text in before.items():
        if name.startswith("export") and any(t in ERASING for t in appended):
            continue
        assert after[name] == text, name


SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@SETTINGS
@given(history=events(-190 * 1440, 0), later=events(1, 400 * 1440))
def test_answers_as_of_t_ignore_later_events(ledger: Ledger, env: dict[str, str], clock: Any,
                                             history: list[tuple[Any, ...]],
                                             later: list[tuple[Any, ...]]) -> None:
    clock.now = T + timedelta(days=500)  # recorded after everything occurred
    led = fresh(ledger, env, clock)
    try:
        base(led)
        append(led, history, T)
        with Reader(led.url, led.name, env=env) as r:
            as_of = format_time(T)
            before = answers(r, as_of=as_of)
            appended = append(led, later, T)
            compare(before, answers(r, as_of=as_of), appended)
    finally:
        led.close()


@SETTINGS
@given(history=events(-190 * 1440, 0), later=events(-800 * 1440, 20 * 1440),
       back=st.integers(0, 400))
def test_answers_known_at_k_ignore_later_records(ledger: Ledger, env: dict[str, str],
                                                 clock: Any, *, history: list[tuple[Any, ...]],
                                                 later: list[tuple[Any, ...]],
                                                 back: int) -> None:
    clock.now = T  # the history is recorded by K = T
    led = fresh(ledger, env, clock)
    try:
        base(led)
        append(led, history, T)
        with Reader(led.url, led.name, env=env) as r:
            k = format_time(T)
            as_of = format_time(T - timedelta(days=back))
            before = {**answers(r, known_at=k),
                      **{f"{n} as of": v for n, v in answers(r, known_at=k,
                                                              as_of=as_of).items()}}
            clock.now = T + timedelta(days=30)  # recorded after K, back-dated or not
            appended = append(led, later, T)
            after = {**answers(r, known_at=k),
                     **{f"{n} as of": v for n, v in answers(r, known_at=k,
                                                             as_of=as_of).items()}}
            compare(before, after, appended)
    finally:
        led.close()
