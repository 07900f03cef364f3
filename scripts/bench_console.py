"""Time the DPO's console (issue 12) page by page, on a real ``ledger serve``.

The ledger is the inquiry bench's (scripts/bench_inquiry.py: cookie consents, contact
form collections and disclosures, access requests, spread over a year), built once at
``--path`` and kept between runs; with ``--pg`` it is also built in a fresh PostgreSQL
schema, dropped after.  A DPO token and an auditor token are issued; the DPO logs in
through the console's login form (its CSRF token) and every page is requested once
(the first request: the projections catch up with the ledger, as after a restart) and
then ``--rounds`` times (median, p95)::

    scripts/bench --console                       # 100,000 events, SQLite
    scripts/bench --console --entries 20000 --rounds 5 --pg

Times are wall clock on the client (httpx on loopback), the redirect followed where the
page answers a form with one (the person search, "Verify now").  Not a load test: one
client, one request at a time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from bench_http import _percentile, serving  # this folder is on sys.path
from bench_inquiry import build

from ledger.app.application import Ledger
from ledger.app.tokens import Tokens
from ledger.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("LEDGER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CSRF = re.compile(r'name="csrf" value="([^"]*)"')
REGISTERS = ("retention", "requests", "breaches", "disclosures", "accesses", "ropa")
SUBJECT = "contact00000050@ex.fr"  # the first contact of the generator (k = 50)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def tokens(url: str, env: dict[str, str]) -> dict[str, str]:
    """A fresh DPO token and auditor token (a kept ledger's older ones revoked)."""
    ledger = Ledger.open(url, "main", env=env)
    try:
        issued = Tokens(ledger.store)
        out = {}
        for role, name in (("dpo", "bench-dpo"), ("auditor", "bench-auditor")):
            with contextlib.suppress(InputError):  # a new ledger: nothing to revoke
                issued.revoke(name)
            out[role] = issued.create(name, role)
        return out
    finally:
        ledger.close()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise SystemExit("the page has no form with a CSRF token")
    return found.group(1)


class Console:
    """One logged-in console session: ``get``/``post`` checked and timed."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.client = httpx.Client(base_url=base, follow_redirects=True, timeout=600)
        page = self.client.get("/console/login")
        r = self.client.post("/console/login", data={"csrf": csrf_of(page.text),
                                                      "token": token},
                             headers={"Origin": base})
        if r.status_code != 200 or "/console/login" in str(r.url):
            raise SystemExit(f"login failed: {r.status_code}")
        self.csrf = csrf_of(r.text)

    def get(self, path: str) -> httpx.Response:
        r = self.client.get(path)
        self._check(path, r)
        return r

    def post(self, path: str, fields: dict[str, str]) -> httpx.Response:
        r = self.client.post(path, data={**fields, "csrf": self.csrf},
                             headers={"Origin": self.base})
        self._check(path, r)
        return r

    def _check(self, path: str, r: httpx.Response) -> None:
        if r.status_code != 200:
            raise SystemExit(f"{path}: HTTP {r.status_code}")
        if 'name="csrf"' in r.text:
            self.csrf = csrf_of(r.text)

    def close(self) -> None:
        self.client.close()


def landed(r: httpx.Response, prefix: str) -> httpx.Response:
    """``r``, after checking that its redirect ended on a path under ``prefix``."""
    if not r.url.path.startswith(prefix):
        raise SystemExit(f"expected a page under {prefix}, got {r.url.path}")
    return r


def pages(head: int) -> list[tuple[str, str, Callable[[Console], httpx.Response]]]:
    """(name, who, request) of every page timed, in the order a DPO might open them."""
    out: list[tuple[str, str, Callable[[Console], httpx.Response]]] = [
        ("overview", "dpo", lambda c: c.get("/console/overview")),
        ("person (search -> page)", "dpo", lambda c: landed(c.post(
            "/console/person", {"identifier": SUBJECT, "reason": "bench"}), "/console/person/"))]
    for name in REGISTERS:
        out.append((f"registers/{name}", "dpo",
                    lambda c, name=name: c.get(f"/console/registers/{name}")))
    seq = max(1, head // 2)
    out += [("registers/retention CSV", "dpo",
             lambda c: c.get("/console/registers/retention?format=csv")),
            (f"integrity?seq={seq}", "dpo", lambda c: c.get(f"/console/integrity?seq={seq}")),
            (f"integrity?seq={seq} (auditor)", "auditor",
             lambda c: c.get(f"/console/integrity?seq={seq}")),
            ("verify (POST -> integrity)", "dpo", lambda c: landed(
                c.post("/console/verify", {}), "/console/integrity"))]
    return out


def measure(base: str, issued: dict[str, str], head: int, rounds: int,
            verify_rounds: int) -> dict[str, Any]:
    sessions = {role: Console(base, token) for role, token in issued.items()}
    out: dict[str, Any] = {}
    try:
        for name, who, request in pages(head):
            times: list[float] = []
            n = 1 + (verify_rounds if name.startswith("verify") else rounds)
            size = 0
            for _ in range(n):
                started = time.perf_counter()
                r = request(sessions[who])
                times.append(time.perf_counter() - started)
                size = len(r.content)
            warm = [t * 1000 for t in times[1:]]
            out[name] = {"first_ms": round(times[0] * 1000, 1),
                         "median_ms": round(statistics.median(warm), 1) if warm else None,
                         "p95_ms": round(_percentile(warm, 95), 1) if warm else None,
                         "rounds": len(warm), "bytes": size}
            log(f"  {name}: {out[name]}")
    finally:
        for s in sessions.values():
            s.close()
    return out


def run(url: str, key_dir: str, *, entries: int, months: int, rounds: int,
        verify_rounds: int) -> dict[str, Any]:
    env = {"LEDGER_KEY_DIR": key_dir}
    log(f"ledger: {entries:,} entries (built once, kept)")
    built = build(url, env, entries, months)
    issued = tokens(url, env)
    serve_env = {**os.environ, **env, "LEDGER_DATABASE_URL": url, "LEDGER_ACTOR": "bench"}
    started = time.perf_counter()
    with serving(serve_env) as (port, _log):
        up = round(time.perf_counter() - started, 2)  # until /v1/health answers
        times = measure(f"http://127.0.0.1:{port}", issued, built["entries"], rounds,
                        verify_rounds)
    return {"entries": built["entries"], "build_seconds": built["build_seconds"],
            "serve_start_s": up, "pages": times}


def table(label: str, result: dict[str, Any]) -> str:
    lines = [f"{label}: {result['entries']:,} entries",
             f"{'page':<34} {'first ms':>10} {'median ms':>10} {'p95 ms':>10} {'bytes':>10}"]
    for name, t in result["pages"].items():
        lines.append(f"{name:<34} {t['first_ms']:>10} {t['median_ms']!s:>10} "
                     f"{t['p95_ms']!s:>10} {t['bytes']:>10,}")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/bench --console",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--entries", type=int, default=100_000)
    p.add_argument("--months", type=int, default=12)
    p.add_argument("--rounds", type=int, default=20, help="warm requests per page")
    p.add_argument("--verify-rounds", type=int, default=3,
                   help="warm presses of 'Verify now' (each verifies the whole ledger)")
    p.add_argument("--path", default=None,
                   help="the SQLite ledger (default bench-data/console-<entries>.db)")
    p.add_argument("--pg", action="store_true", help="also on PostgreSQL (LEDGER_TEST_PG_URL)")
    p.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only (with --pg)")
    p.add_argument("--json-dir", default=str(ROOT / "docs" / "bench"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for name, least in (("entries", 1), ("rounds", 1), ("verify_rounds", 0)):
        if getattr(args, name) < least:
            raise SystemExit(f"--{name.replace('_', '-')}: must be {least} or more")
    day = datetime.now(UTC).date().isoformat()
    results: dict[str, dict[str, Any]] = {}
    sizes = {"entries": args.entries, "months": args.months, "rounds": args.rounds,
             "verify_rounds": args.verify_rounds}
    if not args.no_sqlite:
        db = Path(args.path or f"bench-data/console-{args.entries}.db")
        db.parent.mkdir(parents=True, exist_ok=True)
        results["sqlite"] = run(f"sqlite:///{db}", str(db.with_suffix(".keys")), **sizes)
    if args.pg:
        schema = f"bench_console_{uuid.uuid4().hex[:8]}"
        keys = tempfile.mkdtemp(prefix="bench-console-keys-")
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            results["postgres"] = run(f"{PG_URL}?schema={schema}", keys, **sizes)
        finally:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            shutil.rmtree(keys, ignore_errors=True)
    for backend, result in results.items():
        report = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                  "backend": backend, "rounds": args.rounds,
                  "verify_rounds": args.verify_rounds, "cpus": os.cpu_count(), **result}
        out = Path(args.json_dir) / f"{backend}-console-{args.entries}-{day}.json"
        out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        print(table(backend, result))
        print(f"(written to {out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
