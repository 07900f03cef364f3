"""consent: every consent choice kept as history; state per subject and purpose.

The projection stores one row per ConsentGiven / ConsentRefused /
ConsentWithdrawn (``proj_consent_history``), never overwritten.  The state of
a purpose is the choice with the latest ``(occurred_at, seq)`` among the rows
allowed by the question:

* ``as_of=T``: rows whose ``occurred_at`` ≤ T (the state at T);
* ``known_at=K``: rows whose ``recorded_at`` ≤ K (what the ledger knew at K);
* both: what the ledger knew at K about the state at T.

So a back-dated event (recorded late, occurring early) changes the answer
"as of T" only for questions asked with a ``known_at`` after it was recorded,
and a withdrawal never changes the answer for a time before it occurred.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from . import db
from .mechanism import Context, Entry, PolicyLog, Projection, bulk_insert

__all__ = ["ConsentProjection", "consent_state", "fold_consents"]

STATES = {"ConsentGiven": "granted", "ConsentRefused": "refused",
          "ConsentWithdrawn": "withdrawn"}


class ConsentProjection(Projection):
    name = "consent"
    version = 1
    tables = (db.consent_history,)
    insert_only = (db.consent_history,)
    types = frozenset(STATES)

    def apply(self, conn: Connection, entries: Sequence[Entry], ctx: Context) -> None:
        rows = []
        for e in entries:
            p = e["payload"]
            version = p.get("policy_version")
            if version is None:  # a withdrawal: the policy in force when it occurred
                policy = ctx.policies.in_force(e["occurred_at"], e["seq"])
                version = policy.version if policy is not None else None
            # the columns of db.consent_history, in order
            rows.append((ctx.ledger_id, e["seq"], e["subject"], p["purpose"],
                         STATES[e["type"]], e["occurred_at"], e["recorded_at"], version,
                         p["method"], e["hash"]))
        bulk_insert(conn, db.consent_history, rows)


def fold_consents(history: Sequence[dict[str, Any]], *, as_of: str | None = None,
                  known_at: str | None = None) -> dict[str, dict[str, Any]]:
    """purpose → the deciding history row (latest ``(occurred_at, seq)``) under the filters."""
    best: dict[str, dict[str, Any]] = {}
    for h in history:
        if as_of is not None and h["occurred_at"] > as_of:
            continue
        if known_at is not None and h["recorded_at"] > known_at:
            continue
        cur = best.get(h["purpose"])
        if cur is None or (h["occurred_at"], h["seq"]) > (cur["occurred_at"], cur["seq"]):
            best[h["purpose"]] = h
    return best


def history_rows(conn: Connection, ledger_id: str, subject: str) -> list[dict[str, Any]]:
    t = db.consent_history
    q = (select(t.c.seq, t.c.purpose, t.c.state, t.c.occurred_at, t.c.recorded_at,
                t.c.policy_version, t.c.method, t.c.hash)
         .where(t.c.ledger_id == ledger_id, t.c.subject == subject))
    rows = [dict(r._mapping) for r in conn.execute(q)]
    rows.sort(key=lambda r: r["seq"])
    return rows


def consent_state(conn: Connection, ledger_id: str, subject: str, policies: PolicyLog, *,
                  as_of: str | None = None, known_at: str | None = None,
                  now: str) -> dict[str, Any]:
    """The JSON answer of ``ledger consent``: one item per purpose, with its history."""
    history = history_rows(conn, ledger_id, subject)
    best = fold_consents(history, as_of=as_of, known_at=known_at)
    policy = policies.in_force(as_of or now)
    purposes: list[str] = []
    if policy is not None:
        purposes = [p.id for p in policy.purposes if p.consent_required]
    purposes += sorted({h["purpose"] for h in history} - set(purposes))
    items = []
    for purpose in purposes:
        h = best.get(purpose)
        shown = [x for x in history if x["purpose"] == purpose and
                 (as_of is None or x["occurred_at"] <= as_of) and
                 (known_at is None or x["recorded_at"] <= known_at)]
        items.append({
            "purpose": purpose,
            "status": h["state"] if h else "none",
            "since": h["occurred_at"] if h else None,
            "recorded_at": h["recorded_at"] if h else None,
            "policy_version": h["policy_version"] if h else None,
            "method": h["method"] if h else None,
            "seq": h["seq"] if h else None,
            "hash": h["hash"] if h else None,
            "history": [{"state": x["state"], "occurred_at": x["occurred_at"],
                         "recorded_at": x["recorded_at"], "policy_version": x["policy_version"],
                         "seq": x["seq"], "hash": x["hash"]} for x in shown],
        })
    return {"subject": subject, "as_of": as_of, "known_at": known_at,
            "policy_version": policy.version if policy is not None else None,
            "purposes": items}
