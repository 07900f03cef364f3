"""disclosures: one row per DataDisclosed (recipients and transfers actually seen)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import Connection

from . import db
from .mechanism import Context, Entry, Projection

__all__ = ["DisclosuresProjection"]


class DisclosuresProjection(Projection):
    name = "disclosures"
    version = 1
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
                "occurred_at": e["occurred_at"], "hash": e["hash"]})
        conn.execute(db.disclosures.insert(), rows)
