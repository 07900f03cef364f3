"""Space: bytes per entry, per table and per index, for the ledger and for bare eventsourcing.

Used by ``scripts/bench`` (``--space-entries N``, default 100,000).  For each
database it fills a fresh ledger and a fresh bare ``eventsourcing`` application
with the bench's workload (``bench.workload``: half consents of new subjects,
half collections of four personal values) to ``N`` entries, then reads what
each b-tree / relation takes:

* SQLite: the ``dbstat`` virtual table (compiled into this Python's sqlite3:
  checked at run time, the bench stops with a clear message otherwise), summed
  per b-tree (``pgsize``: whole pages, free space included), after the WAL is
  folded into the file;
* PostgreSQL: ``pg_table_size`` of each table (heap, TOAST, free-space and
  visibility maps) and ``pg_relation_size`` of each index.

It also reports the average stored width of each column of the event table
(SQLite ``length()``, PostgreSQL ``pg_column_size()``), so the bytes of a row
can be told apart: the canonical entry (``state``), its ``hash``, the
``event_id``, the ``stream``, the ledger id repeated in every row and index.

"The write side" is the event table with its indexes and the data-key table
with its index: what an append writes.  Speed is not measured here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg

WRITE_SIDE = ("ledger_events", "ledger_subject_keys")
EVENT_COLUMNS = ("originator_id", "originator_version", "topic", "state", "event_id", "hash",
                 "stream")


def has_dbstat() -> bool:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("SELECT count(*) FROM dbstat").fetchone()
    except sqlite3.Error:
        return False
    else:
        return True
    finally:
        conn.close()


def sqlite_btrees(path: Path) -> list[dict[str, Any]]:
    """Every b-tree of the file: name, table it belongs to, kind, bytes (whole pages)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = conn.execute(
            "SELECT s.name, COALESCE(m.tbl_name, s.name), COALESCE(m.type, 'table'), "
            "SUM(s.pgsize) FROM dbstat AS s LEFT JOIN sqlite_master AS m ON m.name = s.name "
            "GROUP BY s.name ORDER BY 2, 3 DESC, 1").fetchall()
    finally:
        conn.close()
    return [{"name": n, "table": t, "kind": k, "bytes": int(b)} for n, t, k, b in rows]


def sqlite_columns(path: Path, table: str, columns: tuple[str, ...]) -> dict[str, float]:
    conn = sqlite3.connect(path)
    try:
        avgs = conn.execute("SELECT " + ", ".join(
            f"AVG(LENGTH({c}))" for c in columns) + f" FROM {table}").fetchone()
    finally:
        conn.close()
    return {c: round(float(a or 0), 1) for c, a in zip(columns, avgs, strict=True)}


def pg_relations(pg_url: str, schema: str) -> list[dict[str, Any]]:
    """Every table and index of ``schema``: name, table, kind, bytes."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname, COALESCE(t.relname, c.relname), "
            "CASE c.relkind WHEN 'i' THEN 'index' ELSE 'table' END, "
            "CASE c.relkind WHEN 'i' THEN pg_relation_size(c.oid) "
            "ELSE pg_table_size(c.oid) END "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_index i ON i.indexrelid = c.oid "
            "LEFT JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'i') ORDER BY 2, 3 DESC, 1",
            (schema,)).fetchall()
    return [{"name": n, "table": t, "kind": k, "bytes": int(b)} for n, t, k, b in rows]


def pg_columns(pg_url: str, schema: str, table: str,
               columns: tuple[str, ...]) -> dict[str, float]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        row = conn.execute("SELECT " + ", ".join(
            f"AVG(pg_column_size({c}))" for c in columns)
            + f' FROM "{schema}".{table}').fetchone()
    if row is None:
        raise RuntimeError(f"no row from {table}")
    return {c: round(float(a or 0), 1) for c, a in zip(columns, row, strict=True)}


def per_entry(rels: list[dict[str, Any]], entries: int) -> list[dict[str, Any]]:
    return [{**r, "per_entry": r["bytes"] / entries} for r in rels]


def summary(ledger: list[dict[str, Any]], bare: list[dict[str, Any]]) -> dict[str, float]:
    write = sum(r["per_entry"] for r in ledger if r["table"] in WRITE_SIDE)
    whole = sum(r["per_entry"] for r in ledger)
    bare_whole = sum(r["per_entry"] for r in bare)
    return {"ledger_write_side": write, "ledger_all": whole, "bare_all": bare_whole,
            "ratio_write_side": write / bare_whole if bare_whole else 0.0}


def lines(db: str, space: dict[str, Any]) -> list[str]:
    """The per-table and per-index lines of the bench's table."""
    n = space["entries"]
    out = [f"{db:<10} space at {n:,} entries: bytes per entry (whole pages)"]
    for side in ("ledger", "bare"):
        for r in space[side]:
            if r["bytes"] == 0 and r["kind"] == "index":
                continue
            what = f"{side} {r['kind']} {r['name']}"
            if r["kind"] == "index":
                what += f" (on {r['table']})"
            out.append(f"{'':<10}   {what:<62} {r['per_entry']:>8,.1f}")
    s = space["summary"]
    out.append(f"{'':<10}   {'ledger write side (events + keys, with indexes)':<62} "
               f"{s['ledger_write_side']:>8,.1f}")
    out.append(f"{'':<10}   {'ledger, every table':<62} {s['ledger_all']:>8,.1f}")
    out.append(f"{'':<10}   {'bare eventsourcing, every table':<62} {s['bare_all']:>8,.1f}")
    out.append(f"{'':<10}   {'write side / bare':<62} {s['ratio_write_side']:>8.2f}x")
    cols = ", ".join(f"{k} {v:g}" for k, v in space["event_columns"].items())
    out.append(f"{'':<10}   average stored bytes per event column: {cols}")
    return out
