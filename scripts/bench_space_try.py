"""Space of storage settings the schema does not set yet (issue 15): measured, not adopted.

    .venv/bin/python scripts/bench_space_try.py --entries 20000

Fills a ledger with ``scripts/bench.py``'s workload, once with the current
settings and once per variant, and prints the write side's bytes per entry
(``scripts/bench_space.py``), the 100-per-call append rate while filling and
the in-process verify rate (the read cost of a variant):

* ``sqlite page_size=8192``: the file is created with 8 KiB pages (SQLite's
  default is 4 KiB; an entry row is about 1,000 bytes, so a 4 KiB page holds 3
  and leaves the rest empty).  Would be set by the SQLite recorder before the
  first table is created (``PRAGMA page_size``; it cannot change once the file
  is in WAL mode).
* ``postgres state compressed``: ``ALTER TABLE ledger_events ALTER COLUMN state
  SET STORAGE MAIN`` and ``SET (toast_tuple_target = 128)``: PostgreSQL
  compresses the canonical entry inline (pglz; MAIN keeps it in the row, out of
  line only if a row would not fit a page).  The bytes stored and hashed are
  unchanged: compression is below the SQL value.  Measured: no effect at all —
  PostgreSQL only compresses rows longer than about 2 KB (``TOAST_TUPLE_THRESHOLD``;
  ``toast_tuple_target`` cannot lower that), and an entry row is about 1.1 KB.
  Kept here as the measured negative result.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import bench
import bench_space
import psycopg

from ledger.app.application import Ledger
from ledger.domain.policy import bundled_policy


def fill(url: str, keys: Path, entries: int, prepare: Any = None) -> dict[str, float]:
    ledger, _ = Ledger.init(url, "bench", env={"LEDGER_KEY_DIR": str(keys)})
    try:
        if prepare is not None:
            prepare()
        ledger.publish_policy(bundled_policy(), actor="bench")
        t0 = time.perf_counter()
        bench.grow(ledger, uuid.uuid4().hex[:6], 0, entries, "fill")
        append = (entries - 1) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = ledger.verify(workers=1)
        verify = result.entries / (time.perf_counter() - t0)
    finally:
        ledger.close()
    return {"append_100_per_s": append, "verify_per_s": verify}


def write_side(rels: list[dict[str, Any]], entries: int) -> tuple[float, dict[str, float]]:
    per = {r["name"]: r["bytes"] / entries for r in rels if r["table"] in bench_space.WRITE_SIDE}
    return sum(per.values()), per


def sqlite_case(tmp: Path, entries: int, page_size: int | None) -> dict[str, Any]:
    path = tmp / f"try-{page_size or 'default'}.db"
    if page_size:
        conn = sqlite3.connect(path)
        conn.execute(f"PRAGMA page_size={page_size}")
        conn.execute("CREATE TABLE bench_first_write (x)")   # fixes the page size
        conn.execute("DROP TABLE bench_first_write")
        conn.close()
    speed = fill(f"sqlite:///{path}", tmp / "keys", entries)
    total, per = write_side(bench_space.sqlite_btrees(path), entries)
    return {"variant": f"sqlite page_size={page_size or 'default (4096)'}",
            "write_side": total, "btrees": per, **speed}


def pg_case(pg_url: str, tmp: Path, entries: int, compress: bool) -> dict[str, Any]:
    schema = f"bench_try_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        def prepare() -> None:
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute(f'ALTER TABLE "{schema}".ledger_events ALTER COLUMN state '
                             "SET STORAGE MAIN")
                conn.execute(f'ALTER TABLE "{schema}".ledger_events '
                             "SET (toast_tuple_target = 128)")

        speed = fill(f"{pg_url}?schema={schema}", tmp / "keys", entries,
                     prepare if compress else None)
        total, per = write_side(bench_space.pg_relations(pg_url, schema), entries)
        cols = bench_space.pg_columns(pg_url, schema, "ledger_events", ("state",))
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return {"variant": "postgres state " + ("compressed (MAIN, toast_tuple_target=128)"
                                             if compress else "as now"),
            "write_side": total, "btrees": per, "state_column": cols["state"], **speed}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--entries", type=int, default=20_000)
    p.add_argument("--pg-url", default=bench.DEFAULT_PG_URL)
    p.add_argument("--only", choices=("sqlite", "postgres"))
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ledger-space-try-"))
    rows = []
    if args.only != "postgres":
        rows += [sqlite_case(tmp, args.entries, None), sqlite_case(tmp, args.entries, 8192)]
    if args.only != "sqlite":
        rows += [pg_case(args.pg_url, tmp, args.entries, False),
                 pg_case(args.pg_url, tmp, args.entries, True)]
    print(f"{'variant':<58} {'write side B/entry':>18} {'append/s':>9} {'verify/s':>9}")
    for r in rows:
        print(f"{r['variant']:<58} {r['write_side']:>18,.1f} {r['append_100_per_s']:>9,.0f} "
              f"{r['verify_per_s']:>9,.0f}")
        print("    " + ", ".join(f"{k} {v:,.1f}" for k, v in r["btrees"].items())
              + (f"; state column {r['state_column']:g} B" if "state_column" in r else ""))
    print(f"({args.entries:,} entries; {' '.join(sys.argv)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
