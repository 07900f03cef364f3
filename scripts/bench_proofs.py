"""Speed of the proofs (issue 4): ``ledger prove``, checkpoints, audit-bundle verification.

``run(url, name)`` measures an already-filled ledger (the integrator calls it from
scripts/bench at 1,000,000 entries); ``main()`` runs it standalone::

    .venv/bin/python scripts/bench_proofs.py --entries 20000              # SQLite, temp file
    .venv/bin/python scripts/bench_proofs.py --entries 20000 --db postgresql://…?schema=bp

Measured (wall clock, ``time.perf_counter``):

* the first catch-up of the saved subtree hashes (once per ledger, then incremental);
* ``Prover.inclusion`` for random seqs (in process), and ``ledger prove SEQ --json``
  as a command (process start-up included); consistency proofs for random pairs;
* ``ledger checkpoint`` in process (catch-up + tree head + Ed25519 + insert), and how
  many rows a tree head reads (O(log n));
* writing an audit bundle (the last ``bundle_entries``) and verifying it offline, in
  entries per second (with the worker processes ``ledger verify --bundle`` would use).

Targets (issue 4): prove < 50 ms at 1M entries, checkpoint O(log n), bundle
verification ≥ 100,000 entries/s.  Nothing here is asserted by the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger.app.application import Ledger
from ledger.app.bundle import write_bundle
from ledger.app.bundle_verify import verify_bundle
from ledger.app.checking import open_checked_store
from ledger.app.proofs import Prover
from ledger.domain.policy import bundled_policy
from ledger.storage.tree_store import TreeReader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from bench import grow  # noqa: E402 - the realistic workload of scripts/bench.py


def _ms(samples: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(samples) * 1000, 3),
            "max_ms": round(max(samples) * 1000, 3), "runs": len(samples)}


def _timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run(url: str, name: str, *, env: Mapping[str, str] | None = None, rounds: int = 50,
        cli_rounds: int = 5, bundle: bool = True, bundle_entries: int = 200_000,
        bundle_rounds: int = 5,
        seed: int = 7) -> dict[str, Any]:
    """Measure the proofs on the ledger ``name`` at ``url`` (keys from ``env``).

    The bundle holds the last ``bundle_entries`` entries (a ``--from-seq`` bundle when the
    ledger is larger: about 0.9 KB of disk per entry in a temporary folder)."""
    env = dict(os.environ if env is None else env)
    rnd = random.Random(seed)
    store, _ = open_checked_store(url, name)
    try:
        p = Prover(store, url, name, env)
        first_catch_up, head = _timed(p.catch_up)
        again, _ = _timed(p.catch_up)
        seqs = [rnd.randint(1, head) for _ in range(rounds)]
        inclusion = [_timed(lambda s=s: p.inclusion(s))[0] for s in seqs]
        pairs = [sorted((rnd.randint(1, head), rnd.randint(1, head))) for _ in range(rounds)]
        consistency = [_timed(lambda a=a, b=b: p.consistency(a, b))[0] for a, b in pairs]
        checkpoint = [_timed(p.checkpoint)[0] for _ in range(3)]
        reads = store.read(lambda tx: _head_reads(tx, head))
        cli_env = {**env, "LEDGER_DATABASE_URL": url, "LEDGER_NAME": name}
        cli = []
        for s in seqs[:cli_rounds]:
            t, done = _timed(lambda s=s: subprocess.run(
                [sys.executable, "-m", "ledger.cli", "prove", str(s), "--json"], env=cli_env,
                capture_output=True, text=True, check=False))
            if done.returncode != 0:
                raise SystemExit(f"ledger prove failed: {done.stderr}")
            cli.append(t)
        out: dict[str, Any] = {
            "entries": head,
            "first_catch_up_s": round(first_catch_up, 3),
            "catch_up_again_ms": round(again * 1000, 3),
            "prove_in_process": _ms(inclusion),
            "consistency_in_process": _ms(consistency),
            "prove_cli": _ms(cli),
            "checkpoint": _ms(checkpoint),
            "tree_head_rows_read": reads,
        }
        if bundle:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / "bundle"
                start = max(1, head - bundle_entries + 1)
                t_write, _ = _timed(lambda: write_bundle(p, folder, start))
                rates = []
                for _ in range(bundle_rounds):  # the machine is noisy: the median of rounds
                    t_verify, report = _timed(lambda: verify_bundle(
                        folder, str(p.verifier_key()), spawn=True))
                    if not report.ok:
                        raise SystemExit(f"bundle verification failed: {report.reason}")
                    rates.append(round(report.entries / t_verify))
                out["bundle_entries"] = report.entries
                out["bundle_write_per_s"] = round(report.entries / t_write)
                out["bundle_verify_per_s"] = round(statistics.median(rates))
                out["bundle_verify_rounds_per_s"] = rates
        out["targets"] = {
            "prove_under_50ms_in_process": out["prove_in_process"]["median_ms"] < 50,
            "prove_command_under_50ms": out["prove_cli"]["median_ms"] < 50,
            "bundle_verify_100k_per_s": out.get("bundle_verify_per_s", 0) >= 100_000,
        }
        return out
    finally:
        store.close()


def _head_reads(tx: Any, size: int) -> int:
    r = TreeReader(tx)
    r.subtree(0, size)
    return r.reads


def build(url: str, name: str, entries: int, key_dir: Path) -> None:
    """A ledger of ``entries`` entries with the benchmark's workload (scripts/bench.py)."""
    ledger, _ = Ledger.init(url, name, env={"LEDGER_KEY_DIR": str(key_dir)})
    try:
        if ledger.head()[0] == 0:
            ledger.publish_policy(bundled_policy(), actor="bench")
        grow(ledger, "proofs", 0, entries, "bench_proofs")
    finally:
        ledger.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=20_000, help="build a ledger this big "
                    "first (0: measure the ledger at --db as it is)")
    ap.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    ap.add_argument("--ledger", default="bench", help="ledger name (default bench)")
    ap.add_argument("--key-dir", help="key folder (default: beside the temporary database)")
    ap.add_argument("--rounds", type=int, default=50)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/proofs.db"
        key_dir = Path(args.key_dir or Path(tmp) / "keys")
        if args.entries:
            build(url, args.ledger, args.entries, key_dir)
        report = run(url, args.ledger, env={**os.environ, "LEDGER_KEY_DIR": str(key_dir)},
                     rounds=args.rounds)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
