"""Appends that must not slow down: a long subject history, and several ledgers at once.

Used by ``scripts/bench`` (issue 15, item 5):

* :func:`history` — appends for ONE subject that already has ``H`` prior events
  (``--history 10,1000,100000``).  The history is built first with large
  batched appends (5,000 per call): a consent, then a realistic mix — mostly
  ``DataCollected`` under that consent, a consent renewal (``ConsentGiven``
  again) every 50th event.  Then timed: ``DataCollected`` for that subject, one
  per call, and 100 per call.  Each measurement runs at least 3 calls and stops
  after a time budget, so a slow case does not stall the run.  The figure that
  matters is the slowdown against the smallest history (time per event at
  ``H`` / time per event at the smallest ``H``; target <= 1.5 at 100,000).
* :func:`parallel` — PostgreSQL only: 4 ledgers (4 ledger names, one schema,
  one database) appended to at once by 4 processes, 100 events per call, against
  1 ledger alone in the same schema; the aggregate rate ratio (target >= 1.5
  on a 2-core machine).  It uses only ``Ledger.init/open/append``, so it works
  whatever lock the store takes (a table lock, or a per-ledger advisory lock).
"""

from __future__ import annotations

import multiprocessing
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.app.application import Ledger
from ledger.domain.policy import bundled_policy

CONSENT_AT = "2024-05-01T10:00:00+02:00"
COLLECT_AT = "2024-05-01T10:05:00+02:00"
BUILD_CALL = 5000
RENEW_EVERY = 50


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- one subject with a long history ------------------------------------------------
def _consent(subject: str, n: int) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "type": "ConsentGiven", "subject": subject,
            "occurred_at": CONSENT_AT, "actor": "careers-site",
            "data": {"purpose": "recruitment", "method": "form", "age": 30,
                     "evidence": f"form:careers/apply/v3#{n:07d} sha256:{uuid.uuid4().hex}"}}


def _collect(subject: str, n: int) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "type": "DataCollected", "subject": subject,
            "occurred_at": COLLECT_AT, "actor": "careers-site",
            "data": {"category": "identification_contact", "purpose": "recruitment",
                     "source": "subject",
                     "values": {"email": subject, "last_name": "Durand",
                                "first_name": "Camille", "phone": f"+33 6 12 {n % 100:02d} 56 78"}}}


def subject_history(subject: str, start: int, count: int) -> list[dict[str, Any]]:
    """Events ``start``… of the subject's history: a consent first, a renewal every 50th."""
    return [_consent(subject, n) if n % RENEW_EVERY == 0 else _collect(subject, n)
            for n in range(start, start + count)]


def _timed_calls(append: Callable[[list[dict[str, Any]]], object], make: Callable[[int],
                 list[dict[str, Any]]], *, per_call: int, budget_s: float,
                 max_calls: int) -> dict[str, Any]:
    times: list[float] = []
    spent = 0.0
    while len(times) < 3 or (spent < budget_s and len(times) < max_calls):
        batch = make(per_call)
        t0 = time.perf_counter()
        append(batch)
        times.append(time.perf_counter() - t0)
        spent += times[-1]
    times.sort()
    median = times[len(times) // 2]
    return {"calls": len(times), "median_call_ms": 1000 * median,
            "per_s": per_call / median}


def history_one(url: str, env: dict[str, str], size: int, *, budget_s: float) \
        -> dict[str, Any]:
    """Build a subject with ``size`` prior events in a fresh ledger; time its appends."""
    ledger, _ = Ledger.init(url, "bench", env=env)
    try:
        ledger.publish_policy(bundled_policy(), actor="bench")
        subject = f"history-{uuid.uuid4().hex[:8]}@example.org"
        built = 0
        t0 = time.perf_counter()
        while built < size:
            n = min(BUILD_CALL, size - built)
            ledger.append(subject_history(subject, built, n))
            built += n
        build_s = time.perf_counter() - t0
        pos = [size]

        def make(count: int) -> list[dict[str, Any]]:
            out = [_collect(subject, pos[0] + i) for i in range(count)]
            pos[0] += count
            return out

        single = _timed_calls(ledger.append, make, per_call=1, budget_s=budget_s,
                              max_calls=50)
        batch = _timed_calls(ledger.append, make, per_call=100, budget_s=budget_s,
                             max_calls=20)
    finally:
        ledger.close()
    return {"history": size, "build_s": round(build_s, 2), "append_1": single,
            "append_100": batch}


def history(make_url: Callable[[str], str], env: dict[str, str], sizes: list[int], *,
            label: str, budget_s: float) -> dict[str, Any]:
    rows = []
    for size in sizes:
        log(f"{label}: one subject with {size:,} prior events: building, then appending")
        rows.append(history_one(make_url(f"h{size}"), env, size, budget_s=budget_s))
    base = rows[0]
    for r in rows:
        for key in ("append_1", "append_100"):
            r[key]["slowdown"] = base[key]["per_s"] / r[key]["per_s"]
    return {"sizes": sizes, "rows": rows}


# -- several ledgers in one database ----------------------------------------------
Calls = list[list[dict[str, Any]]]


def _worker(url: str, name: str, env: dict[str, str], *, calls: Calls, barrier: Any,
            out: Any) -> None:
    ledger = Ledger.open(url, name, env=env)
    try:
        ledger.append(calls[0])                                   # warm-up, untimed
        barrier.wait()
        t0 = time.perf_counter()
        for call in calls[1:]:
            ledger.append(call)
        out.put((name, t0, time.perf_counter(), sum(len(c) for c in calls[1:])))
    finally:
        ledger.close()


def _run_at_once(url: str, names: list[str], env: dict[str, str],
                 make_calls: Callable[[str], Calls]) -> float:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(names))
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, n, env),
                         kwargs={"calls": make_calls(n), "barrier": barrier, "out": out})
             for n in names]
    for p in procs:
        p.start()
    results = [out.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        if p.exitcode != 0:
            raise SystemExit(f"a parallel append worker failed (exit {p.exitcode})")
    start = min(r[1] for r in results)
    end = max(r[2] for r in results)
    return sum(r[3] for r in results) / (end - start)


def parallel(url: str, key_dir: Path, events: int, make_calls: Callable[[str], Calls],
             processes: int = 4) -> dict[str, Any]:
    """Aggregate appends/s: ``processes`` ledgers of one schema at once, against one alone.

    ``make_calls(name)``: a warm-up call, then the timed calls (``events`` in all).
    """
    env = {"LEDGER_KEY_DIR": str(key_dir)}
    names = [f"bench-{k}" for k in range(processes)]
    for name in ["bench-solo", *names]:
        ledger, _ = Ledger.init(url, name, env=env)
        try:
            ledger.publish_policy(bundled_policy(), actor="bench")
        finally:
            ledger.close()
    log(f"postgres: 1 ledger alone, {events:,} events at 100 per call")
    alone = _run_at_once(url, ["bench-solo"], env, make_calls)
    log(f"postgres: {processes} ledgers at once in one schema, {events:,} events each")
    together = _run_at_once(url, names, env, make_calls)
    return {"processes": processes, "events_each": events, "alone_per_s": alone,
            "together_per_s": together, "ratio": together / alone}
