"""Automatic checkpoints by default (issue 16), on SQLite and PostgreSQL: a new ledger
signs after every 1,000 entries or 60 seconds, whichever first; an existing ledger keeps
its setting; `ledger serve`'s timer signs a head left behind."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.app import auto_checkpoints
from ledger.app.application import Ledger
from ledger.app.proofs import DEFAULT_CHECKPOINT_EVERY, prover_of
from ledger.domain.policy import bundled_policy
from tests.proof_helpers import fill


class FakeTime:
    """``time`` for ledger.app.auto_checkpoints: the test moves the clock."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    ft = FakeTime()
    monkeypatch.setattr(auto_checkpoints, "time", ft)
    return ft


@pytest.fixture
def fresh(db_url: str, env: dict[str, str]) -> Iterator[Ledger]:
    """A new ledger with the defaults (the shared fixture's, without its set-up)."""
    led, _ = Ledger.init(db_url, env=env)
    led.publish_policy(bundled_policy(), actor="test")
    yield led
    led.close()


def sizes(ledger: Ledger) -> list[int]:
    return [c["tree_size"] for c in prover_of(ledger).checkpoints()]


def test_a_new_ledger_checkpoints_every_1000_entries(fresh: Ledger,
                                                     fake_time: FakeTime) -> None:
    assert fresh.checkpoint_every == DEFAULT_CHECKPOINT_EVERY == 1000
    fill(fresh, 999, batch=150)
    assert sizes(fresh) == []
    fill(fresh, 1100, batch=150)             # the batch 950..1099 crosses 1000
    assert sizes(fresh) == [1100]


def test_or_after_60_seconds_whichever_first(fresh: Ledger, fake_time: FakeTime) -> None:
    fill(fresh, 5)
    assert sizes(fresh) == []                # init was less than 60 s ago
    fake_time.now += 61
    fill(fresh, 7)
    assert sizes(fresh) == [7]               # 60 s since init: the head is signed
    fake_time.now += 30
    fill(fresh, 9)
    assert sizes(fresh) == [7]               # 30 s since the last one: not yet
    fake_time.now += 31
    fill(fresh, 10)
    assert sizes(fresh) == [7, 10]


def test_an_existing_ledger_keeps_its_setting(db_url: str, env: dict[str, str],
                                              fake_time: FakeTime) -> None:
    old, _ = Ledger.init(db_url, env={**env, "LEDGER_CHECKPOINT_EVERY": "0"})  # as before
    old.publish_policy(bundled_policy(), actor="test")
    old.close()
    led = Ledger.open(db_url, env=env)
    try:
        assert led.checkpoint_every == 0
        fake_time.now += 3600
        fill(led, 1200, batch=300)
        assert sizes(led) == []
        assert auto_checkpoints.start_timer(led)() is None   # no timer either
    finally:
        led.close()


def test_the_serve_timer_signs_a_head_left_behind(db_url: str, env: dict[str, str]) -> None:
    env = {**env, "LEDGER_CHECKPOINT_SECONDS": "1"}
    led, _ = Ledger.init(db_url, env=env)
    led.publish_policy(bundled_policy(), actor="test")
    try:
        stop = auto_checkpoints.start_timer(led)
        try:
            deadline = time.monotonic() + 20
            while sizes(led) == [] and time.monotonic() < deadline:
                time.sleep(0.2)
            assert sizes(led) == [1]          # the policy entry, signed without an append
        finally:
            stop()
    finally:
        led.close()


def run(env: dict[str, Any], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_cli_append_checkpoints_after_t_seconds(cli_env: dict[str, str],
                                                    tmp_path: Path) -> None:
    env = {**cli_env, "LEDGER_CHECKPOINT_SECONDS": "1"}
    assert run(cli_env, "init").returncode == 0            # T = 60 s for these two
    assert run(cli_env, "policy", "publish", "bundled").returncode == 0
    line = '{"type":"ConsentGiven","subject":"a@example.fr","occurred_at":' \
           '"2024-05-01T10:00:00+02:00","data":{"purpose":"recruitment","method":"form"}}\n'
    time.sleep(1.2)                           # T = 1 s since `ledger init`
    out = run(env, "append", stdin=line)
    assert out.returncode == 0, out.stderr
    listed = run(env, "checkpoint", "--list", "--json")
    assert [int(x.split('"tree_size":')[1].split(",")[0])
            for x in listed.stdout.splitlines()] == [2]
    off = run({**env, "LEDGER_CHECKPOINT_EVERY": "0"}, "append", stdin=line.replace(
        "a@example", "b@example"))
    assert off.returncode == 0
    assert len(run(env, "checkpoint", "--list").stdout.splitlines()) == 2  # header + one


def test_under_serve_the_thread_signs_and_the_append_does_not(
        fresh: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    signers: list[str] = []
    real = auto_checkpoints.auto_checkpoint

    def spy(ledger: Ledger) -> None:
        signers.append(threading.current_thread().name)
        real(ledger)
    monkeypatch.setattr(auto_checkpoints, "auto_checkpoint", spy)
    prover_of(fresh).set_every(10)
    fresh.checkpoint_every = 10
    fill(fresh, 5)                                   # no thread: nothing due yet
    stop = auto_checkpoints.start_timer(fresh)
    try:
        fill(fresh, 12, batch=7)                     # crosses 10: the thread is woken
        deadline = time.monotonic() + 20
        while sizes(fresh) == [] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sizes(fresh) == [12] and signers == ["ledger-auto-checkpoints"]
    finally:
        stop()
    fill(fresh, 21)                                  # stopped: the append signs again
    assert sizes(fresh) == [12, 21] and signers[-1] == threading.main_thread().name
