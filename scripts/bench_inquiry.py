"""Time ``ledger inquiry`` (issue 11): for the demo's day, and for a big ledger with a
one-month scope.

The big ledger is built once at ``--path`` (an SQLite file, its key folder beside it)
and kept between runs: ``--entries`` events spread evenly over ``--months`` months from
1 January 2026, recorded as they happen (the ledger's clock follows ``occurred_at``, as in
a ledger that lived through that year).  Per 100 events: 40 consents given and 10
refused (cookie banner, new visitors), 40 collections of contact data and 9 disclosures
to the sales team (contact requests), 1 access request.  Then::

    scripts/bench --inquiry                       # 1,000,000 events; March, December
    .venv/bin/python scripts/bench_inquiry.py --entries 50000 --path /tmp/inq.db

Each pack is built by the command, as a DPO runs it (wall clock, the interpreter's
start-up included), first with ``--no-pdf``, then with the PDF; the projections are
caught up first (timed apart: they follow the ledger as it grows, a pack reads them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ledger.app.application import Ledger
from ledger.domain.policy import bundled_policy
from projections.inquiry import build as building
from projections.inquiry import sections
from projections.inquiry.scope import Scope
from projections.queries import Reader

ROOT = Path(__file__).resolve().parent.parent
LEDGER = str(Path(sys.executable).with_name("ledger"))
START = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 100


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _events(n0: int, step: timedelta) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for k in range(BATCH):
        n = n0 + k
        at = (START + step * n).isoformat()
        visitor = f"visitor:{n:08d}"
        base = {"event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-inquiry/{n}")),
                "occurred_at": at}
        if k < 40:
            out.append({**base, "type": "ConsentGiven", "subject": visitor,
                        "actor": "web:cookie-banner",
                        "data": {"purpose": "cookies_audience", "method": "banner"}})
        elif k < 50:
            out.append({**base, "type": "ConsentRefused", "subject": visitor,
                        "actor": "web:cookie-banner",
                        "data": {"purpose": "cookies_audience", "method": "banner"}})
        elif k < 90:
            out.append({**base, "type": "DataCollected", "subject": f"contact{n:08d}@ex.fr",
                        "actor": "web:contact-form", "data": {
                            "category": "identification_contact",
                            "purpose": "contact_requests", "source": "subject",
                            "values": {"email": f"contact{n:08d}@ex.fr", "last_name": "Nom"}}})
        elif k < 99:
            out.append({**base, "type": "DataDisclosed",
                        "subject": f"contact{n - 40:08d}@ex.fr", "actor": "web:contact-form",
                        "data": {"recipient": "sales_team", "recipient_kind": "internal",
                                 "country": "FR", "categories": ["identification_contact"],
                                 "purpose": "contact_requests"}})
        else:
            out.append({**base, "type": "RightsRequestReceived",
                        "subject": f"contact{n - 50:08d}@ex.fr", "actor": "dpo:bench",
                        "data": {"request_id": f"R-{n:08d}", "right": "access",
                                 "channel": "email"}})
    return out


def build(url: str, env: dict[str, str], entries: int, months: int) -> dict[str, Any]:
    ledger, _ = Ledger.init(url, "main", env=env)
    try:
        have, _ = ledger.head()
        step = timedelta(days=30.4 * months) / entries
        if have == 0:
            ledger.clock = lambda: START - timedelta(days=1)
            ledger.publish_policy(bundled_policy(), actor="bench")
            have = 1
        started = time.perf_counter()
        n = (have - 1) // BATCH * BATCH
        while have < entries:
            batch = _events(n, step)
            last = START + step * (n + BATCH - 1) + timedelta(seconds=1)
            ledger.clock = lambda last=last: last  # type: ignore[misc]
            ledger.append(batch, default_actor="bench")
            n += BATCH
            have, _ = ledger.head()
            if n % 100_000 == 0:
                log(f"  big ledger: {have:,}/{entries:,} entries")
        head, _ = ledger.head()
    finally:
        ledger.close()
    return {"entries": head, "build_seconds": round(time.perf_counter() - started, 1)}


def timed(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([LEDGER, *args], env=env, capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"ledger {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return round(elapsed, 2)


def catch_up(url: str, env: dict[str, str]) -> float:
    """Bring every projection up to date (once; a pack reads them)."""
    started = time.perf_counter()
    with Reader(url, "main", env=env) as r:
        r.fresh()
    return round(time.perf_counter() - started, 2)


def stages(url: str, env: dict[str, str], start: str, end: str, tmp: Path) -> dict[str, float]:
    """Where the time goes: ``build_pack`` in process, each stage timed (no PDF)."""
    spent: dict[str, float] = {}
    originals: list[tuple[Any, str, Any]] = []

    def timing(module: Any, name: str) -> None:
        fn = getattr(module, name)
        originals.append((module, name, fn))

        def timed_fn(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name.strip("_")] = round(time.perf_counter() - t0, 2)
        setattr(module, name, timed_fn)
    for name in ("gather", "write_evidence", "render_report", "write_spreadsheets"):
        timing(building, name)
    for name in ("_record", "_consent", "_retention", "_requests", "_breaches",
                 "_disclosures", "_accesses"):
        timing(sections, name)
    started = time.perf_counter()
    try:
        with Reader(url, "main", env=env) as r:
            scope = Scope.parse(start=start, end=end, zone=r.time_zone)
            building.build_pack(r, scope, tmp / f"stages-{start}", pdf=False)
    finally:
        for module, name, fn in originals:  # each call times its own stages only
            setattr(module, name, fn)
    spent["total"] = round(time.perf_counter() - started, 2)
    return spent


def packs(env: dict[str, str], start: str, end: str, tmp: Path, label: str,
          *extra: str) -> dict[str, Any]:
    """Three packs: HTML only, with the PDF, and the offline check of the first."""
    out: dict[str, Any] = {}
    for name, flags in (("no_pdf", ("--no-pdf",)), ("with_pdf", ())):
        folder = tmp / f"{label}-{name}"
        out[f"inquiry_{name}_s"] = timed(env, "inquiry", "-o", str(folder), "--from", start,
                                         "--to", end, "--reference", "BENCH", *flags, *extra)
    folder = tmp / f"{label}-no_pdf"
    out["verify_inquiry_s"] = timed(env, "verify", "--inquiry", str(folder))
    out["evidence_entries"] = sum(1 for _ in (folder / "evidence" / "entries.jsonl").open())
    out["proofs"] = sum(1 for _ in (folder / "evidence" / "proofs.jsonl").open())
    out["figures"] = len(json.loads((folder / "figures.json").read_text())["figures"])
    log(f"  {label}: {out}")
    return out


def demo(tmp: Path) -> dict[str, Any]:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "demo_day.py"), str(tmp / "day")],
                   check=True, capture_output=True)
    env = {**os.environ, "LEDGER_DATABASE_URL": f"sqlite:///{tmp}/demo.db",
           "LEDGER_KEY_DIR": str(tmp / "demo.keys"), "LEDGER_ACTOR": "bench"}
    timed(env, "init")
    timed(env, "policy", "publish", "bundled")
    timed(env, "append", str(tmp / "day" / "day.jsonl"))
    return packs(env, "2026-03-01", "2026-03-31", tmp, "demo")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/bench_inquiry.py",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--months", type=int, default=12)
    p.add_argument("--path", default="bench-data/inquiry.db")
    p.add_argument("--scope", action="append", metavar="FROM..TO",
                   help="a period of the big ledger to pack (repeatable; default: March, "
                   "whose evidence runs to the head, and December, the last month)")
    p.add_argument("--json-out", metavar="FILE")
    args = p.parse_args(argv)
    db = Path(args.path)
    db.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{db}"
    env = {**os.environ, "LEDGER_DATABASE_URL": url,
           "LEDGER_KEY_DIR": str(db.with_suffix(".keys")), "LEDGER_ACTOR": "bench"}
    report: dict[str, Any] = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    tmp = Path(tempfile.mkdtemp(prefix="bench-inquiry-"))
    try:
        log("demo day")
        report["demo"] = demo(tmp)
        log(f"big ledger at {db} ({args.entries:,} entries over {args.months} months)")
        report["big"] = build(url, {"LEDGER_KEY_DIR": env["LEDGER_KEY_DIR"]}, args.entries,
                              args.months)
        report["big"]["projections_catch_up_s"] = catch_up(url, env)
        for scope in args.scope or ["2026-03-01..2026-03-31", "2026-12-01..2026-12-31"]:
            start, end = scope.split("..")
            report["big"][scope] = packs(env, start, end, tmp, f"big-{start}")
            report["big"][scope]["stages_s"] = stages(url, env, start, end, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = json.dumps(report, indent=1)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
