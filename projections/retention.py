"""retention: one row per collected item, its deadline, and what became of it.

Insert-only but for hold releases: a DataCollected adds an item whose deadline
comes from the policy it cites (the policy in force when it was collected:
the earlier of the purpose's and the category's periods, 13 months for
tracker data in the XP² cloud policy, counted on the local date in the policy's
time zone: :func:`deadline_text`); SubjectErased and DataAnonymised add
an erasure row; LegalHoldPlaced / LegalHoldReleased open and close a hold;
ConsentWithdrawn, ObjectionRecorded and a granted erasure request
(RightsRequestFulfilled of a RightsRequestReceived with right ``erasure``) add
a *trigger* that makes items due before their period ends (see
:func:`effective_deadline`).  Every row keeps when its event occurred and when
it was recorded, so the status is computed for a :class:`Timeframe` (the
moment ``at``, from the events it admits only), first match wins:

* ``erased`` / ``anonymised``: an erasure of the subject (or an anonymisation
  of the item's category) recorded after the item (higher ``seq``), by ``at``;
* ``held``: the subject has a legal hold in force at ``at`` (it blocks expiry);
* ``overdue``: the effective deadline has passed;
* ``due``: the effective deadline falls within ``DUE_WINDOW_DAYS`` after ``at``;
* ``active``: otherwise (also when the policy sets no period).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, select, update

from ledger.domain.periods import add_to_text
from ledger.domain.policy import DEFAULT_ERASURE_GRACE, add_period, parse_period
from ledger.trust.canonical import format_time, parse_time

from . import db
from .mechanism import Context, Entry, Projection
from .rows import bulk_insert
from .timeframe import Timeframe

__all__ = ["DUE_WINDOW_DAYS", "REASONS", "STATUSES", "RetentionProjection",
           "retention_items"]

DUE_WINDOW_DAYS = 30
STATUSES = ("active", "due", "overdue", "held", "erased", "anonymised")
REASONS = ("retention_period", "consent_withdrawn", "objection", "erasure_request")
_TRIGGERS = REASONS[1:]
# which items a trigger reaches: the legal bases it removes (Art. 17(1)(b), (c))
_BASES = {"consent_withdrawn": ("consent",),
          "objection": ("legitimate_interests", "public_task"),
          "erasure_request": ("consent",)}


class RetentionProjection(Projection):
    name = "retention"
    version = 4  # 2: local-calendar deadlines; 3: triggers and time frames; 4: both
    tables = (db.retention_items, db.retention_erasures, db.holds, db.retention_triggers)
    insert_only = (db.retention_items, db.retention_erasures)
    types = frozenset({"DataCollected", "SubjectErased", "DataAnonymised", "LegalHoldPlaced",
                       "LegalHoldReleased", "ConsentWithdrawn", "ObjectionRecorded",
                       "RightsRequestReceived", "RightsRequestFulfilled"})

    def apply(self, conn: Connection, entries: Sequence[Entry], ctx: Context) -> None:
        items: list[tuple[Any, ...]] = []
        erasures: list[dict[str, Any]] = []
        placed: list[dict[str, Any]] = []
        triggers: list[dict[str, Any]] = []
        lid = ctx.ledger_id
        for e in entries:
            t, p = e["type"], e["payload"]
            if t == "DataCollected":
                # the columns of db.retention_items, in order
                items.append((lid, e["seq"], e["event_id"], e["subject"], p["category"],
                              p["purpose"], p["source"], e["occurred_at"], e["recorded_at"],
                              p.get("policy_version"), _deadline(ctx, e), e["hash"],
                              _basis(ctx, e)))
            elif t == "SubjectErased":
                erasures.append({"ledger_id": lid, "seq": e["seq"], "subject": e["subject"],
                                 "category": None, "kind": "erased",
                                 "occurred_at": e["occurred_at"], "hash": e["hash"],
                                 "recorded_at": e["recorded_at"]})
            elif t == "DataAnonymised":
                erasures.extend({"ledger_id": lid, "seq": e["seq"], "subject": e["subject"],
                                 "category": c, "kind": "anonymised",
                                 "occurred_at": e["occurred_at"], "hash": e["hash"],
                                 "recorded_at": e["recorded_at"]}
                                for c in p["categories"])
            elif t == "LegalHoldPlaced":
                placed.append({"ledger_id": lid, "subject": e["subject"],
                               "hold_id": p["hold_id"], "basis": p["basis"],
                               "placed_seq": e["seq"], "placed_at": e["occurred_at"],
                               "released_seq": None, "released_at": None,
                               "placed_recorded_at": e["recorded_at"],
                               "released_recorded_at": None})
            elif t == "LegalHoldReleased":
                _release(conn, lid, placed, e)
            else:
                trigger = _trigger(conn, lid, triggers, e)
                if trigger is not None:
                    triggers.append({"ledger_id": lid, "seq": e["seq"],
                                     "subject": e["subject"], "occurred_at": e["occurred_at"],
                                     "recorded_at": e["recorded_at"], "hash": e["hash"],
                                     "due_at": _grace_end(ctx, e, trigger["kind"]),
                                     **trigger})
        bulk_insert(conn, db.retention_items, items)
        if erasures:
            conn.execute(db.retention_erasures.insert(), erasures)
        if placed:
            conn.execute(db.holds.insert(), placed)
        if triggers:
            conn.execute(db.retention_triggers.insert(), triggers)


def _release(conn: Connection, lid: str, placed: list[dict[str, Any]], e: Entry) -> None:
    """A release closes a hold placed earlier, maybe in this same batch."""
    hold_id = e["payload"]["hold_id"]
    for h in placed:
        if (h["subject"], h["hold_id"]) == (e["subject"], hold_id) \
                and h["released_seq"] is None:
            h["released_seq"], h["released_at"] = e["seq"], e["occurred_at"]
            h["released_recorded_at"] = e["recorded_at"]
            return
    h_ = db.holds
    conn.execute(update(h_).where(
        h_.c.ledger_id == lid, h_.c.subject == e["subject"],
        h_.c.hold_id == hold_id, h_.c.released_seq.is_(None))
        .values(released_seq=e["seq"], released_at=e["occurred_at"],
                released_recorded_at=e["recorded_at"]))


def _trigger(conn: Connection, lid: str, batch: list[dict[str, Any]],
             e: Entry) -> dict[str, Any] | None:
    """The trigger columns an entry adds (kind, purpose, request_id), or None."""
    t, p = e["type"], e["payload"]
    if t == "ConsentWithdrawn":
        return {"kind": "consent_withdrawn", "purpose": p["purpose"], "request_id": None}
    if t == "ObjectionRecorded":
        # the event has no outcome: an objection is recorded once upheld (docs/PROJECTIONS.md)
        return {"kind": "objection", "purpose": p["purpose"], "request_id": None}
    if t == "RightsRequestReceived":
        if p["right"] != "erasure":
            return None
        return {"kind": "erasure_request_received", "purpose": None,
                "request_id": p["request_id"]}
    # RightsRequestFulfilled: a trigger only when the request was for erasure
    key = (e["subject"], p["request_id"])
    if any((r["subject"], r["request_id"]) == key and r["kind"] == "erasure_request_received"
           for r in batch):
        return {"kind": "erasure_request", "purpose": None, "request_id": p["request_id"]}
    tr = db.retention_triggers
    found = conn.execute(select(tr.c.seq).where(
        tr.c.ledger_id == lid, tr.c.subject == e["subject"],
        tr.c.request_id == p["request_id"], tr.c.kind == "erasure_request_received")).first()
    if found is None:
        return None
    return {"kind": "erasure_request", "purpose": None, "request_id": p["request_id"]}


def _grace_end(ctx: Context, e: Entry, kind: str) -> str | None:
    """When a trigger's items must be erased by: its time + the policy's ``erasure_grace``.

    The policy in force when the trigger occurred (``P30D`` when it sets none).
    """
    if kind not in _TRIGGERS:
        return None
    policy = ctx.policies.in_force(e["occurred_at"], e["seq"])
    grace = (policy.erasure_grace if policy is not None else None) or DEFAULT_ERASURE_GRACE
    zone = policy.zone if policy is not None else None
    return format_time(add_period(parse_time(e["occurred_at"]), grace, zone))


def _basis(ctx: Context, e: Entry) -> str | None:
    """The legal basis of the collection's purpose in the policy it cites."""
    policy = ctx.policies.version(e["payload"].get("policy_version"))
    if policy is None:
        policy = ctx.policies.in_force(e["occurred_at"], e["seq"])
    purpose = policy.purpose(e["payload"]["purpose"]) if policy is not None else None
    return purpose.legal_basis if purpose is not None else None


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
    the month: :mod:`ledger.domain.periods`); :func:`ledger.domain.periods.add_to_text` does
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


def effective_deadline(item: dict[str, Any], triggers: list[dict[str, Any]]
                       ) -> tuple[str | None, str, dict[str, Any] | None]:
    """The item's deadline, why (a reason of ``REASONS``) and the trigger behind it.

    The retention period's deadline, or earlier: the policy's ``erasure_grace``
    (default ``P30D``) after a trigger (given in occurrence order, already
    filtered by the time frame) that reaches the item: same subject, occurred at
    or after the collection, the item's purpose (any consent-based one for an
    erasure request), and a legal basis the trigger removes (consent; legitimate
    interests or public task for an objection).  Ties keep the retention period.
    """
    best: tuple[str | None, str, dict[str, Any] | None] = (
        item["deadline"], "retention_period", None)
    for tr in triggers:
        if tr["occurred_at"] < item["collected_at"] \
                or item["basis"] not in _BASES[tr["kind"]] \
                or tr["purpose"] not in (None, item["purpose"]):
            continue
        when = tr["due_at"]
        if best[0] is None or when < best[0]:
            best = (when, tr["kind"], tr)
    return best


def status_of(item: dict[str, Any], erasures: list[dict[str, Any]], held: bool, *,
              deadline: str | None, at: str, soon: str) -> tuple[str, dict[str, Any] | None]:
    for er in erasures:  # in seq order: the first that covers the item
        if er["seq"] > item["seq"] and er["category"] in (None, item["category"]):
            return er["kind"], er
    if held:
        return "held", None
    if deadline is not None and deadline <= at:
        return "overdue", None
    if deadline is not None and deadline <= soon:
        return "due", None
    return "active", None


def _by_subject(conn: Connection, table: Any, ledger_id: str, subject: str | None, *,
                frame: Timeframe, times: tuple[str, str],
                extra: tuple[Any, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    """The rows of ``table`` the frame admits, per subject, in ``seq`` order."""
    occurred, recorded = times
    q = select(table).where(table.c.ledger_id == ledger_id,
                            frame.where(table.c[occurred], table.c[recorded]), *extra)
    if subject is not None:
        q = q.where(table.c.subject == subject)
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in conn.execute(q.order_by(table.c[occurred if table is db.holds else "seq"])):
        out[r.subject].append(dict(r._mapping))
    return out


def retention_items(conn: Connection, ledger_id: str, *, frame: Timeframe,
                    due_before: str | None = None, status: str | None = None,
                    subject: str | None = None) -> dict[str, Any]:
    """The JSON answer of ``ledger retention``: the items as they stood at ``frame.at``."""
    at = frame.at
    soon = format_time(parse_time(at) + timedelta(days=DUE_WINDOW_DAYS))
    t, er, h, tr = db.retention_items, db.retention_erasures, db.holds, db.retention_triggers
    q = select(t).where(t.c.ledger_id == ledger_id,
                        frame.where(t.c.collected_at, t.c.recorded_at))
    if subject is not None:
        q = q.where(t.c.subject == subject)
    erasures = _by_subject(conn, er, ledger_id, subject, frame=frame,
                           times=("occurred_at", "recorded_at"))
    held = {s for s, holds in _by_subject(conn, h, ledger_id, subject, frame=frame,
                                          times=("placed_at", "placed_recorded_at")).items()
            if any(not frame.admits(x["released_at"], x["released_recorded_at"])
                   for x in holds)}
    triggers = _by_subject(conn, tr, ledger_id, subject, frame=frame,
                           times=("occurred_at", "recorded_at"),
                           extra=(tr.c.kind.in_(_TRIGGERS),))
    for rows in triggers.values():
        rows.sort(key=lambda x: (x["occurred_at"], x["seq"]))
    out = []
    counts = dict.fromkeys(STATUSES, 0)
    for r in conn.execute(q.order_by(t.c.seq)):
        item = dict(r._mapping)
        deadline, reason, why = effective_deadline(item, triggers.get(item["subject"], []))
        if due_before is not None and (deadline is None or deadline > due_before):
            continue
        st, by = status_of(item, erasures.get(item["subject"], []), item["subject"] in held,
                           deadline=deadline, at=at, soon=soon)
        if due_before is not None and st in ("erased", "anonymised"):
            continue
        counts[st] += 1
        if status is not None and st != status:
            continue
        out.append({"collection_id": item["collection_id"], "subject": item["subject"],
                    "category": item["category"], "purpose": item["purpose"],
                    "source": item["source"], "collected_at": item["collected_at"],
                    "policy_version": item["policy_version"], "legal_basis": item["basis"],
                    "deadline": deadline, "reason": reason,
                    "reason_seq": why["seq"] if why else None,
                    "retention_deadline": item["deadline"],
                    "status": st, "ended_at": by["occurred_at"] if by else None,
                    "ended_seq": by["seq"] if by else None,
                    "seq": item["seq"], "hash": item["hash"]})
    return {**frame.to_json(), "due_window_days": DUE_WINDOW_DAYS, "due_before": due_before,
            "status": status, "counts": counts, "items": out}
