"""The primary/standby pair of scripts/pg-replica, for tests/test_replicas*.py.

The pair: a primary on 127.0.0.1:5442 and its streaming hot standby on 5443, two new
clusters (the main 5432 cluster is left alone).  Database ``test`` commits with
``synchronous_commit=remote_apply`` (an append returns once the standby replayed it),
``test_async`` with ``local`` (the standby may lag: the lag tests pause its replay).

:func:`require_pair` brings the pair up with ``scripts/pg-replica up`` when it does not
answer; without the tools it skips — except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ledger.app.application import Ledger

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "pg-replica"
PRIMARY = os.environ.get("LEDGER_TEST_REPLICA_PRIMARY", "postgresql://postgres@127.0.0.1:5442")
STANDBY = os.environ.get("LEDGER_TEST_REPLICA_STANDBY", "postgresql://postgres@127.0.0.1:5443")
_state: dict[str, Any] = {}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _answers() -> bool:
    try:
        with psycopg.connect(f"{STANDBY}/test", connect_timeout=3) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        with psycopg.connect(f"{PRIMARY}/test", connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return row is not None and row[0] is True
    except psycopg.Error:
        return False


def run_script(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def require_pair() -> None:
    """The pair answers (brought up if needed), else skip (fail under CI=true)."""
    if "error" not in _state:
        _state["error"] = None
        if not _answers():
            if run_script("have-tools").returncode != 0:
                _state["error"] = "pg_createcluster/pg_basebackup not found"
            else:
                up = run_script("up")
                if up.returncode != 0 or not _answers():
                    _state["error"] = f"scripts/pg-replica up failed: {up.stderr[-500:]}"
    why = _state["error"]
    if why is None:
        return
    if _in_ci():
        pytest.fail(f"{why} (CI=true: the replica tests must run)")
    pytest.skip(why)


def sql(url: str, statement: str) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement)
        row = cur.fetchone() if cur.description is not None else None
    return None if row is None else row[0]


@contextmanager
def replay_paused(db: str = "test_async") -> Iterator[None]:
    """The standby receives WAL but does not apply it (replica lag), then resumes."""
    sql(f"{STANDBY}/{db}", "SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        sql(f"{STANDBY}/{db}", "SELECT pg_wal_replay_resume()")


@contextmanager
def pair_urls(db: str = "test") -> Iterator[tuple[str, str]]:
    """(primary URL, standby URL) of a fresh schema of database ``db``."""
    require_pair()
    schema = f"r_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{PRIMARY}/{db}?schema={schema}", f"{STANDBY}/{db}?schema={schema}"
    finally:
        # a failover trial leaves the old primary down: reset re-seeds anyway
        with suppress(psycopg.Error):
            sql(f"{PRIMARY}/{db}", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def new_ledger(url: str, env: dict[str, str], name: str = "main") -> Ledger:
    """An initialised ledger with the bundled policy published (as tests/conftest.py)."""
    from datetime import UTC, datetime

    from ledger.domain.policy import bundled_policy

    led, _ = Ledger.init(url, name, env=env)
    led.publish_policy(bundled_policy(), actor="test",
                       occurred_at=datetime(2024, 1, 1, tzinfo=UTC))
    return led
