"""The folded state of each stream, kept next to the chain (docs/DECISIONS.md, "stream state").

Three tables, written in the append's own transaction (so they are never ahead of or
behind the chain once an append commits):

    ledger_stream_state     (ledger_id, stream) -> seq of the last event folded, state
                            (compact JSON: ids, categories, purposes, times, seqs; no
                            personal value): one row per subject or breach stream
    ledger_consent_choices  every consent choice (ledger_id, stream, purpose, occurred_at,
                            seq, state, policy_version); its primary key answers "the
                            latest choice that occurred by T" with one index seek
                            (occurred_at is the chain's fixed-width UTC text, so text
                            order is time order)
    ledger_stream_state_built  (ledger_id) -> the head seq the state is built up to;
                            an append that finds it behind the head (a ledger written by
                            a version without these tables) builds the state first

Every statement is written with ``?`` placeholders (:meth:`AppendTx._sql`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["ChoiceRow", "StateRow", "stream_state_sql"]

StateRow = tuple[str, int, str]                       # stream, seq, state JSON
ChoiceRow = tuple[str, str, str, int, str, str | None]  # stream, purpose, at, seq, state, ver



class _Tables(Protocol):
    @property
    def events(self) -> str: ...
    def q(self, name: str) -> str: ...


class AppendTx(Protocol):
    """What these statements need of :class:`ledger.storage.common.AppendTx` (which calls
    them; a protocol, so that this module does not import it back)."""

    @property
    def c(self) -> Any: ...
    @property
    def t(self) -> _Tables: ...
    @property
    def lid(self) -> Any: ...
    @property
    def lkey(self) -> str: ...
    @property
    def p(self) -> str: ...

    def _sql(self, text: str) -> str: ...
    def insert_rows(self, head: str, rows: Sequence[Sequence[Any]], tail: str = "") -> None: ...
    def long(self, sql: str, params: Sequence[Any], *, fetch: bool = True) -> list[Any]: ...
    def by_keys(self, cols: str, table: str, where: str, params: Sequence[Any], *,
                column: str, keys: Sequence[str]) -> list[Any]: ...
    def _in(self, n: int) -> str: ...


STATE = "ledger_stream_state"
CHOICES = "ledger_consent_choices"
BUILT = "ledger_stream_state_built"


def stream_state_sql(t: _Tables) -> list[str]:
    """The tables (created with the key tables, and by the first append of an old ledger)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {t.q(STATE)} (ledger_id TEXT NOT NULL, stream TEXT NOT "
        "NULL, seq BIGINT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (ledger_id, stream))",
        f"CREATE TABLE IF NOT EXISTS {t.q(CHOICES)} (ledger_id TEXT NOT NULL, stream TEXT "
        "NOT NULL, purpose TEXT NOT NULL, occurred_at TEXT NOT NULL, seq BIGINT NOT NULL, "
        "state TEXT NOT NULL, policy_version TEXT, "
        "PRIMARY KEY (ledger_id, stream, purpose, occurred_at, seq))",
        f"CREATE TABLE IF NOT EXISTS {t.q(BUILT)} (ledger_id TEXT PRIMARY KEY, "
        "seq BIGINT NOT NULL)",
    ]


# The advisory lock `ledger init` creates the schema under (storage/postgres.py): two
# processes making the first appends of an older ledger serialise their CREATE TABLEs
# (else PostgreSQL refuses the second with a duplicate pg_type row).
INIT_LOCK = 7355608


def create(tx: AppendTx) -> None:
    if tx.p != "?":
        tx.c.execute("SELECT pg_advisory_xact_lock(%s)", (INIT_LOCK,))
    for statement in stream_state_sql(tx.t):
        tx.c.execute(statement)


def built_seq(tx: AppendTx) -> int | None:
    tx.c.execute(tx._sql(f"SELECT seq FROM {tx.t.q(BUILT)} WHERE ledger_id=?"), (tx.lkey,))
    row = tx.c.fetchone()
    return None if row is None else int(row["seq"])


def set_built(tx: AppendTx, seq: int) -> None:
    tx.c.execute(tx._sql(
        f"INSERT INTO {tx.t.q(BUILT)} (ledger_id, seq) VALUES (?,?) "
        "ON CONFLICT (ledger_id) DO UPDATE SET seq=excluded.seq"), (tx.lkey, seq))


def read_states(tx: AppendTx, streams: Sequence[str]) -> dict[str, tuple[int, str]]:
    out: dict[str, tuple[int, str]] = {}
    names = list(dict.fromkeys(streams))
    for i in range(0, len(names), 500):
        chunk = names[i:i + 500]
        for r in tx.by_keys("stream, seq, state", tx.t.q(STATE), "ledger_id=?", (tx.lkey,),
                            column="stream", keys=chunk):
            out[r["stream"]] = (int(r["seq"]), str(r["state"]))
    return out


def write_states(tx: AppendTx, rows: Sequence[StateRow]) -> None:
    # one row per stream (a statement may not update one row twice on PostgreSQL)
    tx.insert_rows(f"INSERT INTO {tx.t.q(STATE)} (ledger_id, stream, seq, state)",
                   [(tx.lkey, *r) for r in rows],
                   " ON CONFLICT (ledger_id, stream) DO UPDATE SET seq=excluded.seq, "
                   "state=excluded.state")


def add_choices(tx: AppendTx, rows: Sequence[ChoiceRow]) -> None:
    tx.insert_rows(f"INSERT INTO {tx.t.q(CHOICES)} (ledger_id, stream, purpose, "
                   "occurred_at, seq, state, policy_version)", [(tx.lkey, *r) for r in rows])


def latest_choice(tx: AppendTx, stream: str, purpose: str,
                  at: str) -> tuple[str, int, str, str | None] | None:
    """The choice with the greatest (occurred_at, seq) with occurred_at <= ``at``."""
    tx.c.execute(tx._sql(
        f"SELECT occurred_at, seq, state, policy_version FROM {tx.t.q(CHOICES)} "
        "WHERE ledger_id=? AND stream=? AND purpose=? AND occurred_at<=? "
        "ORDER BY occurred_at DESC, seq DESC LIMIT 1"), (tx.lkey, stream, purpose, at))
    r = tx.c.fetchone()
    if r is None:
        return None
    return str(r["occurred_at"]), int(r["seq"]), str(r["state"]), r["policy_version"]


def latest_choices(tx: AppendTx, pairs: Sequence[tuple[str, str]]) \
        -> dict[tuple[str, str], tuple[str, int, str, str | None]]:
    """The LATEST stored choice of each ``(stream, purpose)`` pair, whatever its time (a
    pair without one is absent): one statement, one index seek per pair.  An append
    answers :func:`latest_choice` from it when that choice occurred by the time asked
    (the usual case), and asks :func:`latest_choice` otherwise."""
    out: dict[tuple[str, str], tuple[str, int, str, str | None]] = {}
    pairs = list(dict.fromkeys(pairs))
    cols = "c.stream, c.purpose, c.occurred_at, c.seq, c.state, c.policy_version"
    seek = (f"FROM {tx.t.q(CHOICES)} c2 WHERE c2.ledger_id=? AND c2.stream=p.stream AND "
            "c2.purpose=p.purpose ORDER BY c2.occurred_at DESC, c2.seq DESC LIMIT 1")
    for i in range(0, len(pairs), 500):
        chunk = pairs[i:i + 500]
        if tx.p == "?":  # SQLite: the pairs as a VALUES list, each choice by its rowid
            values = ",".join(["(?,?)"] * len(chunk))
            rows = tx.long(
                f"WITH p(stream, purpose) AS (VALUES {values}) SELECT {cols} FROM p JOIN "
                f"{tx.t.q(CHOICES)} c ON c.rowid = (SELECT c2.rowid {seek})",
                [*(v for pair in chunk for v in pair), tx.lkey])
        else:  # PostgreSQL: the pairs as two arrays, a LATERAL seek per pair
            rows = tx.long(
                f"SELECT {cols} FROM unnest(?::text[], ?::text[]) AS p(stream, purpose) "
                f"CROSS JOIN LATERAL (SELECT c2.* {seek}) c",
                [[s for s, _ in chunk], [p for _, p in chunk], tx.lkey])
        for r in rows:
            out[(str(r["stream"]), str(r["purpose"]))] = (
                str(r["occurred_at"]), int(r["seq"]), str(r["state"]), r["policy_version"])
    return out


def collection_category(tx: AppendTx, stream: str, event_id: str) -> str | None:
    """The category of the DataCollected ``event_id`` of ``stream`` (event_id is unique)."""
    tx.c.execute(tx._sql(
        f"SELECT topic, stream, state FROM {tx.t.events} WHERE originator_id=? AND "
        "event_id=?"), (tx.lid, event_id))
    r = tx.c.fetchone()
    if r is None or r["stream"] != stream or r["topic"] != "DataCollected":
        return None
    return str(json.loads(bytes(r["state"]))["payload"]["category"])


def clear(tx: AppendTx) -> None:
    for table in (STATE, CHOICES, BUILT):
        tx.c.execute(tx._sql(f"DELETE FROM {tx.t.q(table)} WHERE ledger_id=?"), (tx.lkey,))


def all_states(tx: AppendTx) -> list[StateRow]:
    tx.c.execute(tx._sql(f"SELECT stream, seq, state FROM {tx.t.q(STATE)} WHERE "
                         "ledger_id=? ORDER BY stream"), (tx.lkey,))
    return [(str(r["stream"]), int(r["seq"]), str(r["state"])) for r in tx.c.fetchall()]


def all_choices(tx: AppendTx) -> list[ChoiceRow]:
    tx.c.execute(tx._sql(
        f"SELECT stream, purpose, occurred_at, seq, state, policy_version FROM "
        f"{tx.t.q(CHOICES)} WHERE ledger_id=? ORDER BY seq"), (tx.lkey,))
    return [(str(r["stream"]), str(r["purpose"]), str(r["occurred_at"]), int(r["seq"]),
             str(r["state"]), r["policy_version"]) for r in tx.c.fetchall()]
