"""requests: rights requests (Art. 12(3)) with their due date, status and overdue flag.

Due date: received + the policy's ``rights_response_months`` (one month), plus
``rights_extension_months`` (two) once RightsRequestExtended is recorded,
from the policy in force when the request was received, counted on the local
date in that policy's time zone (:mod:`ledger.domain.periods`: received 31 March
00:30 in Paris, due 30 April 00:30 in Paris).  Status: ``open``,
``extended``, ``fulfilled`` or ``refused``; ``overdue`` when still open past
the due date at the time asked, ``answered_late`` when closed after it.

Every transition keeps when it occurred and when it was recorded, and the
answer is computed for a :class:`~projections.timeframe.Timeframe`: a request
received after ``at`` does not exist yet, one answered after ``at`` is still
open (or overdue), an extension after ``at`` does not extend yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo
from typing import Any

from sqlalchemy import Connection, select

from ledger.domain.periods import add_to_text

from . import db
from .mechanism import Context, Entry, Projection
from .rows import KeyedRows
from .timeframe import Timeframe

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
    version = 3  # 2: local-calendar due dates, or transitions kept; 3: both
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
                    "closed_seq": None, "outcome": None, "outcome_text": None,
                    "received_recorded_at": e["recorded_at"], "extended_due_at": None,
                    "extended_recorded_at": None, "closed_recorded_at": None})
                continue
            row = rows.get(key)
            if row is None:  # pragma: no cover - the write side refuses it
                continue
            if e["type"] == "RightsRequestExtended":
                months, extra, zone = _months(ctx, row["received_at"], row["seq"])
                row["extended_at"] = e["occurred_at"]
                row["extension_reason"] = p["reason"]
                row["extended_due_at"] = _add_months(row["received_at"], months + extra, zone)
                row["extended_recorded_at"] = e["recorded_at"]
            else:
                row["closed_at"] = e["occurred_at"]
                row["closed_seq"] = e["seq"]
                row["closed_recorded_at"] = e["recorded_at"]
                row["outcome"] = "fulfilled" if e["type"] == "RightsRequestFulfilled" \
                    else "refused"
                row["outcome_text"] = p.get("summary") or p.get("reason")
        rows.flush()


def describe(r: dict[str, Any], frame: Timeframe) -> dict[str, Any]:
    """A request as it stood at ``frame.at``, from the transitions the frame admits."""
    at = frame.at
    extended = frame.admits(r["extended_at"], r["extended_recorded_at"])
    closed = frame.admits(r["closed_at"], r["closed_recorded_at"])
    due = r["extended_due_at"] if extended else r["due_at"]
    status = r["outcome"] if closed else ("extended" if extended else "open")
    return {"subject": r["subject"], "request_id": r["request_id"], "right": r["right"],
            "channel": r["channel"], "received_at": r["received_at"], "due_at": due,
            "extended_at": r["extended_at"] if extended else None,
            "extension_reason": r["extension_reason"] if extended else None,
            "closed_at": r["closed_at"] if closed else None, "status": status,
            "overdue": (not closed) and at > due,
            "answered_late": closed and r["closed_at"] > due,
            "outcome_text": r["outcome_text"] if closed else None, "seq": r["seq"],
            "hash": r["hash"], "closed_seq": r["closed_seq"] if closed else None}


def request_list(conn: Connection, ledger_id: str, *, frame: Timeframe,
                 open_only: bool = False, overdue_only: bool = False,
                 subject: str | None = None) -> dict[str, Any]:
    """The JSON answer of ``ledger requests``: the requests received by ``frame.at``."""
    t = db.rights_requests
    q = select(t).where(t.c.ledger_id == ledger_id,
                        frame.where(t.c.received_at, t.c.received_recorded_at))
    if subject is not None:
        q = q.where(t.c.subject == subject)
    items = [describe(dict(r._mapping), frame) for r in conn.execute(q.order_by(t.c.seq))]
    if open_only or overdue_only:
        items = [i for i in items if i["closed_at"] is None]
    if overdue_only:
        items = [i for i in items if i["overdue"]]
    return {**frame.to_json(), "open_only": open_only, "overdue_only": overdue_only,
            "requests": items}
