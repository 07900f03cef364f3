"""accesses: the register of reads of personal data (one row per PersonalDataAccessed).

``ledger accesses`` and ``GET /v1/accesses`` list who was shown whose personal
values, when, through what and why (ledger.app.accesses records them before the
data is shown).  Filters: ``subject`` (a pseudonym), ``actor``; times as in
every register — ``as_of=T``: reads that occurred by T; ``known_at=K``: reads
recorded by K; ``start``/``end``: reads that occurred in [start, end].
The rows hold no personal value: pseudonyms, actors, views, filters, reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Index, Integer, String, Table, Text, select

from . import db
from .mechanism import Context, Entry, Projection
from .rows import bulk_insert

__all__ = ["AccessesProjection", "access_register", "accesses"]

accesses = Table(
    "proj_accesses", db.METADATA,
    Column("ledger_id", String(36), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("subject", String(64), nullable=False),
    Column("actor", String(128)),
    Column("view", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("reason", Text),
    Column("scope", Text),
    Column("first_seq", Integer),
    Column("last_seq", Integer),
    Column("entries", Integer),
    Column("occurred_at", String(32), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("proj_accesses_seq", "ledger_id", "seq", unique=True),
    Index("proj_accesses_subject", "ledger_id", "subject"),
)

COLUMNS = ("seq", "subject", "actor", "view", "channel", "reason", "scope", "first_seq",
           "last_seq", "entries", "occurred_at", "recorded_at", "hash")


class AccessesProjection(Projection):
    name = "accesses"
    version = 1
    tables = (accesses,)
    insert_only = (accesses,)
    types = frozenset({"PersonalDataAccessed"})

    def apply(self, conn: Connection, entries: Sequence[Entry], ctx: Context) -> None:
        rows = []
        for e in entries:
            p = e["payload"]
            # the columns of the table, in order
            rows.append((ctx.ledger_id, e["seq"], e["subject"], e["actor"], p["view"],
                         p["channel"], p.get("reason"), p.get("scope"), p.get("first_seq"),
                         p.get("last_seq"), p.get("entries"), e["occurred_at"],
                         e["recorded_at"], e["hash"]))
        bulk_insert(conn, accesses, rows)


def access_register(conn: Connection, ledger_id: str, *, subject: str | None = None,
                    actor: str | None = None, as_of: str | None = None,
                    known_at: str | None = None, start: str | None = None,
                    end: str | None = None) -> dict[str, Any]:
    """The reads that pass every filter given, in ``seq`` order."""
    t = accesses
    q = select(*[t.c[c] for c in COLUMNS]).where(t.c.ledger_id == ledger_id)
    if subject is not None:
        q = q.where(t.c.subject == subject)
    if actor is not None:
        q = q.where(t.c.actor == actor)
    if as_of is not None:
        q = q.where(t.c.occurred_at <= as_of)
    if known_at is not None:
        q = q.where(t.c.recorded_at <= known_at)
    if start is not None:
        q = q.where(t.c.occurred_at >= start)
    if end is not None:
        q = q.where(t.c.occurred_at <= end)
    rows = [dict(r._mapping) for r in conn.execute(q.order_by(t.c.seq))]
    return {"subject": subject, "actor": actor, "as_of": as_of, "known_at": known_at,
            "from": start, "to": end, "count": len(rows), "accesses": rows}
