"""requests: rights requests (Art. 12(3)) with their due date, status and overdue flag.

Due date: received + the policy's ``rights_response_months`` (one month), plus
``rights_extension_months`` (two) once RightsRequestExtended is recorded,
from the policy in force when the request was received, counted on the local
date in that policy's time zone (:mod:`ledger.periods`: received 31 March
00:30 in Paris, due 30 April 00:30 in Paris).  Status: ``open``,
``extended``, ``fulfilled`` or ``refused``; ``overdue`` when still open past
the due date at the time asked, ``answered_late`` when closed after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo
from typing import Any

from sqlalchemy import Connection, select

from ledger.periods import add_to_text

from . import db
from .mechanism import Context, Entry, KeyedRows, Projection

__all__ = ["RequestsProjection", "request_list"]


def _months(ctx: Context, at: str, seq: int) -> tuple[int, int, tzinfo]:
    """(response months, extension months, time zone) of the policy in force at ``at``."""
    policy = ctx.policies.in_force(at, seq)
    if policy is None:
        return 1, 2, UTC
    return policy.rights_response_months, policy.rights_extension_months, policy.zone


def _add_months(at: str, months: int, zone: tzinfo) -> str:
    """``at`` plus ``months``, counted on the local date in ``zone``."""
    return add_to_text(at, months, 0, zone)


class RequestsProjection(Projection):
    name = "requests"
    version = 2  # 2: due dates counted on the local date in the policy's time zone
    tables = (db.rights_requests,)
    types = frozenset({"RightsRequestReceived", "RightsRequestExtended",
                       "RightsRequestFulfilled", "RightsRequestRefused"})

    def apply(self, conn: Connection, entries: Sequence[Entry], ctx: Context) -> None:
        rows = KeyedRows(conn, db.rights_requests, ctx.ledger_id, ("subject", "request_id"))
        for e in entries:
            p = e["payload"]
            key = (e["subject"], p["request_id"])
            if e["type"] == "RightsRequestReceived":
                months, _, zone = _months(ctx, e["occurred_at"], e["seq"])
                rows.add(key, {
                    "subject": e["subject"], "request_id": p["request_id"], "seq": e["seq"],
                    "hash": e["hash"], "right": p["right"], "channel": p["channel"],
                    "received_at": e["occurred_at"],
                    "due_at": _add_months(e["occurred_at"], months, zone),
                    "extended_at": None, "extension_reason": None, "closed_at": None,
                    "closed_seq": None, "outcome": None, "outcome_text": None})
                continue
            row = rows.get(key)
            if row is None:  # pragma: no cover - the write side refuses it
                continue
            if e["type"] == "RightsRequestExtended":
                months, extra, zone = _months(ctx, row["received_at"], row["seq"])
                row["extended_at"] = e["occurred_at"]
                row["extension_reason"] = p["reason"]
                row["due_at"] = _add_months(row["received_at"], months + extra, zone)
            else:
                row["closed_at"] = e["occurred_at"]
                row["closed_seq"] = e["seq"]
                row["outcome"] = "fulfilled" if e["type"] == "RightsRequestFulfilled" \
                    else "refused"
                row["outcome_text"] = p.get("summary") or p.get("reason")
        rows.flush()


def describe(r: dict[str, Any], at: str) -> dict[str, Any]:
    closed = r["closed_at"] is not None
    status = r["outcome"] if closed else ("extended" if r["extended_at"] else "open")
    return {"subject": r["subject"], "request_id": r["request_id"], "right": r["right"],
            "channel": r["channel"], "received_at": r["received_at"], "due_at": r["due_at"],
            "extended_at": r["extended_at"], "extension_reason": r["extension_reason"],
            "closed_at": r["closed_at"], "status": status,
            "overdue": (not closed) and at > r["due_at"],
            "answered_late": closed and r["closed_at"] > r["due_at"],
            "outcome_text": r["outcome_text"], "seq": r["seq"], "hash": r["hash"],
            "closed_seq": r["closed_seq"]}


def request_list(conn: Connection, ledger_id: str, *, at: str, open_only: bool = False,
                 overdue_only: bool = False, subject: str | None = None) -> dict[str, Any]:
    """The JSON answer of ``ledger requests``."""
    t = db.rights_requests
    q = select(t).where(t.c.ledger_id == ledger_id)
    if subject is not None:
        q = q.where(t.c.subject == subject)
    if open_only or overdue_only:
        q = q.where(t.c.closed_at.is_(None))
    items = [describe(dict(r._mapping), at) for r in conn.execute(q.order_by(t.c.seq))]
    if overdue_only:
        items = [i for i in items if i["overdue"]]
    return {"at": at, "open_only": open_only, "overdue_only": overdue_only,
            "requests": items}
