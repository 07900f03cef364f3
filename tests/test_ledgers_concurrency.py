"""Several ledgers in one database, several processes appending to each at once.

PostgreSQL: each ledger has its own append lock (a transaction-level advisory lock,
ledger.storage.postgres.append_lock_key), so ledger B appends while ledger A's append
transaction is open; two appends to one ledger still follow each other.
SQLite: one file has one writer; the ledgers of one file append one after the other,
and every guarantee holds the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from ledger.app.application import Ledger
from ledger.app.checking import ledger_id_for
from ledger.domain.policy import bundled_policy
from ledger.errors import StorageError
from ledger.storage import open_store
from ledger.storage.postgres import append_lock_key
from tests.conftest import PG_URL, Clock, drop_schema, require_pg
from tests.helpers import consent

ROOT = Path(__file__).resolve().parent.parent
LEDGERS = 4
PROCESSES_PER_LEDGER = 2
APPENDS_PER_PROCESS = 25


def worker(url: str, key_dir: str, name: str, count: int, tag: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.ledgers_worker", url, key_dir, name, str(count), tag],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)})


def init_ledger(url: str, env: dict[str, str], name: str, clock: Clock) -> Ledger:
    led, _ = Ledger.init(url, name, env=env)
    led.clock = clock
    led.publish_policy(bundled_policy(), actor="test")
    return led


@pytest.mark.slow
def test_four_ledgers_two_processes_each(db_url: str, env: dict[str, str],
                                         clock: Clock) -> None:
    names = [f"ledger{i}" for i in range(LEDGERS)]
    ledgers = [init_ledger(db_url, env, n, clock) for n in names]
    try:
        procs = {n: [worker(db_url, env["LEDGER_KEY_DIR"], n, APPENDS_PER_PROCESS, f"{n}p{k}")
                     for k in range(PROCESSES_PER_LEDGER)] for n in names}
        acknowledged: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
        for n, ps in procs.items():
            for p in ps:
                out, err = p.communicate(timeout=600)
                assert p.returncode == 0, err
                acknowledged[n] += [json.loads(line) for line in out.splitlines()]
        per_ledger = PROCESSES_PER_LEDGER * APPENDS_PER_PROCESS
        for n, led in zip(names, ledgers, strict=True):
            acks = acknowledged[n]
            assert len(acks) == per_ledger
            # after the policy at seq 1: 2..n+1, no gap, no repeat, in every ledger
            assert sorted(r["seq"] for r in acks) == list(range(2, per_ledger + 2))
            result = led.verify()
            assert result.ok and result.entries == per_ledger + 1, (n, result)
            stored = {r.event_id: (r.seq, r.hash) for r in led.store.entries()}
            assert len(stored) == per_ledger + 1
            for r in acks:  # nothing acknowledged lost, and only this ledger's events here
                assert stored[r["event_id"]] == (r["seq"], r["hash"])
    finally:
        for led in ledgers:
            led.close()


@pytest.fixture
def pg_url() -> Any:
    """A fresh PostgreSQL schema (the per-ledger lock is PostgreSQL's: an SQLite file
    has one writer, so there the ledgers of one file append one after the other)."""
    require_pg()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{PG_URL}?schema={schema}"
    drop_schema(schema)


@pytest.mark.postgres
def test_ledger_b_appends_while_ledger_a_holds_its_lock(pg_url: str, env: dict[str, str],
                                                        clock: Clock,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    db_url = pg_url
    a = init_ledger(db_url, env, "a", clock)
    b = init_ledger(db_url, env, "b", clock)
    a.close()
    b.close()
    # New connections fail a lock wait after 2 s instead of waiting: on a table lock
    # (the old LOCK TABLE … IN EXCLUSIVE MODE) ledger B's append would fail here, not hang.
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=2000 -c statement_timeout=20000")
    seen: dict[str, Any] = {}
    with Ledger.open(db_url, "b", env=env) as led_b, \
            Ledger.open(db_url, "a", env=env) as led_a2:
        led_b.clock = led_a2.clock = clock
        store_a = open_store(db_url, ledger_id_for("a"))
        try:
            def inside_a(tx: Any) -> None:
                head = tx.head()
                seen["a_head"] = head.seq
                # ledger A's append transaction is open and holds A's lock: B goes on
                seen["b"] = led_b.append([consent("b-while-a@example.fr")])
                # …and a second append to A waits for the lock (and times out here)
                with pytest.raises(StorageError, match="lock"):
                    led_a2.append([consent("a-while-a@example.fr")])
                seen["a2_refused"] = True

            store_a.append(inside_a)
        finally:
            store_a.close()
        assert seen["a2_refused"] and seen["b"][0].seq == 2
        assert led_b.verify().ok and led_b.verify().entries == 2
        # A is untouched by the refused attempt and appends again once the lock is free
        assert led_a2.verify().entries == seen["a_head"] == 1
        assert led_a2.append([consent("a-after@example.fr")])[0].seq == 2
        assert led_a2.verify().ok


def test_append_lock_key_is_a_bigint_per_schema_and_ledger() -> None:
    lid = uuid.UUID("6f1c2b7e-4d0a-5b8e-9c3f-0a1b2c3d4e5f")
    k = append_lock_key("public", lid)
    assert -2**63 <= k < 2**63
    assert k == append_lock_key("public", uuid.UUID(str(lid)))  # stable
    assert k != append_lock_key("other", lid)
    assert k != append_lock_key("public", ledger_id_for("main"))
    import hashlib
    expected = int.from_bytes(hashlib.sha256(b"ledger-append-lock\0public\0" + lid.bytes)
                              .digest()[:8], "big", signed=True)
    assert k == expected  # the derivation docs/DECISIONS.md states
