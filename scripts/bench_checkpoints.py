"""What automatic checkpoints cost the appends (issue 16): ``scripts/bench --checkpoints``.

On each database, four fresh ledgers take the same workload (scripts/bench.py's
``workload``, calls of 100 events) with:

* ``off``      ``LEDGER_CHECKPOINT_EVERY=0`` (what an older ledger keeps);
* ``default``  the defaults of a new ledger: every 1,000 entries or 60 seconds;
* ``default_serve`` the defaults with ``ledger serve``'s thread running (it signs; the
  append only wakes it);
* ``every100`` ``LEDGER_CHECKPOINT_EVERY=100``: a checkpoint after every call.

Also the default's calls of 100 events that crossed a multiple of 1,000 (and so signed)
against its other calls, in milliseconds.  Reported: events per second (median of
``--rounds`` runs; in a run each call is timed alone and the modes take turns call by
call, so a change of load hits all alike), the ratio to ``off`` (per run, then the
median), and the checkpoints signed.  Then the cost of one checkpoint with
no witness and with one witness on loopback (``ledger witness serve``: the push, its
consistency proof and the cosignature stored), median of 20.  Nothing is asserted.

    .venv/bin/python scripts/bench_checkpoints.py --entries 20000 [--only sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from ledger.app.application import Ledger
from ledger.app.auto_checkpoints import start_timer
from ledger.app.proofs import prover_of
from ledger.app.witnessing import Witnessing
from ledger.domain.policy import bundled_policy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from bench import BATCH, DEFAULT_PG_URL, log, workload  # noqa: E402 - the bench's workload

MODES = {"off": {"LEDGER_CHECKPOINT_EVERY": "0"}, "default": {},
         "default_serve": {}, "every100": {"LEDGER_CHECKPOINT_EVERY": "100"}}
SERVE = {"default_serve"}  # with `ledger serve`'s thread: it signs, the append wakes it


def _url(kind: str, tmp: Path, pg_url: str, tag: str) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tmp}/{tag}.db", None
    schema = f"bc_{tag}_{uuid.uuid4().hex[:8]}"
    return f"{pg_url}?schema={schema}", schema


def _drop(pg_url: str, schema: str | None) -> None:
    if schema:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _append_rates(kind: str, entries: int, tmp: Path, pg_url: str) -> dict[str, Any]:
    """One fresh ledger per mode; the calls are timed one by one, the modes taking turns
    (in a rotating order) at each call, so that a change of the machine's load falls on
    every mode alike.  Events per second per mode, and the checkpoints each signed."""
    ledgers: dict[str, tuple[Ledger, str | None]] = {}
    stops: list[Any] = []
    try:
        for mode, extra in MODES.items():
            tag = f"{mode}{uuid.uuid4().hex[:6]}"
            url, schema = _url(kind, tmp, pg_url, tag)
            led, _ = Ledger.init(url, env={"LEDGER_KEY_DIR": str(tmp / f"keys-{tag}"),
                                           **extra})
            led.publish_policy(bundled_policy(), actor="bench")
            ledgers[mode] = (led, schema)
            if mode in SERVE:
                stops.append(start_timer(led))
        spent = dict.fromkeys(MODES, 0.0)
        crossing: list[float] = []   # the default's calls that crossed a multiple of 1,000
        other: list[float] = []
        order = list(MODES)
        for i in range(0, entries, BATCH):
            calls = {m: workload(m, BATCH, start=i) for m in MODES}
            order = order[1:] + order[:1]
            for mode in order:
                t = time.perf_counter()
                ledgers[mode][0].append(calls[mode])
                took = time.perf_counter() - t
                spent[mode] += took
                if mode == "default":  # entries 2+i..1+i+BATCH (entry 1: the policy)
                    (crossing if (i + 1 + BATCH) // 1000 != (i + 1) // 1000 else other
                     ).append(took)
        for stop in stops:
            stop()
        out: dict[str, Any] = {m: (entries / spent[m], len(prover_of(ledgers[m][0])
                                                          .checkpoints())) for m in MODES}
        out["calls_ms"] = (1000 * statistics.median(crossing or [0.0]),
                           1000 * statistics.median(other or [0.0]))
        return out
    finally:
        for stop in stops:
            stop()
        for led, schema in ledgers.values():
            led.close()
            _drop(pg_url, schema)


def _checkpoint_cost(kind: str, tmp: Path, pg_url: str, rounds: int) -> dict[str, float]:
    url, schema = _url(kind, tmp, pg_url, "cp")
    env = {"LEDGER_KEY_DIR": str(tmp / "keys-cp"), "LEDGER_CHECKPOINT_EVERY": "0"}
    led, _ = Ledger.init(url, env=env)
    wdir = tmp / f"witness-{kind}"
    server = None
    try:
        led.publish_policy(bundled_policy(), actor="bench")
        p = prover_of(led)
        out: dict[str, float] = {}
        for label in ("no_witness", "one_witness"):
            if label == "one_witness":
                server, key = _witness(wdir, str(p.verifier_key()))
                Witnessing(p).attach(key, server[1])
            samples = []
            for i in range(rounds):
                led.append(workload(f"cp{label}", BATCH, start=i * BATCH))
                t = time.perf_counter()
                cp = p.checkpoint()
                samples.append(time.perf_counter() - t)
                if label == "one_witness" and not all(r["ok"] for r in cp["witnesses"]):
                    raise SystemExit(f"the witness refused: {cp['witnesses']}")
            out[f"checkpoint_{label}_median_ms"] = round(statistics.median(samples) * 1000, 2)
        return out
    finally:
        if server is not None:
            server[0].terminate()
            server[0].wait(10)
            if server[0].stdout is not None:
                server[0].stdout.close()
        led.close()
        _drop(pg_url, schema)


def _witness(folder: Path, log_key: str) -> tuple[tuple[subprocess.Popen[str], str], str]:
    ledger_cmd = [sys.executable, "-m", "ledger.cli", "witness"]
    key = subprocess.run([*ledger_cmd, "init", "--dir", str(folder), "--name",
                          "witness.example/bench"], capture_output=True, text=True,
                         check=True).stdout.strip()
    subprocess.run([*ledger_cmd, "add-log", "--dir", str(folder), log_key], check=True,
                   capture_output=True)
    proc = subprocess.Popen([*ledger_cmd, "serve", "--dir", str(folder), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if proc.stdout is None:
        raise SystemExit("the witness did not start")
    url = proc.stdout.readline().split("listening on ")[1].split(" ")[0]
    return (proc, url), key


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", choices=("sqlite", "postgres"))
    ap.add_argument("--pg-url", default=os.environ.get("LEDGER_TEST_PG_URL", DEFAULT_PG_URL))
    args = ap.parse_args()
    results: dict[str, Any] = {"entries": args.entries, "batch": BATCH, "rounds": args.rounds}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for kind in ("sqlite", "postgres"):
            if args.only and kind != args.only:
                continue
            row: dict[str, Any] = {}
            runs: dict[str, list[tuple[float, int]]] = {m: [] for m in MODES}
            calls: list[tuple[float, float]] = []
            for r in range(args.rounds):
                got_all = _append_rates(kind, args.entries, tmp, args.pg_url)
                calls.append(got_all.pop("calls_ms"))
                for mode, got in got_all.items():
                    runs[mode].append(got)
                    log(f"{kind} round {r + 1} {mode}: {round(got[0])} events/s")
            for mode in MODES:
                row[mode] = {"events_per_s": round(statistics.median(x[0] for x in runs[mode])),
                             "checkpoints": runs[mode][0][1]}
            for mode in ("default", "default_serve", "every100"):  # per round, then median
                row[mode]["ratio_to_off"] = round(statistics.median(
                    a[0] / b[0] for a, b in zip(runs[mode], runs["off"], strict=True)), 3)
            row["default_call_ms"] = {  # median over the runs of each run's median
                "crossing_1000": round(statistics.median(c[0] for c in calls), 1),
                "other": round(statistics.median(c[1] for c in calls), 1)}
            row.update(_checkpoint_cost(kind, tmp, args.pg_url, 20))
            log(f"{kind} checkpoint cost: {row}")
            results[kind] = row
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
