"""Build (or reuse) one big ledger and run the read-side benchmarks on it.

The proofs and projections benchmarks need a ledger of 1,000,000 entries, which
takes minutes to build; this builds it once, at ``--path`` (an SQLite file,
kept between runs, with its key folder beside it) or in a PostgreSQL schema,
and passes it to each benchmark module that is present::

    scripts/bench --big                      # 1,000,000 entries in bench-data/big.db
    .venv/bin/python scripts/bench_big.py --entries 20000 --path /tmp/small.db

The workload is :func:`bench.workload`: per 100 events, 50 consents of new
subjects and 50 collections of 4 personal values for subjects seen earlier.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench

from ledger.app.application import Ledger
from ledger.domain.policy import bundled_policy

NAME = "bench"
MODULES = ("bench_proofs", "bench_projections", "bench_http_reads")


def build(url: str, key_dir: Path, entries: int) -> dict[str, Any]:
    """Grow the ledger at ``url`` to ``entries`` entries; report how long it took."""
    env = {"LEDGER_KEY_DIR": str(key_dir)}
    ledger, _ = Ledger.init(url, NAME, env=env)
    try:
        have, _ = ledger.head()
        if have == 0:
            ledger.publish_policy(bundled_policy(), actor="bench")
            have = 1
        started = time.perf_counter()
        added = max(0, entries - have)
        if added:
            run = uuid.uuid4().hex[:10]
            bench.grow(ledger, run, 0, entries, "big ledger")
        elapsed = time.perf_counter() - started
        head, _ = ledger.head()
    finally:
        ledger.close()
    return {"entries": head, "added": added, "build_seconds": round(elapsed, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/bench_big.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--path", default="bench-data/big.db", help="SQLite file (kept for reuse)")
    p.add_argument("--url", help="a database URL instead of --path (e.g. a PostgreSQL schema)")
    p.add_argument("--key-dir", help="key folder (default: beside the SQLite file)")
    p.add_argument("--only", action="append", choices=MODULES, help="run only this module")
    p.add_argument("--json-out", metavar="FILE")
    args = p.parse_args(argv)
    if args.url:
        url = args.url
        key_dir = Path(args.key_dir or "bench-data/pg.keys")
    else:
        Path(args.path).parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{args.path}"
        key_dir = Path(args.key_dir or args.path + ".keys")
    report: dict[str, Any] = {"machine": bench.machine(), "url": url.split("?")[0],
                              "ledger": build(url, key_dir, args.entries)}
    bench.log(f"ledger ready: {report['ledger']}")

    os.environ["LEDGER_KEY_DIR"] = str(key_dir)
    for name in args.only or MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            bench.log(f"{name}: not present, skipped")
            continue
        bench.log(f"running {name}…")
        report[name] = module.run(url, NAME)
    text = json.dumps(report, indent=2)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
