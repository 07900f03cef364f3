"""Reads from a streaming replica while appends run on the primary (``scripts/bench --replica``).

Needs the pair of ``scripts/pg-replica up`` (primary 5442, hot standby 5443, synchronous:
``synchronous_commit=remote_apply`` in database ``test``; ``--db test_async`` commits locally).

1. build: a ledger of ``--entries`` entries on the primary (schema ``bench_replica_<N>``,
   kept for the next run);
2. appends alone: ``--writers`` threads, each its own :class:`Ledger`, appending calls of
   ``--batch`` events for as long as phase 3 takes (a second run of the same length);
3. appends while ``ledger verify --workers 1`` verifies the whole ledger **on the replica**
   (a child process): the append rate during it against phase 2 (target: < 15 % lost);
4. the read routes (consent, export, inclusion proof) of ``ledger serve --ledgers FILE``
   whose ledger has the replica as ``read_urls``, while one client appends over HTTP:
   latency and which database served (``Ledger-Served-By``).

On this machine the primary, the replica and the load share 2 cores: the append loss
measured includes that CPU competition, which separate servers would not have.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench

from ledger.app.application import Ledger
from ledger.app.tokens import Tokens

PRIMARY = "postgresql://postgres@127.0.0.1:5442"
STANDBY = "postgresql://postgres@127.0.0.1:5443"
NAME = "bench"


def _append_load(url: str, env: dict[str, str], writers: int, batch: int, *,
                 until: threading.Event, seconds: float | None = None) -> dict[str, Any]:
    """Appends by ``writers`` threads until ``until`` is set (or ``seconds`` pass)."""
    counts = [0] * writers
    run = os.urandom(4).hex()

    def write(w: int) -> None:
        with Ledger.open(url, NAME, env=env) as led:
            pos = 0
            while not until.is_set():
                led.append(bench.workload(f"{run}w{w}", batch, start=pos))
                pos += batch
                counts[w] += batch

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    if seconds is not None:
        until.wait(seconds)
        until.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"events": sum(counts), "seconds": round(elapsed, 1),
            "events_per_s": round(sum(counts) / elapsed)}


def verify_during_appends(db: str, schema: str, env: dict[str, str], writers: int,
                          batch: int, *, nice: int = 0) -> dict[str, Any]:
    primary = f"{PRIMARY}/{db}?schema={schema}"
    standby = f"{STANDBY}/{db}?schema={schema}"
    child_env = {**os.environ, **env, "LEDGER_DATABASE_URL": standby, "LEDGER_NAME": NAME}
    stop = threading.Event()
    box: dict[str, Any] = {}

    def load() -> None:
        box["during"] = _append_load(primary, env, writers, batch, until=stop)

    loader = threading.Thread(target=load)
    loader.start()
    time.sleep(1.0)  # the writers are running
    started = time.perf_counter()
    niced = ["nice", "-n", str(nice)] if nice else []
    done = subprocess.run([*niced, sys.executable, "-m", "ledger.cli", "verify", "--json",
                           "--workers", "1"], env=child_env, capture_output=True, text=True,
                          check=False)
    took = time.perf_counter() - started
    stop.set()
    loader.join()
    verdict = json.loads(done.stdout.splitlines()[-1]) if done.stdout else {"error": done.stderr}
    bench.log(f"  verify on the replica: {verdict.get('entries')} entries in {took:.1f} s")
    alone = _append_load(primary, env, writers, batch, until=threading.Event(),
                         seconds=box["during"]["seconds"])
    loss = 1 - box["during"]["events_per_s"] / alone["events_per_s"]
    return {"verify_on_replica": {"ok": verdict.get("ok"), "entries": verdict.get("entries"),
                                  "seconds": round(took, 1),
                                  "entries_per_s": round((verdict.get("entries") or 0) / took)},
            "appends_during_verify": box["during"], "appends_alone": alone,
            "append_loss_pct": round(100 * loss, 1)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(conn: http.client.HTTPConnection, path: str, token: str) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    r = conn.getresponse()
    r.read()
    return time.perf_counter() - t0, r.status, r.getheader("Ledger-Served-By") or "-"


def _summary(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(values) * 1000, 2),
            "p95_ms": round(p95 * 1000, 2), "runs": len(values)}


def reads_under_load(db: str, schema: str, env: dict[str, str], *, rounds: int,
                     head: int, run: str) -> dict[str, Any]:
    primary = f"{PRIMARY}/{db}?schema={schema}"
    standby = f"{STANDBY}/{db}?schema={schema}"
    with Ledger.open(primary, NAME, env=env) as led:
        token = Tokens(led.store).create(f"bench-replica-{os.urandom(3).hex()}", "dpo")
    with tempfile.TemporaryDirectory() as tmp:
        routing = Path(tmp) / "ledgers.toml"
        routing.write_text(f'[ledgers.{NAME}]\nurl = "{primary}"\nread_urls = ["{standby}"]\n'
                           f'keys = "{env["LEDGER_KEY_DIR"]}"\n')
        port = _free_port()
        proc = subprocess.Popen([sys.executable, "-m", "ledger.cli", "--ledgers", str(routing),
                                 "serve", "--port", str(port), "--no-access-log"],
                                env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            base = f"/ledgers/{NAME}/v1"
            for _ in range(300):
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    c.request("GET", f"{base}/health")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            stop = threading.Event()
            posted = [0]

            def writer() -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                pos = 0
                while not stop.is_set():
                    body = json.dumps(bench.workload(f"{run}h", 10, start=pos))
                    conn.request("POST", f"{base}/events", body=body, headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json"})
                    conn.getresponse().read()
                    pos += 10
                    posted[0] += 10

            w = threading.Thread(target=writer)
            w.start()
            rnd = random.Random(7)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            out: dict[str, Any] = {}
            # the subjects of the built ledger (bench.workload's first consents)
            subjects = [bench._subject(run, rnd.randint(0, 49)) for _ in range(rounds)]
            for what, path in (("consent", base + "/subjects/{s}/consent"),
                               ("export", base + "/subjects/{s}/export"),
                               ("inclusion_proof", base + "/proofs/inclusion/{n}")):
                times, served, statuses = [], {}, set()
                for s in subjects:
                    took, status, by = _get(conn, path.format(s=s, n=rnd.randint(1, head)),
                                            token)
                    times.append(took)
                    statuses.add(status)
                    served[by] = served.get(by, 0) + 1
                out[what] = {**_summary(times), "statuses": sorted(statuses),
                             "served_by": served}
                bench.log(f"  {what}: {out[what]}")
            stop.set()
            w.join()
            out["appended_meanwhile"] = posted[0]
            return out
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/bench --replica",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--entries", type=int, default=200_000)
    p.add_argument("--db", default="test", choices=("test", "test_async"),
                   help="test: synchronous (remote_apply); test_async: local commit")
    p.add_argument("--writers", type=int, default=4)
    p.add_argument("--batch", type=int, default=10, help="events per append call")
    p.add_argument("--rounds", type=int, default=100, help="requests per read route")
    p.add_argument("--nice", type=int, default=0, help="run the replica's verification under "
                   "nice -n N (here the replica shares the primary's 2 cores; 0: as is)")
    p.add_argument("--key-dir", default="bench-data/replica.keys")
    p.add_argument("--json-out", metavar="FILE")
    args = p.parse_args(argv)
    key_dir = Path(args.key_dir)
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = {"LEDGER_KEY_DIR": str(key_dir.resolve())}
    schema = f"bench_replica_{args.entries}"
    url = f"{PRIMARY}/{args.db}?schema={schema}"
    started = time.perf_counter()
    led, _ = Ledger.init(url, NAME, env=env)
    try:
        run = "replica"
        if led.head()[0] == 0:
            from ledger.domain.policy import bundled_policy  # noqa: PLC0415

            led.publish_policy(bundled_policy(), actor="bench")
        bench.grow(led, run, max(0, led.head()[0] - 1), args.entries, "replica ledger")
        head = led.head()[0]
    finally:
        led.close()
    report: dict[str, Any] = {"machine": bench.machine(), "db": args.db, "entries": head,
                              "build_seconds": round(time.perf_counter() - started, 1)}
    bench.log(f"ledger ready: {head} entries")
    report["verify_nice"] = args.nice
    report.update(verify_during_appends(args.db, schema, env, args.writers, args.batch,
                                        nice=args.nice))
    bench.log(f"  appends: alone {report['appends_alone']['events_per_s']}/s, during "
              f"verify {report['appends_during_verify']['events_per_s']}/s "
              f"({report['append_loss_pct']} % lost)")
    report["reads_under_load"] = reads_under_load(args.db, schema, env, rounds=args.rounds,
                                                  head=head, run=run)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
