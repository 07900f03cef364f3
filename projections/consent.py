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

A grant whose purpose has a ``consent_validity`` in the policy the consent
cites is ``expired`` from ``given + validity`` on (``expires_at``), unless a
later choice decides.  Notices (``NoticePublished``: the banner or form text)
are kept in ``proj_notices``; a choice citing one (``notice_id``) has a row in
``proj_consent_citations``, so the register shows the text the person saw.

:func:`consent_campaign` answers the campaign question: every choice made for
one purpose in a time range, with counts per choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, select

from ledger.domain.policy_book import PolicyBook
from ledger.domain.rules import consent_expiry
from ledger.domain.state import CHOICE_STATES
from ledger.trust.canonical import format_time, parse_time

from . import db
from .mechanism import Context, Entry, Projection
from .rows import bulk_insert

__all__ = ["ConsentProjection", "consent_campaign", "consent_state", "fold_consents"]

STATES = CHOICE_STATES  # one definition, the domain's (ledger.domain.state)
CHOICES = {"granted": "given", "refused": "refused", "withdrawn": "withdrawn"}


class ConsentProjection(Projection):
    name = "consent"
    version = 2
    tables = (db.consent_history, db.consent_citations, db.notices)
    insert_only = (db.consent_history, db.consent_citations)
    types = frozenset(STATES) | {"NoticePublished"}

    def apply(self, conn: Connection, entries: Sequence[Entry], ctx: Context) -> None:
        rows, citations, notices = [], [], []
        for e in entries:
            p = e["payload"]
            if e["type"] == "NoticePublished":  # the columns of db.notices, in order
                notices.append((ctx.ledger_id, p["notice_id"], e["seq"], p["kind"],
                                p["language"], p["digest"], p["text"], e["occurred_at"],
                                e["recorded_at"], e["hash"]))
                continue
            if p.get("notice_id") is not None:
                citations.append((ctx.ledger_id, e["seq"], p["notice_id"],
                                  p["notice_digest"]))
            version = p.get("policy_version")
            if version is None:  # a withdrawal: the policy in force when it occurred
                policy = ctx.policies.in_force(e["occurred_at"], e["seq"])
                version = policy.version if policy is not None else None
            # the columns of db.consent_history, in order
            rows.append((ctx.ledger_id, e["seq"], e["subject"], p["purpose"],
                         STATES[e["type"]], e["occurred_at"], e["recorded_at"], version,
                         p["method"], e["hash"]))
        bulk_insert(conn, db.consent_history, rows)
        bulk_insert(conn, db.consent_citations, citations)
        bulk_insert(conn, db.notices, notices)


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


def _with_citations(ledger_id: str) -> Any:
    t, c = db.consent_history, db.consent_citations
    return t.outerjoin(c, and_(c.c.ledger_id == ledger_id, c.c.seq == t.c.seq))


def history_rows(conn: Connection, ledger_id: str, subject: str) -> list[dict[str, Any]]:
    t, c = db.consent_history, db.consent_citations
    q = (select(t.c.seq, t.c.purpose, t.c.state, t.c.occurred_at, t.c.recorded_at,
                t.c.policy_version, t.c.method, t.c.hash, c.c.notice_id, c.c.notice_digest)
         .select_from(_with_citations(ledger_id))
         .where(t.c.ledger_id == ledger_id, t.c.subject == subject))
    rows = [dict(r._mapping) for r in conn.execute(q)]
    rows.sort(key=lambda r: r["seq"])
    return rows


def notice_rows(conn: Connection, ledger_id: str, ids: set[str]) -> dict[str, dict[str, Any]]:
    """notice_id → the notice (its text, digest, kind, language, seq, hash)."""
    if not ids:
        return {}
    n = db.notices
    q = (select(n.c.notice_id, n.c.kind, n.c.language, n.c.digest, n.c.occurred_at,
                n.c.seq, n.c.hash, n.c.text)
         .where(n.c.ledger_id == ledger_id, n.c.notice_id.in_(sorted(ids))))
    return {r.notice_id: dict(r._mapping) for r in conn.execute(q)}


def expires_at(row: dict[str, Any], policies: PolicyBook) -> str | None:
    """When a grant lapses (the cited policy's ``consent_validity``), else None."""
    if row["state"] != "granted":
        return None
    policy = policies.version(row["policy_version"])
    if policy is None:
        policy = policies.in_force(row["occurred_at"], row["seq"])
    lapse = consent_expiry(policy, row["purpose"], parse_time(row["occurred_at"]))
    return format_time(lapse) if lapse is not None else None


def status_at(row: dict[str, Any] | None, expiry: str | None, at: str) -> str:
    """The state a deciding row gives at ``at``: a grant past its expiry is ``expired``."""
    if row is None:
        return "none"
    if expiry is not None and at >= expiry:
        return "expired"
    return str(row["state"])


def consent_state(conn: Connection, ledger_id: str, subject: str, policies: PolicyBook, *,
                  as_of: str | None = None, known_at: str | None = None,
                  now: str) -> dict[str, Any]:
    """The JSON answer of ``ledger consent``: one item per purpose, with its history."""
    history = history_rows(conn, ledger_id, subject)
    for row in history:
        row["expires_at"] = expires_at(row, policies)
    best = fold_consents(history, as_of=as_of, known_at=known_at)
    at = as_of or now
    policy = policies.in_force(at)
    purposes: list[str] = []
    if policy is not None:
        purposes = [p.id for p in policy.purposes if p.consent_required]
    purposes += sorted({h["purpose"] for h in history} - set(purposes))
    items = []
    cited: set[str] = set()
    for purpose in purposes:
        h = best.get(purpose)
        shown = [x for x in history if x["purpose"] == purpose and
                 (as_of is None or x["occurred_at"] <= as_of) and
                 (known_at is None or x["recorded_at"] <= known_at)]
        cited |= {x["notice_id"] for x in shown if x["notice_id"] is not None}
        status = status_at(h, h["expires_at"] if h else None, at)
        items.append({
            "purpose": purpose,
            "status": status,
            "since": (h["expires_at"] if status == "expired" else h["occurred_at"])
            if h else None,
            "given_at": h["occurred_at"] if h and h["state"] == "granted" else None,
            "expires_at": h["expires_at"] if h else None,
            "notice_id": h["notice_id"] if h else None,
            "notice_digest": h["notice_digest"] if h else None,
            "recorded_at": h["recorded_at"] if h else None,
            "policy_version": h["policy_version"] if h else None,
            "method": h["method"] if h else None,
            "seq": h["seq"] if h else None,
            "hash": h["hash"] if h else None,
            "history": [{"state": x["state"], "occurred_at": x["occurred_at"],
                         "recorded_at": x["recorded_at"], "policy_version": x["policy_version"],
                         "method": x["method"], "expires_at": x["expires_at"],
                         "notice_id": x["notice_id"], "notice_digest": x["notice_digest"],
                         "seq": x["seq"], "hash": x["hash"]} for x in shown],
        })
    return {"subject": subject, "as_of": as_of, "known_at": known_at,
            "policy_version": policy.version if policy is not None else None,
            "purposes": items,
            "notices": notice_rows(conn, ledger_id, cited)}


def consent_campaign(conn: Connection, ledger_id: str, purpose: str, policies: PolicyBook, *,
                     start: str | None = None, end: str | None = None,
                     known_at: str | None = None) -> dict[str, Any]:
    """Every choice (given, refused, withdrawn) made for ``purpose`` whose ``occurred_at``
    lies in [start, end] (and recorded by ``known_at``), in time order, with counts.

    Rows carry the subject's pseudonym and the entry's ``seq`` and ``hash``, never a
    decrypted value (evidence stays sealed in the ledger)."""
    t, c = db.consent_history, db.consent_citations
    q = (select(t.c.seq, t.c.subject, t.c.purpose, t.c.state, t.c.occurred_at,
                t.c.recorded_at, t.c.policy_version, t.c.method, t.c.hash, c.c.notice_id,
                c.c.notice_digest)
         .select_from(_with_citations(ledger_id))
         .where(t.c.ledger_id == ledger_id, t.c.purpose == purpose))
    if start is not None:
        q = q.where(t.c.occurred_at >= start)
    if end is not None:
        q = q.where(t.c.occurred_at <= end)
    if known_at is not None:
        q = q.where(t.c.recorded_at <= known_at)
    counts = dict.fromkeys(CHOICES.values(), 0)
    rows, subjects = [], set()
    for r in conn.execute(q.order_by(t.c.occurred_at, t.c.seq)):
        row = dict(r._mapping)
        choice = CHOICES[row["state"]]
        counts[choice] += 1
        subjects.add(row["subject"])
        rows.append({"choice": choice, "subject": row["subject"],
                     "occurred_at": row["occurred_at"], "recorded_at": row["recorded_at"],
                     "method": row["method"], "policy_version": row["policy_version"],
                     "expires_at": expires_at(row, policies),
                     "notice_id": row["notice_id"], "notice_digest": row["notice_digest"],
                     "seq": row["seq"], "hash": row["hash"]})
    return {"purpose": purpose, "from": start, "to": end, "known_at": known_at,
            "counts": counts, "total": len(rows), "subjects": len(subjects),
            "choices": rows}
