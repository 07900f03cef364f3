"""retention: one row per collected item, its deadline, and what became of it.

Insert-only but for hold releases: a DataCollected adds an item whose deadline
comes from the policy it cites (the policy in force when it was collected:
the earlier of the purpose's and the category's periods, 13 months for
tracker data in the XP² cloud policy, counted on the local date in the policy's
time zone: :func:`deadline_text`); SubjectErased and DataAnonymised add
an erasure row; LegalHoldPlaced / LegalHoldReleased open and close a hold.
The status is computed when asked, at a time ``at`` (default now):

* ``erased`` / ``anonymised``: an erasure of the subject (or an anonymisation
  of the item's category) was recorded after the item (higher ``seq``);
* ``held``: the subject has a legal hold in force (it blocks expiry);
* ``overdue``: the deadline has passed;
* ``due``: the deadline falls within ``DUE_WINDOW_DAYS`` after ``at``;
* ``active``: otherwise (also when the policy sets no period).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, select, update

from ledger.canonical import format_time, parse_time
from ledger.periods import add_to_text
from ledger.policy import parse_period

from . import db
from .mechanism import Context, Entry, Projection, bulk_insert

__all__ = ["DUE_WINDOW_DAYS", "STATUSES", "RetentionProjection", "retention_items"]

DUE_WINDOW_DAYS = 30
STATUSES = ("active", "due", "overdue", "held", "erased", "anonymised")


class RetentionProjection(Projection):
    name = "retention"
    version = 2  # 2: deadlines counted on the local date in the policy's time zone
    tables = (db.retention_items, db.retention_erasures, db.holds)
    insert_only = (db.retention_items, db.retention_erasures)
    types = frozenset({"DataCollected", "SubjectErased", "DataAnonymised", "LegalHoldPlaced",
                       "LegalHoldReleased"})

    def apply(self, conn: Connection, entries: Sequence[Entry], ctx: Context) -> None:
        items: list[tuple[Any, ...]] = []
        erasures: list[dict[str, Any]] = []
        placed: list[dict[str, Any]] = []
        lid = ctx.ledger_id
        for e in entries:
            t, p = e["type"], e["payload"]
            if t == "DataCollected":
                # the columns of db.retention_items, in order
                items.append((lid, e["seq"], e["event_id"], e["subject"], p["category"],
                              p["purpose"], p["source"], e["occurred_at"], e["recorded_at"],
                              p.get("policy_version"), _deadline(ctx, e), e["hash"]))
            elif t == "SubjectErased":
                erasures.append({"ledger_id": lid, "seq": e["seq"], "subject": e["subject"],
                                 "category": None, "kind": "erased",
                                 "occurred_at": e["occurred_at"], "hash": e["hash"]})
            elif t == "DataAnonymised":
                erasures.extend({"ledger_id": lid, "seq": e["seq"], "subject": e["subject"],
                                 "category": c, "kind": "anonymised",
                                 "occurred_at": e["occurred_at"], "hash": e["hash"]}
                                for c in p["categories"])
            elif t == "LegalHoldPlaced":
                placed.append({"ledger_id": lid, "subject": e["subject"],
                               "hold_id": p["hold_id"], "basis": p["basis"],
                               "placed_seq": e["seq"], "placed_at": e["occurred_at"],
                               "released_seq": None, "released_at": None})
            elif t == "LegalHoldReleased":
                # a release closes a hold placed earlier, maybe in this same batch
                for h in placed:
                    if (h["subject"], h["hold_id"]) == (e["subject"], p["hold_id"]) \
                            and h["released_seq"] is None:
                        h["released_seq"], h["released_at"] = e["seq"], e["occurred_at"]
                        break
                else:
                    h_ = db.holds
                    conn.execute(update(h_).where(
                        h_.c.ledger_id == lid, h_.c.subject == e["subject"],
                        h_.c.hold_id == p["hold_id"], h_.c.released_seq.is_(None))
                        .values(released_seq=e["seq"], released_at=e["occurred_at"]))
        bulk_insert(conn, db.retention_items, items)
        if erasures:
            conn.execute(db.retention_erasures.insert(), erasures)
        if placed:
            conn.execute(db.holds.insert(), placed)


def _deadline(ctx: Context, e: Entry) -> str | None:
    p = e["payload"]
    policy = ctx.policies.version(p.get("policy_version"))
    if policy is None:
        policy = ctx.policies.in_force(e["occurred_at"], e["seq"])
    if policy is None:
        return None
    return deadline_text(policy, e["occurred_at"], p["purpose"], p["category"])


# (id(policy), purpose, category) -> (the policy, kept alive so the id stays its own,
# its time zone, the (months, days) periods that apply)
_Periods = tuple[tuple[int, int], ...]
_PERIODS: dict[tuple[int, str, str], tuple[Any, tzinfo, _Periods | None]] = {}


def deadline_text(policy: Any, collected_at: str, purpose: str, category: str) -> str | None:
    """``policy.retention_deadline`` on the ledger's time text, with the periods cached.

    Same rule (the earlier of the purpose's and the category's periods, counted
    on the local date in the policy's time zone, the day clamped to the end of
    the month: :mod:`ledger.periods`); :func:`ledger.periods.add_to_text` does
    the arithmetic on the text, whole months in UTC without parsing a datetime.
    """
    key = (id(policy), purpose, category)
    if key not in _PERIODS:
        pur, cat = policy.purpose(purpose), policy.category(category)
        if pur is None or cat is None or category not in pur.categories:
            _PERIODS[key] = (policy, policy.zone, None)
        else:
            _PERIODS[key] = (policy, policy.zone, tuple(
                parse_period(r) for r in (pur.retention, cat.retention) if r))
    _, zone, periods = _PERIODS[key]
    if not periods:
        return None
    if len(periods) == 1:
        return add_to_text(collected_at, periods[0][0], periods[0][1], zone)
    return min(add_to_text(collected_at, months, days, zone) for months, days in periods)


def status_of(item: dict[str, Any], erasures: list[dict[str, Any]], held: bool,
              at: str, soon: str) -> tuple[str, dict[str, Any] | None]:
    for er in erasures:  # in seq order: the first that covers the item
        if er["seq"] > item["seq"] and er["category"] in (None, item["category"]):
            return er["kind"], er
    if held:
        return "held", None
    deadline = item["deadline"]
    if deadline is not None and deadline <= at:
        return "overdue", None
    if deadline is not None and deadline <= soon:
        return "due", None
    return "active", None


def retention_items(conn: Connection, ledger_id: str, *, at: str,
                    due_before: str | None = None, status: str | None = None,
                    subject: str | None = None) -> dict[str, Any]:
    """The JSON answer of ``ledger retention``."""
    soon = format_time(parse_time(at) + timedelta(days=DUE_WINDOW_DAYS))
    t, er, h = db.retention_items, db.retention_erasures, db.holds
    q = select(t).where(t.c.ledger_id == ledger_id)
    if subject is not None:
        q = q.where(t.c.subject == subject)
    if due_before is not None:
        q = q.where(t.c.deadline.is_not(None), t.c.deadline <= due_before)
    erasures: dict[str, list[dict[str, Any]]] = defaultdict(list)
    eq = select(er).where(er.c.ledger_id == ledger_id).order_by(er.c.seq)
    if subject is not None:
        eq = eq.where(er.c.subject == subject)
    for r in conn.execute(eq):
        erasures[r.subject].append(dict(r._mapping))
    held = {r.subject for r in conn.execute(
        select(h.c.subject).where(h.c.ledger_id == ledger_id, h.c.released_seq.is_(None)))}
    out = []
    counts = dict.fromkeys(STATUSES, 0)
    for r in conn.execute(q.order_by(t.c.seq)):
        item = dict(r._mapping)
        st, by = status_of(item, erasures.get(item["subject"], []), item["subject"] in held,
                           at, soon)
        if due_before is not None and st in ("erased", "anonymised"):
            continue
        counts[st] += 1
        if status is not None and st != status:
            continue
        out.append({"collection_id": item["collection_id"], "subject": item["subject"],
                    "category": item["category"], "purpose": item["purpose"],
                    "source": item["source"], "collected_at": item["collected_at"],
                    "policy_version": item["policy_version"], "deadline": item["deadline"],
                    "status": st, "ended_at": by["occurred_at"] if by else None,
                    "ended_seq": by["seq"] if by else None,
                    "seq": item["seq"], "hash": item["hash"]})
    return {"at": at, "due_window_days": DUE_WINDOW_DAYS, "due_before": due_before,
            "status": status, "counts": counts, "items": out}

