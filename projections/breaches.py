"""breaches: the register of Art. 33(5), with the 72-hour clock and Art. 33(3) items.

Deadline: discovery + the policy's ``breach_notification_hours`` (72), from
the policy in force at discovery.  Status:

* notified: ``on_time`` (by the deadline) or ``late_with_reason``;
* not notified: ``pending`` (deadline ahead), ``overdue`` (passed), or
  ``not_required`` when the breach was assessed ``unlikely`` to result in a
  risk (Art. 33(1): no notification is due then; the register keeps it).

``missing``: the Art. 33(3) items given neither at detection nor in any
notification (``a`` subjects and records, ``b`` DPO contact, ``c`` likely
consequences, ``d`` measures).

The detection is one row and each notification or communication one step row,
each with when it occurred and when it was recorded, so the register is
computed for a :class:`~projections.timeframe.Timeframe`: a breach detected
after ``at`` is not in it, a notification after ``at`` has not happened yet,
and the clock runs from discovery to ``at`` (never negative).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from ledger.trust.canonical import format_time, parse_time

from . import db
from .mechanism import Context, Entry, Projection
from .timeframe import Timeframe

__all__ = ["ART33_ITEMS", "BreachesProjection", "breach_register"]

ART33_ITEMS = (
    ("a", "categories_of_subjects"), ("a", "approx_subjects"),
    ("a", "categories_of_records"), ("a", "approx_records"),
    ("b", "dpo_contact"), ("c", "likely_consequences"), ("d", "measures"),
)


def _art33(payload: dict[str, Any]) -> dict[str, Any]:
    return {name: payload[name] for _, name in ART33_ITEMS
            if payload.get(name) not in (None, [], "")}


class BreachesProjection(Projection):
    name = "breaches"
    version = 2
    tables = (db.breaches, db.breach_steps)
    insert_only = (db.breaches, db.breach_steps)
    types = frozenset({"BreachDetected", "BreachNotified", "BreachCommunicated"})

    def apply(self, conn: Connection, entries: Sequence[Entry], ctx: Context) -> None:
        found: list[dict[str, Any]] = []
        steps: list[dict[str, Any]] = []
        for e in entries:
            p = e["payload"]
            if e["type"] == "BreachDetected":
                discovered = format_time(parse_time(p["discovered_at"]))
                policy = ctx.policies.in_force(discovered, e["seq"])
                hours = policy.breach_notification_hours if policy is not None else 72
                found.append({
                    "ledger_id": ctx.ledger_id, "breach_id": p["breach_id"], "seq": e["seq"],
                    "hash": e["hash"], "detected_at": e["occurred_at"],
                    "discovered_at": discovered,
                    "deadline": format_time(parse_time(discovered) + timedelta(hours=hours)),
                    "hours_allowed": hours, "nature": json.dumps(p["nature"]),
                    "risk": p["risk"], "description": p["description"],
                    "art33": json.dumps(_art33(p), sort_keys=True),
                    "recorded_at": e["recorded_at"]})
                continue
            if e["type"] == "BreachNotified":
                kind = "notified"
                data = {"authority": p["authority"], "reference": p.get("reference"),
                        "reason_for_delay": p.get("reason_for_delay"), "art33": _art33(p)}
            else:
                kind = "communicated"
                data = {"communication": p.get("method") or f"exempt:{p.get('exemption')}"}
            steps.append({"ledger_id": ctx.ledger_id, "seq": e["seq"],
                          "breach_id": p["breach_id"], "kind": kind,
                          "occurred_at": e["occurred_at"], "recorded_at": e["recorded_at"],
                          "data": json.dumps(data, sort_keys=True)})
        if found:
            conn.execute(db.breaches.insert(), found)
        if steps:
            conn.execute(db.breach_steps.insert(), steps)


def _hours(start: str, end: str) -> float:
    return round((parse_time(end) - parse_time(start)).total_seconds() / 3600, 1)


def describe(r: dict[str, Any], steps: list[dict[str, Any]], at: str) -> dict[str, Any]:
    """A breach as it stood at ``at``, given the steps (in seq order) that had happened."""
    given = json.loads(r["art33"])
    first: dict[str, Any] | None = None
    reference = communicated_at = communication = None
    for s in steps:
        data = json.loads(s["data"])
        if s["kind"] == "notified":
            if first is None:
                first = {**s, **data}
            reference = data["reference"] or reference
            given.update(data["art33"])
        else:
            communicated_at = communicated_at or s["occurred_at"]
            communication = data["communication"]
    notified = first["occurred_at"] if first else None
    delay = first["reason_for_delay"] if first else None
    if notified is not None:
        status = "on_time" if notified <= r["deadline"] else (
            "late_with_reason" if delay else "late")
    elif r["risk"] == "unlikely":
        status = "not_required"
    else:
        status = "overdue" if at > r["deadline"] else "pending"
    return {"breach_id": r["breach_id"], "discovered_at": r["discovered_at"],
            "detected_at": r["detected_at"], "deadline": r["deadline"],
            "hours_allowed": r["hours_allowed"], "notified_at": notified,
            "hours_elapsed": max(0.0, _hours(r["discovered_at"], notified or at)),
            "status": status, "authority": first["authority"] if first else None,
            "reference": reference, "reason_for_delay": delay, "risk": r["risk"],
            "nature": json.loads(r["nature"]), "description": r["description"],
            "communicated_at": communicated_at, "communication": communication,
            "art33_given": dict(sorted(given.items())),
            "missing": [f"{letter}:{name}" for letter, name in ART33_ITEMS
                        if name not in given],
            "seq": r["seq"], "hash": r["hash"],
            "notified_seq": first["seq"] if first else None}


def breach_register(conn: Connection, ledger_id: str, *, frame: Timeframe) -> dict[str, Any]:
    """The JSON answer of ``ledger breaches``: the breaches detected by ``frame.at``."""
    t, st = db.breaches, db.breach_steps
    steps: dict[str, list[dict[str, Any]]] = {}
    for s in conn.execute(select(st).where(st.c.ledger_id == ledger_id,
                                           frame.where(st.c.occurred_at, st.c.recorded_at))
                          .order_by(st.c.seq)):
        steps.setdefault(s.breach_id, []).append(dict(s._mapping))
    q = select(t).where(t.c.ledger_id == ledger_id,
                        frame.where(t.c.detected_at, t.c.recorded_at)).order_by(t.c.seq)
    return {**frame.to_json(), "breaches": [
        describe(dict(r._mapping), steps.get(r.breach_id, []), frame.at)
        for r in conn.execute(q)]}
