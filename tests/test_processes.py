"""Several processes at once, and a process killed mid-append (both databases)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.app.application import Ledger

ROOT = Path(__file__).resolve().parent.parent


def worker(url: str, key_dir: str, count: int, tag: str, batch: int = 1) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.worker", url, key_dir, str(count), tag, str(batch)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)})


@pytest.mark.slow
def test_four_processes_append_500_each(ledger: Ledger, db_url: str,
                                        env: dict[str, str]) -> None:
    procs = [worker(db_url, env["LEDGER_KEY_DIR"], 500, f"p{i}") for i in range(4)]
    acknowledged = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        acknowledged += [json.loads(line) for line in out.splitlines()]
    assert len(acknowledged) == 2000
    seqs = sorted(r["seq"] for r in acknowledged)
    assert seqs == list(range(2, 2002))  # after the policy at seq 1: no gap, no repeat
    result = ledger.verify()
    assert result.ok and result.entries == 2001
    split = ledger.verify(workers=2)
    assert split.ok and split.entries == 2001 and split.head == result.head
    stored = {r.event_id: (r.seq, r.hash) for r in ledger.store.entries()}
    for r in acknowledged:
        assert stored[r["event_id"]] == (r["seq"], r["hash"])


@pytest.mark.slow
@pytest.mark.parametrize("batch", [1, 10])
def test_killed_process_loses_no_acknowledged_append(ledger: Ledger, db_url: str,
                                                     env: dict[str, str], batch: int) -> None:
    p = worker(db_url, env["LEDGER_KEY_DIR"], 100_000, "crash", batch)
    assert p.stdout is not None
    acknowledged = []
    deadline = time.monotonic() + 120
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        acknowledged.append(json.loads(line))
    os.kill(p.pid, signal.SIGKILL)  # in the middle of the next append
    p.wait(timeout=30)
    for line in p.stdout.read().splitlines():  # printed before the kill, not yet read
        acknowledged.append(json.loads(line))
    p.stdout.close()
    assert p.stderr is not None
    p.stderr.close()
    assert len(acknowledged) >= 150
    result = ledger.verify()
    assert result.ok, result
    stored = {r.event_id: (r.seq, r.hash) for r in ledger.store.entries()}
    for r in acknowledged:
        assert stored[r["event_id"]] == (r["seq"], r["hash"])
    # and the ledger takes appends again, on from the head
    from tests.helpers import consent
    after = ledger.append([consent("after-crash@example.fr")])
    assert after[0].seq == result.entries + 1
    assert ledger.verify().ok
