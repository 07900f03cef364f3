"""disclosures: one row per DataDisclosed (recipients and transfers actually seen).

The register (``ledger disclosures``) lists the disclosures that had occurred
by the frame's moment, as known at its ``known_at``
(:class:`~projections.timeframe.Timeframe`), with counts per recipient.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from . import db
from .mechanism import Context, Entry, Projection
from .timeframe import Timeframe

__all__ = ["DisclosuresProjection", "disclosure_register"]


class DisclosuresProjection(Projection):
    name = "disclosures"
    version = 2
    tables = (db.disclosures,)
    insert_only = (db.disclosures,)
    types = frozenset({"DataDisclosed"})

    def apply(self, conn: Connection, entries: Sequence[Entry], ctx: Context) -> None:
        rows = []
        for e in entries:
            p = e["payload"]
            rows.append({
                "ledger_id": ctx.ledger_id, "seq": e["seq"], "subject": e["subject"],
                "recipient": p["recipient"], "recipient_kind": p["recipient_kind"],
                "country": p["country"], "categories": json.dumps(p["categories"]),
                "purpose": p["purpose"], "outside_eea": int(bool(p.get("outside_eea"))),
                "safeguard": p.get("safeguard"),
                "subject_count": p.get("subject_count") or (1 if e["subject"] else 0),
                "occurred_at": e["occurred_at"], "hash": e["hash"],
                "recorded_at": e["recorded_at"]})
        conn.execute(db.disclosures.insert(), rows)


def disclosure_register(conn: Connection, ledger_id: str, *, frame: Timeframe,
                        subject: str | None = None) -> dict[str, Any]:
    """The JSON answer of ``ledger disclosures``."""
    d = db.disclosures
    q = select(d).where(d.c.ledger_id == ledger_id, frame.where(d.c.occurred_at,
                                                                 d.c.recorded_at))
    if subject is not None:
        q = q.where(d.c.subject == subject)
    rows = []
    per_recipient: dict[str, int] = {}
    for r in conn.execute(q.order_by(d.c.seq)):
        rows.append({"seq": r.seq, "subject": r.subject, "recipient": r.recipient,
                     "recipient_kind": r.recipient_kind, "country": r.country,
                     "categories": json.loads(r.categories), "purpose": r.purpose,
                     "outside_eea": bool(r.outside_eea), "safeguard": r.safeguard,
                     "subject_count": r.subject_count, "occurred_at": r.occurred_at,
                     "recorded_at": r.recorded_at, "hash": r.hash})
        per_recipient[r.recipient] = per_recipient.get(r.recipient, 0) + 1
    return {**frame.to_json(), "count": len(rows),
            "outside_eea": sum(1 for r in rows if r["outside_eea"]),
            "per_recipient": dict(sorted(per_recipient.items())), "disclosures": rows}
