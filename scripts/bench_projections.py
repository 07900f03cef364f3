"""Projection benchmark: rebuild speed, and one subject's consent and export latency.

    .venv/bin/python scripts/bench_projections.py --entries 20000            # SQLite
    .venv/bin/python scripts/bench_projections.py --entries 20000 --pg-url postgresql://…
    .venv/bin/python scripts/bench_projections.py --entries 1000000 --json-out out.json
    .venv/bin/python scripts/bench_projections.py --entries 5000 --profile   # cProfile

``main`` builds a ledger of ``--entries`` entries with the workload of
``scripts/bench.py`` (ConsentGiven then DataCollected per subject, personal
values sealed, 100 events per append), then calls :func:`run`.

:func:`run` (``url``, ``name``) works on any already-filled ledger (the master
key from ``LEDGER_KEY_DIR`` / ``LEDGER_MASTER_KEY``) and measures:

* ``rebuild``: all projections dropped and rebuilt from entry 1, events/s
  (median of ``rebuild_rounds``; the first round also warms the page cache);
* ``consent`` and ``export`` of one subject (taken from the middle of the
  ledger): in-process with a warm :class:`projections.queries.Reader`
  (median of rounds), in-process cold (open + query), and the ``ledger``
  command (wall clock, process start-up included).

Targets (issue 3): rebuild ≥ 30,000 events/s on SQLite; consent and export of
one subject < 100 ms at 1,000,000 events.  Speed is measured here only.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg
from bench import grow, log, open_ledger
from sqlalchemy import select

from projections import db
from projections.mechanism import Projector
from projections.queries import Reader
from projections.registry import all_projections

TARGET_REBUILD = 30_000
TARGET_MS = 100.0
LEDGER_CMD = str(Path(sys.executable).with_name("ledger"))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _median_ms(fn: Any, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return _ms(statistics.median(times))


def _middle_subject(p: Projector) -> str:
    t = db.consent_history
    with p.sql_engine().connect() as conn:
        n = conn.execute(select(t.c.seq).where(t.c.ledger_id == p.ledger_id)
                         .order_by(t.c.seq.desc()).limit(1)).scalar() or 0
        row = conn.execute(select(t.c.subject).where(t.c.ledger_id == p.ledger_id,
                                                     t.c.seq >= n // 2)
                           .order_by(t.c.seq).limit(1)).scalar()
    if row is None:
        raise SystemExit("bench_projections: the ledger holds no consent to look up")
    return f"pseudonym:{row}"


def _cli_ms(url: str, name: str, args: list[str], rounds: int) -> float:
    env = dict(os.environ, LEDGER_DATABASE_URL=url, LEDGER_NAME=name)

    def once() -> None:
        done = subprocess.run([LEDGER_CMD, *args], env=env, capture_output=True,
                              check=False, timeout=600)
        if done.returncode != 0:
            raise SystemExit(f"ledger {' '.join(args)} failed: {done.stderr[-500:]!r}")

    return _median_ms(once, rounds)


def run(url: str, name: str, *, rounds: int = 5, cli_rounds: int = 3,
        rebuild_rounds: int = 3) -> dict[str, Any]:
    """Measure a filled ledger; return a JSON-ready dict."""
    with Projector(url, name, all_projections()) as p:
        head = p.head()
        took = []
        for _ in range(rebuild_rounds):
            t0 = time.perf_counter()
            p.rebuild()
            took.append(time.perf_counter() - t0)
        subject = _middle_subject(p)
    median = statistics.median(took)
    out: dict[str, Any] = {
        "url": url.rsplit("@", 1)[-1], "ledger": name, "entries": head,
        "rebuild": {"seconds": round(median, 3),
                    "events_per_s": round(head / median) if median else None,
                    "rounds_events_per_s": [round(head / x) if x else None for x in took]},
        "subject": subject[:22] + "…",
    }
    with Reader(url, name, with_key=True) as r:
        r.consent(subject)  # warm: caught up, caches filled
        r.export(subject)
        out["consent_ms"] = _median_ms(lambda: r.consent(subject), rounds)
        out["export_ms"] = _median_ms(lambda: r.export(subject), rounds)
        out["export_entries"] = len(r.export(subject)["events"])

    def cold(fn: str) -> None:
        with Reader(url, name, with_key=True) as r:
            getattr(r, fn)(subject)

    out["consent_cold_ms"] = _median_ms(lambda: cold("consent"), rounds)
    out["export_cold_ms"] = _median_ms(lambda: cold("export"), rounds)
    out["cli_consent_ms"] = _cli_ms(url, name, ["consent", subject, "--json"], cli_rounds)
    out["cli_export_ms"] = _cli_ms(url, name, ["export", subject], cli_rounds)
    out["cli_startup_ms"] = _cli_ms(url, name, ["--version"], cli_rounds)
    return out


def verdicts(r: dict[str, Any], sqlite: bool) -> list[str]:
    lines = []
    if sqlite:
        ok = (r["rebuild"]["events_per_s"] or 0) >= TARGET_REBUILD
        lines.append(f"rebuild {r['rebuild']['events_per_s']:,} events/s, median of "
                     f"{r['rebuild']['rounds_events_per_s']} "
                     f"(target ≥ {TARGET_REBUILD:,} on SQLite): {'met' if ok else 'NOT met'}")
    for what in ("consent", "export"):
        ms = r[f"{what}_ms"]
        lines.append(f"{what} in-process {ms} ms (target < {TARGET_MS:.0f} ms at 1M): "
                     f"{'met' if ms < TARGET_MS else 'NOT met'} at {r['entries']:,} entries; "
                     f"cold {r[f'{what}_cold_ms']} ms; CLI {r[f'cli_{what}_ms']} ms "
                     f"(of which interpreter start-up ≈ {r['cli_startup_ms']} ms)")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=20_000)
    ap.add_argument("--pg-url", help="run on PostgreSQL (a schema of its own, dropped after)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="cProfile the rebuild")
    ap.add_argument("--json-out", metavar="PATH")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench_proj_"))
    keys = tmp / "keys"
    os.environ["LEDGER_KEY_DIR"] = str(keys)
    schema = None
    if args.pg_url:
        schema = f"bench_proj_{uuid.uuid4().hex[:8]}"
        url = f"{args.pg_url.split('?')[0]}?schema={schema}"
    else:
        url = f"sqlite:///{tmp}/ledger.db"
    try:
        ledger = open_ledger(url, keys)
        run_id = uuid.uuid4().hex[:6]
        log(f"building a ledger of {args.entries:,} entries at {url.rsplit('@', 1)[-1]}")
        grow(ledger, run_id, 0, args.entries, "ledger")
        name = ledger.name
        ledger.close()
        if args.profile:
            with Projector(url, name, all_projections()) as p:
                prof = cProfile.Profile()
                prof.enable()
                p.rebuild()
                prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(25)
            print(buf.getvalue())
        result = run(url, name, rounds=args.rounds, rebuild_rounds=args.rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if schema is not None:
            with psycopg.connect(args.pg_url.split("?")[0], autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    result["database"] = "postgres" if schema else "sqlite"
    for line in verdicts(result, schema is None):
        print(line)
    print(json.dumps(result, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
