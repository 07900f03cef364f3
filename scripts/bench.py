"""Throughput benchmark: the ledger against bare ``eventsourcing``, on SQLite and PostgreSQL.

Run it through ``scripts/bench`` (it sets up the virtual environment first)::

    scripts/bench                  # full run, a few minutes
    scripts/bench --quick          # small sizes, under a minute (smoke test)
    scripts/bench --only sqlite --profile
    scripts/bench --json           # machine-readable results on stdout

For each database it measures, in one run:

* ledger appends per second, one event per ``Ledger.append`` call and 100 per call;
* the same events appended through bare ``eventsourcing`` (its ``Application``
  and one small ``Aggregate`` per subject, no chain, no sealing, no rules),
  one event per ``save`` and 100 per ``save``, and the ratio ledger / bare;
* where the time of a 100-event call goes: before the transaction (parsing),
  opening it and taking the append lock, inside it (reads, rules, sealing,
  chaining, inserts) and the commit, next to the bare call's whole time;
* entries verified per second by ``Ledger.verify()`` over a ledger of
  ``--verify-entries`` entries, with the worker processes ``ledger verify``
  would use, and the ``ledger verify`` command itself, timed by the wall clock
  (process start-up included);
* issue 15: appends for ONE subject that already has 10, 1,000 and 100,000
  prior events (``--history``; ``scripts/bench_scaling.py``), and the slowdown
  against the smallest history;
* issue 15, PostgreSQL: 4 ledgers of one schema appended to at once by 4
  processes against 1 alone (``--parallel-events``; ``scripts/bench_scaling.py``);
* issue 15: space, bytes per entry per table and per index, ledger and bare
  ``eventsourcing``, at ``--space-entries`` entries (``scripts/bench_space.py``).

The ratio ledger / bare at 100 per call is printed with where the rest of the
ledger's time goes (the split above); ``--profile`` adds cProfile listings of
the 100-per-call append on both databases and of verify on SQLite.

Every measurement gets a fresh database: its own SQLite file in a temporary
folder, its own PostgreSQL schema ``bench_<random>_<what>`` (all dropped at the
end).  The workload is realistic: each event has a subject and personal values,
so pseudonymisation, key creation and sealing really happen.  Per 100 events:
50 ``ConsentGiven`` (with ``evidence`` and ``age``, personal) for new subjects
and 50 ``DataCollected`` (4 personal values) for subjects whose consent was
recorded in an earlier call.  Every event carries an ``event_id``, so the
idempotency look-up runs as it does for a producer that retries.

Speed is measured here, never asserted by the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import bench_scaling  # scripts/: this folder is on sys.path when the script runs
import bench_space
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from ledger.app.application import Ledger
from ledger.domain.policy import bundled_policy
from ledger.storage.postgres import parse_postgres_url

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 100
TARGET_RATIO = 0.50          # ledger batched appends / bare eventsourcing (issue 15)
TARGET_HISTORY = 1.5         # time per append at 100,000 prior events / at 10 (issue 15)
TARGET_PARALLEL = 1.5        # 4 ledgers at once / 1 alone, PostgreSQL (issue 15)
TARGET_SPACE = 2.0           # write side bytes per entry / bare eventsourcing (issue 15)
TARGET_VERIFY_SQLITE = 150_000  # entries per second, `ledger verify` on SQLite
CONSENT_AT = "2024-05-01T10:00:00+02:00"
COLLECT_AT = "2024-05-01T10:05:00+02:00"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- workload -------------------------------------------------------------------------
def _subject(run: str, n: int) -> str:
    return f"candidate-{run}-{n:07d}@example.org"


def _consent(run: str, n: int) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "ConsentGiven",
        "subject": _subject(run, n),
        "occurred_at": CONSENT_AT,
        "actor": "careers-site",
        "data": {"purpose": "recruitment", "method": "form", "age": 20 + n % 40,
                 "evidence": f"form:careers/apply/v3#{n:07d} sha256:{uuid.uuid4().hex}"},
    }


def _collect(run: str, n: int) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "DataCollected",
        "subject": _subject(run, n),
        "occurred_at": COLLECT_AT,
        "actor": "careers-site",
        "data": {"category": "identification_contact", "purpose": "recruitment",
                 "source": "subject",
                 "values": {"email": _subject(run, n), "last_name": "Durand",
                            "first_name": "Camille", "phone": f"+33 6 12 {n % 100:02d} 56 78"}},
    }


def workload(run: str, count: int, start: int = 0) -> list[dict[str, Any]]:
    """``count`` events from position ``start`` of an endless, valid stream.

    Stream: consents of subjects 0-49, consents 50-99, collections 0-49, consents
    100-149, collections 50-99, …  A subject's collection always comes 50 events or
    more after its consent, so any cut into calls is valid (at 100 per call the
    consent is in an earlier call).
    """
    half = BATCH // 2
    out: list[dict[str, Any]] = []
    pos = start
    while len(out) < count:
        block, i = divmod(pos, half)
        if block < 2:
            out.append(_consent(run, pos))
        elif block % 2 == 0:          # collections of the consents two blocks back
            out.append(_collect(run, (block // 2 - 1) * half + i))
        else:
            out.append(_consent(run, (block // 2 + 1) * half + i))
        pos += 1
    return out


def chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# -- the databases ------------------------------------------------------------------
class Databases:
    """Fresh databases of one kind, one per measurement, removed by :meth:`cleanup`."""

    def __init__(self, kind: str, pg_url: str, tmp: Path, run: str) -> None:
        self.kind = kind
        self.pg_url = pg_url.split("?", maxsplit=1)[0]
        self.tmp = tmp
        self.run = run
        self.schemas: list[str] = []

    def _schema(self, what: str) -> str:
        schema = f"bench_{self.run}_{what}"
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        return schema

    def ledger_url(self, what: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / f'ledger-{what}.db'}"
        return f"{self.pg_url}?schema={self._schema('l' + what)}"

    def bare_env(self, what: str) -> dict[str, str]:
        if self.kind == "sqlite":
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "SQLITE_DBNAME": str(self.tmp / f"bare-{what}.db")}
        p = parse_postgres_url(self.pg_url)
        return {"PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": p["dbname"], "POSTGRES_HOST": p["host"],
                "POSTGRES_PORT": str(p["port"]), "POSTGRES_USER": p["user"],
                "POSTGRES_PASSWORD": p["password"], "POSTGRES_SCHEMA": self._schema("b" + what),
                # The ledger keeps the library's database-function insert path off:
                # the bare application does too, so both insert with the same SQL shape.
                "POSTGRES_ENABLE_DB_FUNCTIONS": "n"}

    def cleanup(self) -> None:
        if not self.schemas:
            return
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.schemas = []


# -- the ledger -----------------------------------------------------------------------
def open_ledger(url: str, key_dir: Path) -> Ledger:
    ledger, _ = Ledger.init(url, "bench", env={"LEDGER_KEY_DIR": str(key_dir)})
    ledger.publish_policy(bundled_policy(), actor="bench")
    return ledger


def timed_appends(append: Callable[[list[dict[str, Any]]], object],
                  events: list[dict[str, Any]], per_call: int, label: str) -> float:
    """Events per second of ``append`` over ``events`` cut into calls of ``per_call``."""
    calls = list(chunks(events, per_call))
    step = max(1, len(calls) // 10)
    started = time.perf_counter()
    for i, call in enumerate(calls, start=1):
        append(call)
        if i % step == 0:
            log(f"  {label}: {i * per_call:,}/{len(events):,} events")
    elapsed = time.perf_counter() - started
    return len(events) / elapsed


class CallClock:
    """Splits the time of ``Ledger.append`` calls around the store's write transaction.

    ``store.append(fn)`` opens the transaction (taking the append lock), runs
    ``fn`` (reads, rules, sealing, chaining, inserts) and commits.  Three clock
    readings per call, so the split costs nothing measurable.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.calls = 0
        self.total = self.begin = self.body = self.commit = 0.0
        store = ledger.store
        inner = store.append

        def timed_append(fn: Callable[[Any], Any]) -> Any:
            marks: list[float] = []

            def body(tx: Any) -> Any:
                marks.append(time.perf_counter())
                try:
                    return fn(tx)
                finally:
                    marks.append(time.perf_counter())

            t0 = time.perf_counter()
            out = inner(body)
            t1 = time.perf_counter()
            self.begin += marks[0] - t0
            self.body += marks[1] - marks[0]
            self.commit += t1 - marks[1]
            return out

        store.append = timed_append
        outer = ledger.append

        def timed_call(raws: list[dict[str, Any]]) -> Any:
            t0 = time.perf_counter()
            out = outer(raws)
            self.total += time.perf_counter() - t0
            self.calls += 1
            return out

        self.append = timed_call

    def split_ms(self) -> dict[str, float]:
        n = max(1, self.calls)
        outside = self.total - self.begin - self.body - self.commit
        return {"calls": self.calls, "per_call_ms": 1000 * self.total / n,
                "before_tx_ms": 1000 * outside / n, "begin_lock_ms": 1000 * self.begin / n,
                "in_tx_ms": 1000 * self.body / n, "commit_ms": 1000 * self.commit / n}


def ledger_appends(url: str, key_dir: Path, run: str, count: int, *, per_call: int,
                   label: str) -> tuple[float, Ledger, dict[str, float]]:
    ledger = open_ledger(url, key_dir)
    warm = workload(run, BATCH)              # a first call outside the clock
    ledger.append(warm[:per_call])
    events = workload(run, count, start=per_call)
    clock = CallClock(ledger)
    rate = timed_appends(clock.append, events, per_call, label)
    return rate, ledger, clock.split_ms()


# -- bare eventsourcing ---------------------------------------------------------------
class BareSubject(Aggregate):
    """One aggregate per subject; each event carries the raw event as its payload."""

    @event("Recorded")
    def __init__(self, record: dict[str, Any]) -> None:
        self.count = 1

    @event("Appended")
    def append(self, record: dict[str, Any]) -> None:
        self.count += 1


class BareApp(Application[uuid.UUID]):
    """The library's application, as it comes (no snapshots)."""


class BareWriter:
    """Turns the ledger's raw events into aggregate events and saves them."""

    def __init__(self, env: dict[str, str]) -> None:
        self.app = BareApp(env=env)
        self.subjects: dict[str, BareSubject] = {}

    def append(self, raws: list[dict[str, Any]]) -> None:
        touched: dict[str, BareSubject] = {}
        for raw in raws:
            subject = raw["subject"]
            agg = self.subjects.get(subject)
            if agg is None:
                agg = self.subjects[subject] = BareSubject(raw)
            else:
                agg.append(raw)
            touched[subject] = agg
        self.app.save(*touched.values())

    def close(self) -> None:
        self.app.close()


def bare_appends(env: dict[str, str], run: str, count: int, per_call: int,
                 label: str) -> float:
    writer = BareWriter(env)
    try:
        writer.append(workload(run, BATCH)[:per_call])
        events = workload(run, count, start=per_call)
        return timed_appends(writer.append, events, per_call, label)
    finally:
        writer.close()


def sqlite_pragmas(path: str) -> dict[str, Any]:
    """The bare file's journal mode, and the synchronous level a connection gets by default

    (the library sets no ``synchronous`` pragma; the ledger sets FULL on every connection).
    """
    conn = sqlite3.connect(path)
    try:
        levels = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        sync = conn.execute("PRAGMA synchronous").fetchone()[0]
        return {"journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
                "synchronous": levels.get(sync, str(sync))}
    finally:
        conn.close()


# -- verification -----------------------------------------------------------------------
def grow(ledger: Ledger, run: str, start: int, target: int, label: str) -> None:
    """Append 100-event calls until the ledger holds ``target`` entries."""
    have, _ = ledger.head()
    pos = start
    step = max(1, target // 10)
    next_report = (have // step + 1) * step
    while have < target:
        n = min(BATCH, target - have)
        ledger.append(workload(run, n, start=pos))
        pos += n
        have += n
        if have >= next_report or have == target:
            log(f"  {label}: {have:,}/{target:,} entries")
            next_report += step


def timed_verify(ledger: Ledger) -> tuple[float, int]:
    """``Ledger.verify`` with the workers ``ledger verify`` would use (import-safe script)."""
    started = time.perf_counter()
    result = ledger.verify(spawn=True)
    elapsed = time.perf_counter() - started
    if not result.ok:
        raise SystemExit(f"verification failed: {result.reason} at {result.first_bad_seq}")
    return result.entries / elapsed, result.entries


def cli_verify(url: str, key_dir: Path, rounds: int) -> dict[str, Any]:
    """``ledger verify`` in a subprocess, wall clock including the interpreter's start-up.

    Run ``rounds`` times; the median is reported.  No key is given: verifying needs none.
    """
    # The working folder is the temporary one, so that a mistake can never touch a
    # ledger.db of the repository.
    command = [str(Path(sys.executable).parent / "ledger"), "verify", "--db", url,
               "--ledger", "bench", "--json"]
    env = {k: v for k, v in os.environ.items()
           if k not in ("LEDGER_KEY_DIR", "LEDGER_MASTER_KEY")}
    times, entries = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                              cwd=key_dir.parent)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"ledger verify failed ({done.returncode}): "
                             f"{done.stderr}{done.stdout}")
        entries = json.loads(done.stdout)["entries"]
    started = time.perf_counter()
    subprocess.run([command[0], "--version"], capture_output=True, check=True,
                   cwd=key_dir.parent)
    startup = time.perf_counter() - started
    seconds = statistics.median(times)
    return {"entries": entries, "seconds": seconds, "per_s": entries / seconds,
            "rounds_s": times, "startup_s": startup}


# -- profiles -------------------------------------------------------------------------
def profile(fn: Callable[[], object], top: int) -> str:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    out.write("   … and by own time (tottime), where the time is actually spent:\n")
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def run_profiles(tmp: Path, run: str, events: int, verify_ledger: Ledger | None,
                 top: int, *, pg_url: str | None) -> dict[str, str]:
    log("profile: ledger appends, 100 per call, SQLite")
    url = f"sqlite:///{tmp / 'ledger-profile.db'}"
    ledger = open_ledger(url, tmp / "keys-profile")
    try:
        ledger.append(workload(run + "p", BATCH))
        calls = list(chunks(workload(run + "p", events, start=BATCH), BATCH))
        out = {"append_100": profile(lambda: [ledger.append(c) for c in calls], top)}
        log("profile: verify, SQLite")
        target = verify_ledger or ledger
        out["verify"] = profile(target.verify, top)
    finally:
        ledger.close()
    if pg_url is not None:
        log("profile: ledger appends, 100 per call, PostgreSQL")
        dbs = Databases("postgres", pg_url, tmp, run)
        ledger = open_ledger(dbs.ledger_url("profile"), tmp / "keys-profile-pg")
        try:
            ledger.append(workload(run + "q", BATCH))
            calls = list(chunks(workload(run + "q", events, start=BATCH), BATCH))
            out["append_100_postgres"] = profile(lambda: [ledger.append(c) for c in calls],
                                                 top)
        finally:
            ledger.close()
            dbs.cleanup()
    return out


# -- issue 15: history, several ledgers, space ---------------------------------------
def _schema_of(url: str) -> str:
    return url.split("schema=", 1)[1]


def measure_space(dbs: Databases, keys: Path, run: str, entries: int) -> dict[str, Any]:
    """A ledger and a bare application filled to ``entries``; bytes per entry per b-tree."""
    kind = dbs.kind
    if kind == "sqlite" and not bench_space.has_dbstat():
        raise SystemExit("this Python's sqlite3 has no dbstat table: use --space-entries 0")
    url = dbs.ledger_url("space")
    ledger = open_ledger(url, keys)
    try:
        grow(ledger, run + "s", 0, entries, f"{kind} space, ledger")
    finally:
        ledger.close()
    env = dbs.bare_env("space")
    writer = BareWriter(env)
    try:
        for i, call in enumerate(chunks(workload(run + "s", entries), BATCH), start=1):
            writer.append(call)
            if i % max(1, entries // BATCH // 5) == 0:
                log(f"  {kind} space, bare: {i * BATCH:,}/{entries:,} events")
    finally:
        writer.close()
    if kind == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        led = bench_space.sqlite_btrees(path)
        bare = bench_space.sqlite_btrees(Path(env["SQLITE_DBNAME"]))
        cols = bench_space.sqlite_columns(path, "ledger_events", bench_space.EVENT_COLUMNS)
    else:
        led = bench_space.pg_relations(dbs.pg_url, _schema_of(url))
        bare = bench_space.pg_relations(dbs.pg_url, env["POSTGRES_SCHEMA"])
        cols = bench_space.pg_columns(dbs.pg_url, _schema_of(url), "ledger_events",
                                      bench_space.EVENT_COLUMNS)
    led, bare = bench_space.per_entry(led, entries), bench_space.per_entry(bare, entries)
    return {"entries": entries, "ledger": led, "bare": bare, "event_columns": cols,
            "summary": bench_space.summary(led, bare)}


def measure_history(dbs: Databases, keys: Path, sizes: list[int], budget_s: float) \
        -> dict[str, Any]:
    return bench_scaling.history(dbs.ledger_url, {"LEDGER_KEY_DIR": str(keys)}, sizes,
                                 label=dbs.kind, budget_s=budget_s)


# -- one database -----------------------------------------------------------------------
def measure_appends(dbs: Databases, keys: Path, run: str, *, per_call: int, count: int,
                    rounds: int) -> tuple[dict[str, Any], Ledger, str]:
    """Bare then ledger, ``rounds`` times on fresh databases; the last ledger stays open."""
    kind = dbs.kind
    bare_rates, ledger_rates = [], []
    splits: list[dict[str, float]] = []

    def one_round(r: int) -> tuple[Ledger, str]:
        tag = f"{per_call}r{r}"
        log(f"{kind}: round {r}/{rounds}, {per_call} per call, bare eventsourcing")
        bare_rates.append(bare_appends(dbs.bare_env(tag), run, count, per_call,
                                       f"{kind} bare x{per_call}"))
        log(f"{kind}: round {r}/{rounds}, {per_call} per call, ledger")
        url = dbs.ledger_url(tag)
        rate, ledger, split = ledger_appends(url, keys, run, count, per_call=per_call,
                                             label=f"{kind} ledger x{per_call}")
        ledger_rates.append(rate)
        splits.append(split)
        return ledger, url

    for r in range(1, rounds):
        one_round(r)[0].close()
    ledger, url = one_round(rounds)
    led, bare = statistics.median(ledger_rates), statistics.median(bare_rates)
    split = {k: statistics.median(sp[k] for sp in splits) for k in splits[0]}
    split["bare_per_call_ms"] = 1000 * per_call / bare
    return ({"events": count, "ledger_per_s": led, "bare_per_s": bare, "ratio": led / bare,
             "ledger_rounds": ledger_rates, "bare_rounds": bare_rates,
             "ledger_split_ms": split}, ledger, url)


def bench_database(kind: str, args: argparse.Namespace, tmp: Path, run: str) \
        -> tuple[dict[str, Any], Ledger | None]:
    """Every measurement on one kind of database; the SQLite verify ledger stays open."""
    dbs = Databases(kind, args.pg_url, tmp, run)
    keys = tmp / f"keys-{kind}"
    res: dict[str, Any] = {"database": kind}
    try:
        if args.history:
            res["history"] = measure_history(dbs, keys, args.history, args.history_budget)
        if kind == "postgres" and args.parallel_events:
            events = args.parallel_events

            def calls(name: str) -> list[list[dict[str, Any]]]:
                tag = f"{run}{name}"
                return [workload(tag, BATCH),
                        *chunks(workload(tag, events, start=BATCH), BATCH)]

            res["parallel"] = bench_scaling.parallel(dbs.ledger_url("par"), keys, events,
                                                     calls)
        if args.space_entries:
            log(f"{kind}: space at {args.space_entries:,} entries")
            res["space"] = measure_space(dbs, keys, run, args.space_entries)
        res["append_1"], ledger, _ = measure_appends(
            dbs, keys, run, per_call=1, count=args.single_events, rounds=args.rounds)
        ledger.close()
        res["append_100"], ledger, url = measure_appends(
            dbs, keys, run, per_call=BATCH, count=args.events, rounds=args.rounds)
        try:
            log(f"{kind}: growing the last 100-per-call ledger to "
                f"{args.verify_entries:,} entries")
            grow(ledger, run, BATCH + args.events, args.verify_entries, f"{kind} build")
            rates, entries = [], 0
            for r in range(1, args.rounds + 1):
                log(f"{kind}: verify, round {r}/{args.rounds}")
                rate, entries = timed_verify(ledger)
                rates.append(rate)
            res["verify"] = {"entries": entries, "per_s": statistics.median(rates),
                             "rounds": rates}
            log(f"{kind}: `ledger verify` (subprocess)")
            res["cli_verify"] = cli_verify(url, keys, args.rounds)
            if kind == "sqlite":
                path = Path(url.removeprefix("sqlite:///"))
                ledger.store.checkpoint_wal()      # the WAL folded into the file first
                res["sqlite_bytes_per_entry"] = path.stat().st_size / entries
                bare = Path(dbs.bare_env(f"{BATCH}r1")["SQLITE_DBNAME"])  # closed: WAL folded
                res["sqlite_bare_bytes_per_event"] = bare.stat().st_size / (args.events + BATCH)
                res["bare_sqlite"] = sqlite_pragmas(dbs.bare_env("1r1")["SQLITE_DBNAME"])
                return res, ledger      # kept open for the profile of verify
        except BaseException:
            ledger.close()
            raise
        ledger.close()
    finally:
        dbs.cleanup()
    return res, None


# -- output ---------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": model or platform.processor(),
            "python": platform.python_version(), "eventsourcing": metadata.version("eventsourcing"),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform()}


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def verdicts(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        ratio = r["append_100"]["ratio"]
        out.append({"target": f"{r['database']}: ledger 100/call >= {TARGET_RATIO:.0%} of bare",
                    "value": f"{ratio:.0%}", "met": ratio >= TARGET_RATIO})
        hist = r.get("history")
        if hist and len(hist["rows"]) > 1:
            first, last = hist["rows"][0], hist["rows"][-1]
            for key, what in (("append_1", "1 per call"), ("append_100", "100 per call")):
                slow = last[key]["slowdown"]
                out.append({"target": f"{r['database']}: appends for a subject with "
                            f"{last['history']:,} prior events within {TARGET_HISTORY}x of "
                            f"{first['history']:,} ({what})", "value": f"{slow:.2f}x",
                            "met": slow <= TARGET_HISTORY})
        if "parallel" in r:
            par = r["parallel"]
            out.append({"target": f"postgres: {par['processes']} ledgers at once >= "
                        f"{TARGET_PARALLEL}x one alone (aggregate appends/s)",
                        "value": f"{par['ratio']:.2f}x", "met": par["ratio"] >= TARGET_PARALLEL})
        if "space" in r:
            sp = r["space"]["summary"]
            out.append({"target": f"{r['database']}: write side <= {TARGET_SPACE}x bare "
                        f"bytes per entry (at {r['space']['entries']:,})",
                        "value": f"{sp['ratio_write_side']:.2f}x "
                        f"({sp['ledger_write_side']:,.0f} vs {sp['bare_all']:,.0f} B)",
                        "met": sp["ratio_write_side"] <= TARGET_SPACE})
        if r["database"] == "sqlite":
            cli = r["cli_verify"]["per_s"]
            out.append({"target": f"sqlite: `ledger verify` >= {TARGET_VERIFY_SQLITE:,} entries/s",
                        "value": f"{cli:,.0f}/s (in-process {r['verify']['per_s']:,.0f}/s)",
                        "met": cli >= TARGET_VERIFY_SQLITE})
    return out


def _history_lines(db: str, hist: dict[str, Any] | None) -> list[str]:
    if not hist:
        return []
    out = []
    for h in hist["rows"]:
        for key, what in (("append_1", "1/call"), ("append_100", "100/call")):
            a = h[key]
            label = f"appends/s, {what}, {h['history']:,} prior"
            rate = f"{a['per_s']:,.0f}" if a["per_s"] >= 100 else f"{a['per_s']:.2f}"
            out.append(f"{db:<10} {label:<34} {rate:>12} {'':>12} "
                       f"{a['slowdown']:>6.2f}x  (slowdown vs {hist['rows'][0]['history']:,};"
                       f" {a['calls']} calls, median {a['median_call_ms']:.1f} ms)")
    return out


def table(report: dict[str, Any]) -> str:
    lines = []
    m = report["machine"]
    lines.append(f"machine: {m['nproc']} CPU, {m['cpu']}; Python {m['python']}; "
                 f"eventsourcing {m['eventsourcing']}; SQLite {m['sqlite']}")
    head = f"{'database':<10} {'measure':<34} {'ledger':>12} {'bare es':>12} {'ratio':>7}"
    lines += ["", head, "-" * len(head)]
    for r in report["results"]:
        db = r["database"]
        for per_call in (1, BATCH):
            a = r[f"append_{per_call}"]
            what = f"appends/s, {per_call} per call ({a['events']:,} ev)"
            lines.append(f"{db:<10} {what:<34} {a['ledger_per_s']:>12,.0f} "
                         f"{a['bare_per_s']:>12,.0f} {a['ratio']:>7.0%}")
        sp = r[f"append_{BATCH}"]["ledger_split_ms"]
        lines.append(f"{db:<10} {'  ms per 100-event call, ledger:':<34} {sp['per_call_ms']:>12.1f}"
                     f" {sp['bare_per_call_ms']:>12.1f}  (bare)")
        lines.append(f"{'':<10}   = parse {sp['before_tx_ms']:.1f} + begin/lock "
                     f"{sp['begin_lock_ms']:.1f} + in transaction {sp['in_tx_ms']:.1f} "
                     f"+ commit {sp['commit_ms']:.1f}")
        extra = sp["per_call_ms"] - sp["bare_per_call_ms"]
        lines.append(f"{'':<10}   where the rest goes: the ledger's call takes {extra:.1f} ms "
                     "more than bare; the parts above say where (--profile: which functions)")
        lines += _history_lines(db, r.get("history"))
        if "parallel" in r:
            par = r["parallel"]
            lines.append(f"{db:<10} {'appends/s, 4 ledgers at once':<34} "
                         f"{par['together_per_s']:>12,.0f} {par['alone_per_s']:>12,.0f} "
                         f"{par['ratio']:>6.2f}x  (vs 1 alone; 100 per call)")
        if "space" in r:
            lines += bench_space.lines(db, r["space"])
        v = r["verify"]
        lines.append(f"{db:<10} {'verify entries/s (' + format(v['entries'], ',') + ')':<34} "
                     f"{v['per_s']:>12,.0f}")
        if "sqlite_bytes_per_entry" in r:
            lines.append(f"{db:<10} {'database file bytes per entry':<34} "
                         f"{r['sqlite_bytes_per_entry']:>12,.0f} "
                         f"{r['sqlite_bare_bytes_per_event']:>12,.0f}")
        if "cli_verify" in r:
            c = r["cli_verify"]
            lines.append(f"{db:<10} {'`ledger verify` entries/s, wall':<34} {c['per_s']:>12,.0f}"
                         f"   ({c['seconds']:.2f} s incl. {c['startup_s']:.2f} s start-up)")
    lines += ["", "targets:"]
    for v in report["targets"]:
        lines.append(f"  {v['target']}: {v['value']} -> {_met(v['met'])}")
    for name, text in report.get("profiles", {}).items():
        where = "PostgreSQL" if name.endswith("_postgres") else "SQLite"
        why = "; where the ledger's time above the bare call goes" \
            if name.startswith("append") else ""
        lines += ["", f"profile {name} ({where}{why}):", text.rstrip()]
    return "\n".join(lines)


# -- main -----------------------------------------------------------------------------
def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(x.replace("_", "")) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of sizes: {text!r}") from None
    if any(n < 0 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive")
    return [n for n in sizes if n > 0]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small sizes (smoke run, under a minute)")
    p.add_argument("--only", choices=("sqlite", "postgres"), help="one database only")
    p.add_argument("--pg-url", default=os.environ.get("LEDGER_BENCH_PG_URL", DEFAULT_PG_URL),
                   help=f"PostgreSQL server and database (default {DEFAULT_PG_URL}); a "
                        "fresh schema is created and dropped")
    p.add_argument("--events", type=int, help="events appended at 100 per call "
                   "(default 20,000; --quick 1,000)")
    p.add_argument("--single-events", type=int, help="events appended at 1 per call "
                   "(default 5,000; --quick 200): every call is one committed transaction")
    p.add_argument("--verify-entries", type=int, help="entries of the ledger verified "
                   "(default 200,000; --quick 5,000)")
    p.add_argument("--rounds", type=int, help="repetitions of each measurement, each on a "
                   "fresh database; the median is reported (default 3; --quick 1)")
    p.add_argument("--history", type=_sizes, help="prior events of ONE subject before its "
                   "appends are timed, comma-separated (default 10,1000,100000; --quick "
                   "10,1000; 0 skips)")
    p.add_argument("--history-budget", type=float, help="seconds spent timing each history "
                   "case, at least 3 calls (default 5; --quick 1)")
    p.add_argument("--parallel-events", type=int, help="events each of 4 PostgreSQL ledgers "
                   "appends at once, and 1 alone (default 5,000; --quick 300; 0 skips)")
    p.add_argument("--space-entries", type=int, help="entries of the ledger and the bare "
                   "application whose bytes per table and index are measured "
                   "(default 100,000; --quick 2,000; 0 skips)")
    p.add_argument("--profile", action="store_true", help="also cProfile the 100-per-call "
                   "append (both databases) and verify (SQLite); print the top entries")
    p.add_argument("--profile-events", type=int, default=5000,
                   help="events appended under the profiler (default 5,000)")
    p.add_argument("--top", type=int, default=15, help="profile lines shown (default 15)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--json-out", metavar="FILE", help="also write the results as JSON to FILE")
    args = p.parse_args(argv)
    quick = args.quick
    args.events = args.events or (1000 if quick else 20_000)
    args.single_events = args.single_events or (200 if quick else 5000)
    args.rounds = args.rounds or (1 if quick else 3)
    args.verify_entries = args.verify_entries or (5000 if quick else 200_000)
    if args.history is None:
        args.history = [10, 1000] if quick else [10, 1000, 100_000]
    if args.history_budget is None:
        args.history_budget = 1.0 if quick else 5.0
    if args.parallel_events is None:
        args.parallel_events = 300 if quick else 5000
    if args.space_entries is None:
        args.space_entries = 2000 if quick else 100_000
    if args.quick:
        args.profile_events = min(args.profile_events, 1000)
    if min(args.events, args.single_events, args.rounds) < 1:
        p.error("sizes must be positive")
    args.verify_entries = max(args.verify_entries, args.events + 2 * BATCH)
    return args


def check_pg(url: str) -> dict[str, str]:
    """The server's version and durability settings; exits when it does not answer."""
    try:
        with psycopg.connect(url.split("?", maxsplit=1)[0], connect_timeout=5) as conn:
            return {name: str(conn.execute(f"SHOW {name}").fetchone()[0])
                    for name in ("server_version", "fsync", "synchronous_commit")}
    except psycopg.Error as exc:
        parts = urlsplit(url)
        raise SystemExit(f"PostgreSQL unreachable at {parts.hostname}:{parts.port}: {exc} "
                         "(use --only sqlite to skip it)") from None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    kinds = [args.only] if args.only else ["sqlite", "postgres"]
    pg = check_pg(args.pg_url) if "postgres" in kinds else None
    run = uuid.uuid4().hex[:10]
    report: dict[str, Any] = {
        "machine": machine(),
        "command": "scripts/bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "settings": {"events_100_per_call": args.events,
                     "events_1_per_call": args.single_events,
                     "verify_entries": args.verify_entries, "rounds": args.rounds,
                     "history": args.history, "parallel_events": args.parallel_events,
                     "space_entries": args.space_entries,
                     "postgres_enable_db_functions": False,
                     "sqlite_ledger": "WAL, synchronous=FULL, secure_delete=ON",
                     "sqlite_bare": "library defaults (see results: bare_sqlite)",
                     "postgres_server": pg},
        "results": [],
    }
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    verify_ledger: Ledger | None = None
    try:
        for kind in kinds:
            res, led = bench_database(kind, args, tmp, run)
            report["results"].append(res)
            if led is not None:
                verify_ledger = led
        if args.profile:
            report["profiles"] = run_profiles(tmp, run, args.profile_events, verify_ledger,
                                              args.top,
                                              pg_url=args.pg_url if "postgres" in kinds else None)
    finally:
        if verify_ledger is not None:
            verify_ledger.close()
        shutil.rmtree(tmp, ignore_errors=True)
    report["targets"] = verdicts(report["results"])
    report["seconds"] = round(time.perf_counter() - started, 1)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(table(report))
        print(f"\n({report['seconds']:.0f} s; {report['command']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
