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
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from ledger.canonical import format_time, parse_time

from . import db
from .mechanism import Context, Entry, KeyedRows, Projection

__all__ = ["ART33_ITEMS", "BreachesProjection", "breach_register"]

ART33_ITEMS = (
    ("a", "categories_of_subjects"), ("a", "approx_subjects"),
    ("a", "categories_of_records"), ("a", "approx_records"),
    ("b", "dpo_contact"), ("c", "likely_consequences"), ("d", "measures"),
)


def _given(row: dict[str, Any], payload: dict[str, Any]) -> None:
    items = json.loads(row["art33"])
    for _, name in ART33_ITEMS:
        if payload.get(name) not in (None, [], ""):
            items[name] = payload[name]
    row["art33"] = json.dumps(items, sort_keys=True)


class BreachesProjection(Projection):
    name = "breaches"
    version = 1
    tables = (db.breaches,)
    types = frozenset({"BreachDetected", "BreachNotified", "BreachCommunicated"})

    def apply(self, conn: Connection, entries: Sequence[Entry], ctx: Context) -> None:
        rows = KeyedRows(conn, db.breaches, ctx.ledger_id, ("breach_id",))
        for e in entries:
            p = e["payload"]
            key = (p["breach_id"],)
            if e["type"] == "BreachDetected":
                discovered = format_time(parse_time(p["discovered_at"]))
                policy = ctx.policies.in_force(discovered, e["seq"])
                hours = policy.breach_notification_hours if policy is not None else 72
                row = {"breach_id": p["breach_id"], "seq": e["seq"], "hash": e["hash"],
                       "detected_at": e["occurred_at"], "discovered_at": discovered,
                       "deadline": format_time(parse_time(discovered) + timedelta(hours=hours)),
                       "hours_allowed": hours, "nature": json.dumps(p["nature"]),
                       "risk": p["risk"], "description": p["description"],
                       "notified_at": None, "notified_seq": None, "authority": None,
                       "reference": None, "reason_for_delay": None, "communicated_at": None,
                       "communication": None, "art33": "{}"}
                _given(row, p)
                rows.add(key, row)
                continue
            found = rows.get(key)
            if found is None:  # pragma: no cover - the write side refuses it
                continue
            if e["type"] == "BreachNotified":
                if found["notified_at"] is None:
                    found["notified_at"] = e["occurred_at"]
                    found["notified_seq"] = e["seq"]
                    found["authority"] = p["authority"]
                    found["reason_for_delay"] = p.get("reason_for_delay")
                found["reference"] = p.get("reference") or found["reference"]
                _given(found, p)
            else:
                if found["communicated_at"] is None:
                    found["communicated_at"] = e["occurred_at"]
                found["communication"] = p.get("method") or f"exempt:{p.get('exemption')}"
        rows.flush()


def _hours(start: str, end: str) -> float:
    return round((parse_time(end) - parse_time(start)).total_seconds() / 3600, 1)


def describe(r: dict[str, Any], at: str) -> dict[str, Any]:
    notified = r["notified_at"]
    if notified is not None:
        status = "on_time" if notified <= r["deadline"] else (
            "late_with_reason" if r["reason_for_delay"] else "late")
    elif r["risk"] == "unlikely":
        status = "not_required"
    else:
        status = "overdue" if at > r["deadline"] else "pending"
    given = json.loads(r["art33"])
    return {"breach_id": r["breach_id"], "discovered_at": r["discovered_at"],
            "detected_at": r["detected_at"], "deadline": r["deadline"],
            "hours_allowed": r["hours_allowed"], "notified_at": notified,
            "hours_elapsed": _hours(r["discovered_at"], notified or at),
            "status": status, "authority": r["authority"], "reference": r["reference"],
            "reason_for_delay": r["reason_for_delay"], "risk": r["risk"],
            "nature": json.loads(r["nature"]), "description": r["description"],
            "communicated_at": r["communicated_at"], "communication": r["communication"],
            "art33_given": given,
            "missing": [f"{letter}:{name}" for letter, name in ART33_ITEMS
                        if name not in given],
            "seq": r["seq"], "hash": r["hash"], "notified_seq": r["notified_seq"]}


def breach_register(conn: Connection, ledger_id: str, *, at: str) -> dict[str, Any]:
    """The JSON answer of ``ledger breaches``."""
    t = db.breaches
    q = select(t).where(t.c.ledger_id == ledger_id).order_by(t.c.seq)
    return {"at": at, "breaches": [describe(dict(r._mapping), at) for r in conn.execute(q)]}
