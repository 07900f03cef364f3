"""Synchronous replication: kill -9 of the primary under load, promotion of the standby,
and every acknowledged event is there (scripts/pg-replica; tests/replica_kit.py).

Database ``test`` of the pair commits with ``synchronous_standby_names = 'FIRST 1
(ledger_standby)'`` and ``synchronous_commit = remote_apply`` (docs/OPERATIONS.md,
"Scaling out"): an append returns only once the standby has replayed it.  Each trial:
writers append on the primary, the primary's processes are killed (SIGKILL) at a random
moment, the standby is promoted, and on it every acknowledged event is found at its seq
with its hash, the chain verifies, and it takes appends; then the pair is rebuilt
(``scripts/pg-replica reset``).  ``LEDGER_FAILOVER_TRIALS`` trials (default 10).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from ledger.app.application import Ledger
from tests.helpers import consent
from tests.replica_kit import PRIMARY, new_ledger, pair_urls, require_pair, run_script, sql

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TRIALS = int(os.environ.get("LEDGER_FAILOVER_TRIALS", "10"))
WRITERS = 3


def _writer(url: str, env: dict[str, str], tag: str, acked: list[tuple[int, str, str]],
            stop: threading.Event) -> None:
    try:
        led = Ledger.open(url, env=env)
    except Exception:  # noqa: BLE001 - the primary may already be gone
        return
    n = 0
    try:
        while not stop.is_set():
            event = consent(f"{tag}-{n}@example.org")
            event["event_id"] = str(uuid.uuid4())
            receipt = led.append([event])[0]  # returned: acknowledged
            acked.append((receipt.seq, receipt.event_id, receipt.hash))
            n += 1
    except Exception:  # noqa: BLE001, S110 - the primary was killed: the writer stops
        pass
    finally:
        with suppress(Exception):  # closing a pool whose server died
            led.close()


def _trial(number: int, keys: Path, made: list[str]) -> dict[str, Any]:
    env = {"LEDGER_KEY_DIR": str(keys / f"trial{number}")}
    with pair_urls("test") as (primary_url, standby_url):
        made.append(primary_url.rsplit("schema=", 1)[1])  # dropped after the reset
        new_ledger(primary_url, env).close()
        acked: list[tuple[int, str, str]] = []
        stop = threading.Event()
        threads = [threading.Thread(target=_writer, args=(
            primary_url, env, f"t{number}w{w}", acked, stop)) for w in range(WRITERS)]
        for t in threads:
            t.start()
        time.sleep(random.uniform(0.4, 1.2))  # a random moment
        killed = run_script("kill-primary")
        assert killed.returncode == 0, killed.stderr
        for t in threads:
            t.join(timeout=60)
        stop.set()
        assert not any(t.is_alive() for t in threads)
        promoted = run_script("promote")
        assert promoted.returncode == 0, promoted.stderr
        with Ledger.open(standby_url, env=env) as led:
            stored = {row.seq: (row.event_id, row.hash) for row in led.store.entries()}
            found = sum(1 for seq, eid, h in acked if stored.get(seq) == (eid, h))
            result = led.verify()
            after = led.append([consent(f"t{number}-after@example.org")])[0]
            again = led.verify()
    return {"trial": number, "acknowledged": len(acked), "found": found,
            "lost": len(acked) - found, "verified": result.ok and again.ok,
            "entries_after_promotion": result.entries, "append_after": after.seq}


def test_kill_primary_under_load_promote_standby_no_acknowledged_event_lost(
        tmp_path: Path) -> None:
    require_pair()
    keys = tmp_path / "keys"
    started = time.monotonic()
    trials = []
    try:
        for number in range(TRIALS):
            made: list[str] = []
            try:
                trials.append(_trial(number, keys, made))
            finally:
                reset = run_script("reset")
                assert reset.returncode == 0, reset.stderr
                for schema in made:  # the old primary was down when the trial ended
                    sql(f"{PRIMARY}/test", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        summary = {"trials": trials, "seconds": round(time.monotonic() - started, 1),
                   "acknowledged": sum(t["acknowledged"] for t in trials),
                   "found": sum(t["found"] for t in trials),
                   "lost": sum(t["lost"] for t in trials)}
        print("failover:", json.dumps(summary))  # the closing note's figures
    assert len(trials) == TRIALS >= 1
    for t in trials:
        assert t["acknowledged"] > 0, t  # the kill did happen under load
        assert t["lost"] == 0, t
        assert t["verified"], t
        assert t["entries_after_promotion"] >= max(1, t["found"]), t
