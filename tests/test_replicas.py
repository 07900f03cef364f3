"""Reads from a streaming hot standby (ledger.app.replicas), on two real PostgreSQL clusters
(scripts/pg-replica: primary 5442, standby 5443; tests/replica_kit.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.app.replicas import PRIMARY, REPLICA, Replicas, replica_wait
from ledger.errors import ConfigError, StorageError
from projections import db as pdb
from projections.mechanism import Projector
from projections.registry import all_projections
from tests.helpers import consent
from tests.replica_kit import new_ledger, pair_urls, replay_paused

pytestmark = pytest.mark.postgres


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    keys = tmp_path / "keys"
    return {"LEDGER_KEY_DIR": str(keys)}


def test_reads_are_served_by_the_replica_and_it_refuses_writes(env: dict[str, str]) -> None:
    with pair_urls() as (primary_url, standby_url):
        led = new_ledger(primary_url, env)
        receipts = led.append([consent(f"alice{i}@example.org") for i in range(20)])
        reps = Replicas(led, [standby_url], wait=0)
        try:
            served = reps.reader()
            assert served.by == REPLICA
            assert served.ledger.url == standby_url
            assert served.ledger.head() == led.head() == (21, receipts[-1].hash)
            result = served.ledger.verify()
            assert result.ok and result.entries == 21
            # personal values open on the replica too (the same keys; the chain is the same)
            shown = served.ledger.show(receipts[0].seq)
            assert shown is not None and shown["subject"] == led.pseudonym("alice0@example.org")
            with pytest.raises(StorageError, match="read-only"):
                served.ledger.append([consent("bob@example.org")])
            assert led.verify().ok and led.head()[0] == 21
        finally:
            reps.close()
            led.close()


def test_synchronous_commit_remote_apply_read_your_writes_without_waiting(
        env: dict[str, str]) -> None:
    """Database ``test`` commits with remote_apply: when an append returns, the standby has
    replayed it, so a read with min_seq of that receipt is served by the replica at once."""
    with pair_urls("test") as (primary_url, standby_url):
        led = new_ledger(primary_url, env)
        reps = Replicas(led, [standby_url], wait=0)
        try:
            for i in range(30):
                seq = led.append([consent(f"carol{i}@example.org")])[0].seq
                served = reps.reader(min_seq=seq)
                assert served.by == REPLICA, f"append {i}: seq {seq} not on the standby"
                assert served.ledger.head()[0] >= seq
        finally:
            reps.close()
            led.close()


def test_lagging_replica_reads_wait_then_fall_back_to_the_primary(env: dict[str, str]) -> None:
    """Database ``test_async`` commits locally; with the standby's replay paused it lags."""
    with pair_urls("test_async") as (primary_url, standby_url):
        led = new_ledger(primary_url, env)
        reps = Replicas(led, [standby_url], wait=0.4, poll=0.02)
        try:
            first = led.append([consent("dan@example.org")])[0].seq
            assert reps.reader(min_seq=first).by == REPLICA or \
                _eventually(lambda: reps.reader(min_seq=first).by == REPLICA)
            with replay_paused():
                seq = led.append([consent("erin@example.org")])[0].seq
                started = time.monotonic()
                served = reps.reader(min_seq=seq)
                waited = time.monotonic() - started
                assert served.by == PRIMARY and served.ledger is led
                assert waited >= 0.4  # it waited for the replica up to the bound
                assert served.ledger.head()[0] >= seq
                # a read without min_seq is still the replica's (it answers)
                assert reps.reader().by == REPLICA
                assert reps.reader().ledger.head()[0] < seq
            # replay resumed: the replica catches up and serves the read again
            assert _eventually(lambda: reps.reader(min_seq=seq).by == REPLICA)
        finally:
            reps.close()
            led.close()


def test_an_unreachable_replica_falls_back_to_the_primary(env: dict[str, str]) -> None:
    with pair_urls() as (primary_url, _):
        led = new_ledger(primary_url, env)
        gone = primary_url.replace(":5442/", ":5449/")  # no server there
        reps = Replicas(led, [gone], wait=0.1)
        try:
            assert reps.cooling() == []
            assert reps.reader().by == PRIMARY
            assert reps.cooling() == [gone]  # not asked again for COOLDOWN seconds
            assert reps.reader(min_seq=1).by == PRIMARY
        finally:
            reps.close()
            led.close()


def test_projection_following_the_replica_neither_misses_nor_repeats_across_fallback(
        env: dict[str, str]) -> None:
    with pair_urls("test_async") as (primary_url, standby_url):
        led = new_ledger(primary_url, env)
        reps = Replicas(led, [standby_url], wait=0.2, poll=0.02)
        store = reps.following_store()
        proj = Projector(primary_url, led.name, all_projections(), store=store)
        expected: set[int] = set()
        try:
            def add(n: int, tag: str) -> None:
                expected.update(r.seq for r in led.append(
                    [consent(f"{tag}{i}@example.org") for i in range(n)]))

            add(5, "a")
            assert _eventually(lambda: reps.reader(min_seq=max(expected)).by == REPLICA)
            proj.catch_up()
            assert store.served[REPLICA] > 0 and store.served[PRIMARY] == 0
            with replay_paused():
                add(7, "b")
                proj.catch_up(stop=led.head()[0])  # the replica lags: the primary serves
                assert store.served[PRIMARY] > 0
                add(3, "c")
            before = dict(store.served)
            assert _eventually(lambda: reps.reader(min_seq=led.head()[0]).by == REPLICA)
            add(4, "d")
            assert _eventually(lambda: reps.reader(min_seq=max(expected)).by == REPLICA)
            proj.catch_up(stop=led.head()[0])
            assert store.served[REPLICA] > before[REPLICA]
            h = pdb.consent_history
            with proj.sql_engine().connect() as conn:
                seqs = [r.seq for r in conn.execute(select(h.c.seq).where(
                    h.c.ledger_id == proj.ledger_id))]
                n = conn.execute(select(func.count()).select_from(h).where(
                    h.c.ledger_id == proj.ledger_id)).scalar_one()
            assert sorted(seqs) == sorted(expected) and n == len(expected) == 19
            assert {s["position"] for s in proj.status()} == {led.head()[0]}
        finally:
            proj.close()
            reps.close()
            led.close()


def test_replica_wait_setting_is_validated() -> None:
    assert replica_wait({}) == 2.0
    assert replica_wait({"LEDGER_REPLICA_WAIT_MS": "150"}) == 0.15
    for bad in ("-1", "x", "60001"):
        with pytest.raises(ConfigError, match="LEDGER_REPLICA_WAIT_MS"):
            replica_wait({"LEDGER_REPLICA_WAIT_MS": bad})


def _eventually(check: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_http_proofs_from_the_replica_and_min_seq_falls_back(tmp_path: Path,
                                                             env: dict[str, str]) -> None:
    from fastapi.testclient import TestClient

    from ledger.app.tokens import Tokens
    from ledger.domain.routing import Route
    from ledger.http import create_routed_app

    with pair_urls("test_async") as (primary_url, standby_url):
        led = new_ledger(primary_url, env)
        token = Tokens(led.store).create("audit-firm", "auditor")
        led.append([consent(f"f{i}@example.org") for i in range(3)])
        route = Route("acme", primary_url, (standby_url,), env["LEDGER_KEY_DIR"], "main")
        app = create_routed_app({"acme": route}, plugins=(),
                                env={**env, "LEDGER_REPLICA_WAIT_MS": "300"})
        auth = {"Authorization": f"Bearer {token}"}
        with TestClient(app, raise_server_exceptions=False) as client:
            def proof(seq: int) -> tuple[int, str]:
                r = client.get(f"/ledgers/acme/v1/proofs/inclusion/{seq}", headers=auth)
                assert r.status_code == 200, r.text
                assert r.json()["tree_size"] >= seq
                return r.json()["tree_size"], r.headers["Ledger-Served-By"]

            # the tree is caught up by the primary, then replayed by the standby
            assert _eventually(lambda: proof(4)[1] == REPLICA)
            with replay_paused():
                led.append([consent("g@example.org")])
                started = time.monotonic()
                size, by = proof(5)  # entry 5 is not on the paused replica
                assert (size, by) == (5, PRIMARY) and time.monotonic() - started >= 0.3
                r = client.get("/ledgers/acme/v1/proofs/inclusion/2?min_seq=5", headers=auth)
                assert r.headers["Ledger-Served-By"] == PRIMARY
                r = client.get("/ledgers/acme/v1/proofs/inclusion/2?size=4", headers=auth)
                assert r.status_code == 200 and r.headers["Ledger-Served-By"] == REPLICA
            assert _eventually(lambda: proof(5)[1] == REPLICA)
        led.close()


def test_http_consent_with_read_urls_answers_read_your_writes(env: dict[str, str]) -> None:
    """With read_urls the projections behind /consent read entries through a FollowingStore
    (its fallback is proven above); the consent just appended is in the answer."""
    from fastapi.testclient import TestClient

    from ledger.app.tokens import Tokens
    from ledger.domain.routing import Route
    from ledger.http import create_routed_app

    with pair_urls("test") as (primary_url, standby_url):
        led = new_ledger(primary_url, env)
        token = Tokens(led.store).create("crm", "service")
        route = Route("acme", primary_url, (standby_url,), env["LEDGER_KEY_DIR"], "main")
        app = create_routed_app({"acme": route}, env=env)
        auth = {"Authorization": f"Bearer {token}"}
        with TestClient(app, raise_server_exceptions=False) as client:
            made = client.post("/ledgers/acme/v1/events", headers=auth,
                               json=consent("h@example.org"))
            assert made.status_code == 201, made.text
            r = client.get("/ledgers/acme/v1/subjects/h@example.org/consent", headers=auth)
            assert r.status_code == 200, r.text
            assert "recruitment" in r.text
            ctx = app.routes[-1].app.state.ctx  # type: ignore[attr-defined]
            assert ctx.replicas is not None
        led.close()


def test_http_verify_runs_on_a_replica_and_skips_one_that_is_down(
        env: dict[str, str]) -> None:
    from fastapi.testclient import TestClient

    from ledger.app.tokens import Tokens
    from ledger.domain.routing import Route
    from ledger.http import create_routed_app

    with pair_urls("test") as (primary_url, standby_url):
        led = new_ledger(primary_url, env)
        token = Tokens(led.store).create("audit-firm", "auditor")
        led.append([consent(f"v{i}@example.org") for i in range(4)])
        gone = primary_url.replace(":5442/", ":5449/")  # no server there
        auth = {"Authorization": f"Bearer {token}"}
        for reads, by in (((gone, standby_url), REPLICA), ((gone,), PRIMARY)):
            route = Route("acme", primary_url, reads, env["LEDGER_KEY_DIR"], "main")
            app = create_routed_app({"acme": route}, plugins=(), env=env)
            with TestClient(app, raise_server_exceptions=False) as client:
                r = client.get("/ledgers/acme/v1/verify", headers=auth)
                assert r.status_code == 200, r.text
                assert r.json()["ok"] is True and r.json()["entries"] == 5
                assert r.headers["Ledger-Served-By"] == by
        led.close()


def test_cli_verify_runs_on_a_replica_of_the_routing_file(env: dict[str, str],
                                                          tmp_path: Path) -> None:
    """`ledger verify` with a routing file whose entry has read_urls: the first replica that
    answers verifies (said in the output and in --json), a dead one is passed over."""
    import json
    import os
    import subprocess
    import sys

    with pair_urls() as (primary_url, standby_url):
        led = new_ledger(primary_url, env)
        try:
            led.append([consent(f"carol{i}@example.org") for i in range(5)])
        finally:
            led.close()
        routes = tmp_path / "ledgers.toml"
        dead = "postgresql://postgres@127.0.0.1:1/test"

        def verify(*read_urls: str) -> dict[str, object]:
            urls = ", ".join(f'"{u}"' for u in read_urls)
            routes.write_text(f'[ledgers.main]\nurl = "{primary_url}"\nread_urls = [{urls}]\n'
                              f'keys = "{env["LEDGER_KEY_DIR"]}"\n', encoding="utf-8")
            cmd = [sys.executable, "-m", "ledger.cli", "--ledgers", str(routes), "verify"]
            run_env = {**os.environ, **env}
            human = subprocess.run(cmd, env=run_env, capture_output=True, text=True,
                                   timeout=120, check=False)
            assert human.returncode == 0, human.stderr
            done = subprocess.run([*cmd, "--json"], env=run_env, capture_output=True,
                                  text=True, timeout=120, check=False)
            assert done.returncode == 0, done.stderr
            out: dict[str, object] = json.loads(done.stdout)
            out["human"] = " ".join(human.stdout.split())
            return out

        on_replica = verify(standby_url)
        assert on_replica["ok"] and on_replica["entries"] == 6
        assert on_replica["served_by"] == REPLICA
        assert "verified on the replica" in str(on_replica["human"])
        passed_over = verify(dead, standby_url)
        assert passed_over["served_by"] == REPLICA and passed_over["entries"] == 6
        none_answers = verify(dead)
        assert none_answers["served_by"] == PRIMARY and none_answers["entries"] == 6
        assert "verified on the primary" in str(none_answers["human"])
