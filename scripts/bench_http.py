"""Load benchmark of the HTTP API: a real ``ledger serve`` on loopback, concurrent clients.

    .venv/bin/python scripts/bench_http.py                    # 30 s on SQLite, then PostgreSQL
    .venv/bin/python scripts/bench_http.py --seconds 5 --only sqlite
    .venv/bin/python scripts/bench_http.py --json             # the results as JSON

:func:`run` starts ``ledger serve`` as a subprocess for an existing ledger
(initialised and given the bundled policy if it is not), issues a service token,
and runs ``clients`` threads, each with its own keep-alive connection, posting
batches of ``batch`` events for ``seconds``: consents for new subjects, then
collections of personal values for them (so pseudonyms, data keys and sealing
all run), half and half.  It reports requests and appends per second, p50 and
p99 latency, errors (any answer but 201, or a failed connection), and then runs
``ledger verify --json`` on the result.  Not a test: nothing here is asserted.

Issue 15 compares the HTTP rate with bare ``eventsourcing`` appending 100
events per call on the same database IN THE SAME RUN (``scripts/bench.py``'s
``bare_appends``, ``--bare-events``, right after the HTTP load): the ratio
(target >= 30 % on PostgreSQL) and the p99 latency (target < 150 ms) are
printed with the table.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import bench  # scripts/bench.py: the bare eventsourcing measurement (this folder is on sys.path)
import psycopg

from ledger.app.application import Ledger
from ledger.app.tokens import Tokens
from ledger.domain.policy import bundled_policy
from ledger.errors import InputError

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_BARE_SHARE = 0.30   # HTTP appends/s / bare eventsourcing 100 per call, PostgreSQL
TARGET_P99_MS = 150.0
CONSENT_AT = "2026-01-05T09:00:00+01:00"
COLLECT_AT = "2026-01-05T09:05:00+01:00"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str, name: str, env: Mapping[str, str]) -> tuple[str, str]:
    """Initialise the ledger if needed, publish the bundled policy if none; two tokens."""
    ledger, _ = Ledger.init(url, name, env)
    try:
        with contextlib.suppress(InputError):  # already published
            ledger.publish_policy(bundled_policy(), actor="bench")
        tokens = Tokens(ledger.store)
        tag = uuid.uuid4().hex[:8]
        return (tokens.create(f"bench-{tag}", "service"),
                tokens.create(f"bench-audit-{tag}", "auditor"))
    finally:
        ledger.close()


def _events(client: int, n: int, batch: int, *, collect: bool, run: str) -> list[Any]:
    out = []
    for i in range(batch):
        subject = f"bench-{run}-{client}-{n + i}@example.org"
        if collect:
            out.append({"event_id": str(uuid.uuid4()), "type": "DataCollected",
                        "subject": subject, "occurred_at": COLLECT_AT,
                        "data": {"category": "identification_contact",
                                 "purpose": "recruitment", "source": "subject",
                                 "values": {"email": subject, "last_name": "Durand",
                                            "first_name": "Camille",
                                            "phone": f"+33 6 12 {i:02d} 56 78"}}})
        else:
            out.append({"event_id": str(uuid.uuid4()), "type": "ConsentGiven",
                        "subject": subject, "occurred_at": CONSENT_AT,
                        "data": {"purpose": "recruitment", "method": "form",
                                 "evidence": f"form:careers/apply/v3#{n + i}"}})
    return out


class _Client(threading.Thread):
    def __init__(self, number: int, port: int, token: str, batch: int, *, stop_at: float,
                 run: str) -> None:
        super().__init__(daemon=True)
        self.number, self.port, self.token, self.batch = number, port, token, batch
        self.stop_at, self.run_tag = stop_at, run
        self.latencies: list[float] = []
        self.appended = 0
        self.errors: dict[str, int] = {}

    def _error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Authorization": f"Bearer {self.token}",
                   "Content-Type": "application/json"}
        n = 0
        collect = False
        while time.perf_counter() < self.stop_at:
            body = json.dumps(_events(self.number, n, self.batch, collect=collect,
                                      run=self.run_tag)).encode()
            start = time.perf_counter()
            try:
                conn.request("POST", "/v1/events", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._error(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                continue
            self.latencies.append(time.perf_counter() - start)
            if response.status == 201:
                self.appended += self.batch
            else:
                self._error(f"HTTP {response.status}")
            if collect:
                n += self.batch
            collect = not collect
        conn.close()


def _wait_up(port: int, proc: subprocess.Popen[bytes], errors: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("ledger serve exited: " + errors.read_text(errors="replace"))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            conn.request("GET", "/v1/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
        finally:
            conn.close()
    raise RuntimeError("ledger serve did not answer within 60 s")


@contextlib.contextmanager
def serving(env: Mapping[str, str]) -> Iterator[tuple[int, list[str]]]:
    """A ``ledger serve`` subprocess (the ledger named by ``env``) on a free loopback port.

    Yields the port and a list that holds the server's log once it has stopped."""
    port = _free_port()
    log_text: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        server_log = Path(tmp) / "serve.log"
        with server_log.open("wb") as sink:
            proc = subprocess.Popen([sys.executable, "-m", "ledger.cli", "serve", "--port",
                                     str(port), "--no-access-log"], env=dict(env),
                                    stdout=subprocess.DEVNULL, stderr=sink)
        try:
            _wait_up(port, proc, server_log)
            yield port, log_text
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            log_text.append(server_log.read_text(errors="replace"))


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(url: str, name: str, *, seconds: float = 30, clients: int = 16, batch: int = 10,
        env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Serve ``url``/``name`` with ``ledger serve`` and load it; return the figures."""
    env = dict(os.environ if env is None else env)
    env.update({"LEDGER_DATABASE_URL": url, "LEDGER_NAME": name})
    service, auditor = _prepare(url, name, env)
    run_tag = uuid.uuid4().hex[:6]
    with serving(env) as (port, server_log):
        log(f"  {clients} clients, batches of {batch}, {seconds:g} s …")
        start = time.perf_counter()
        threads = [_Client(k, port, service, batch, stop_at=start + seconds, run=run_tag)
                   for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        try:
            conn.request("GET", "/v1/verify",
                         headers={"Authorization": f"Bearer {auditor}"})
            api_verify = json.loads(conn.getresponse().read())
        finally:
            conn.close()
    server_errors = [line for text in server_log for line in text.splitlines() if "ERROR" in line]
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ledger.cli", "verify", "--json"], env=env,
                          capture_output=True, text=True, check=False)
    verify_s = time.perf_counter() - t0
    cli_verify = json.loads(done.stdout) if done.stdout.strip() else {"ok": False,
                                                                        "reason": done.stderr}
    latencies = [x for t in threads for x in t.latencies]
    errors: dict[str, int] = {}
    for t in threads:
        for k, v in t.errors.items():
            errors[k] = errors.get(k, 0) + v
    appended = sum(t.appended for t in threads)
    return {
        "seconds": round(elapsed, 2), "clients": clients, "batch": batch,
        "requests": len(latencies), "requests_per_s": round(len(latencies) / elapsed, 1),
        "appends": appended, "appends_per_s": round(appended / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0.0,
        "errors": sum(errors.values()), "error_kinds": errors,
        "server_error_lines": len(server_errors),
        "verify": {**cli_verify, "seconds": round(verify_s, 2)},
        "api_verify_ok": api_verify.get("ok"),
    }


# -- standalone -------------------------------------------------------------------------
def _fresh_pg(pg_url: str) -> tuple[str, str]:
    schema = f"bench_http_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{pg_url}?schema={schema}", schema


def _drop_pg(pg_url: str, schema: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="HTTP load benchmark (docs/PERFORMANCE.md)")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--pg-url", default=os.environ.get("LEDGER_TEST_PG_URL",
                                                           DEFAULT_PG_URL))
    parser.add_argument("--bare-events", type=int, default=10_000,
                        help="events bare eventsourcing appends at 100 per call after the "
                             "HTTP load, on the same database (default 10,000; 0 skips)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "LEDGER_KEY_DIR": str(Path(tmp) / "keys")}
        env.pop("LEDGER_MASTER_KEY", None)
        for kind in ("sqlite", "postgres"):
            if args.only and kind != args.only:
                continue
            log(f"{kind}:")
            schema = None
            if kind == "sqlite":
                url = f"sqlite:///{tmp}/bench-http.db"
            else:
                url, schema = _fresh_pg(args.pg_url)
            try:
                result = run(url, "main", seconds=args.seconds, clients=args.clients,
                             batch=args.batch, env=env)
            finally:
                if schema:
                    _drop_pg(args.pg_url, schema)
            if args.bare_events:
                result["bare_100_per_s"] = round(bare_rate(kind, args.pg_url, Path(tmp),
                                                           args.bare_events), 1)
                result["share_of_bare"] = result["appends_per_s"] / result["bare_100_per_s"]
            results.append({"database": kind, **result})
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "results": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"machine: {os.cpu_count()} CPU; Python {platform.python_version()}")
    print(f"{'database':9} {'req/s':>8} {'appends/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>7}  verify")
    for r in results:
        v = r["verify"]
        verdict = f"ok, {v.get('entries')} entries in {v['seconds']} s" if v.get("ok") \
            else f"FAILED: {v.get('reason')}"
        print(f"{r['database']:9} {r['requests_per_s']:>8,.1f} {r['appends_per_s']:>10,.1f} "
              f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>7}  {verdict}")
    for r in results:
        if "bare_100_per_s" not in r:
            continue
        share, p99 = r["share_of_bare"], r["p99_ms"]
        met_share = "met" if share >= TARGET_BARE_SHARE else "NOT met"
        met_p99 = "met" if p99 < TARGET_P99_MS else "NOT met"
        target = "" if r["database"] != "postgres" else (
            f"; target >= {TARGET_BARE_SHARE:.0%}: {met_share}, "
            f"p99 < {TARGET_P99_MS:.0f} ms: {met_p99}")
        print(f"{r['database']}: HTTP {r['appends_per_s']:,.0f} appends/s = {share:.0%} of bare "
              f"eventsourcing at 100 per call ({r['bare_100_per_s']:,.0f}/s, same run){target}")
    return 0


def bare_rate(kind: str, pg_url: str, tmp: Path, events: int) -> float:
    """Bare eventsourcing, 100 events per call, on a fresh database of ``kind``."""
    log(f"{kind}: bare eventsourcing, {events:,} events at 100 per call")
    dbs = bench.Databases(kind, pg_url, tmp, uuid.uuid4().hex[:8])
    try:
        return bench.bare_appends(dbs.bare_env("http"), dbs.run, events, bench.BATCH,
                                  f"{kind} bare x100")
    finally:
        dbs.cleanup()


if __name__ == "__main__":
    sys.exit(main())
