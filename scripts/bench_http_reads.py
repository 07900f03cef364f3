"""Read latency through a resident ``ledger serve``: consent, export and proofs of one
subject or entry, on an already-filled ledger (scripts/bench_big.py passes it).

The command-line reads pay for starting Python and importing SQLAlchemy and
cryptography on every call; a server pays once.  This measures what a caller
of the HTTP API waits for: ``GET /v1/subjects/{ref}/consent``, ``…/export``
and ``GET /v1/proofs/inclusion/{seq}`` over one keep-alive connection, after
one warm-up request each (which also brings the projections up to date).
Not a test: nothing here is asserted.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_http import _percentile, serving

from ledger.app.application import Ledger
from ledger.app.tokens import Tokens

ROUNDS = 100


def _subjects(url: str, name: str, count: int, seed: int,
              env: dict[str, str]) -> tuple[list[str], int, str]:
    """``count`` subject pseudonyms spread over the ledger, its head, a DPO token."""
    ledger = Ledger.open(url, name, env=env)
    try:
        head, _ = ledger.head()
        rnd = random.Random(seed)
        found: list[str] = []
        while len(found) < count:
            row = next(iter(ledger.store.entries(start=rnd.randint(2, head), page=1)))
            subject = json.loads(row.state)["subject"]
            if subject:
                found.append(f"pseudonym:{subject}")
        tag = os.urandom(4).hex()
        token = Tokens(ledger.store).create(f"bench-reads-{tag}", "dpo")
    finally:
        ledger.close()
    return found, head, token


def _timed(conn: http.client.HTTPConnection, path: str, token: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    response.read()
    return time.perf_counter() - t0, response.status


def _summary(values: list[float]) -> dict[str, Any]:
    return {"median_ms": round(statistics.median(values) * 1000, 2),
            "p99_ms": round(_percentile(values, 99) * 1000, 2), "runs": len(values)}


def run(url: str, name: str, *, rounds: int = ROUNDS, seed: int = 11,
        env: dict[str, str] | None = None) -> dict[str, Any]:
    env = {**(os.environ if env is None else env), "LEDGER_DATABASE_URL": url,
           "LEDGER_NAME": name}
    subjects, head, token = _subjects(url, name, rounds, seed, env)
    rnd = random.Random(seed)
    out: dict[str, Any] = {"entries": head}
    with serving(env) as (port, _):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        for what, path in (("consent", "/v1/subjects/{s}/consent"),
                           ("export", "/v1/subjects/{s}/export")):
            warm, status = _timed(conn, path.format(s=subjects[0]), token)
            times, statuses = [], set()
            for s in subjects:
                took, status = _timed(conn, path.format(s=s), token)
                times.append(took)
                statuses.add(status)
            out[what] = {**_summary(times), "first_call_ms": round(warm * 1000, 1),
                         "statuses": sorted(statuses)}
        times, statuses = [], set()
        for _ in range(rounds):
            took, status = _timed(conn, f"/v1/proofs/inclusion/{rnd.randint(1, head)}",
                                  token)
            times.append(took)
            statuses.add(status)
        out["inclusion_proof"] = {**_summary(times), "statuses": sorted(statuses)}
        conn.close()
    return out
