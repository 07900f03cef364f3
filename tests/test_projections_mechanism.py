"""The mechanism: bitemporal answers, rebuild == incremental, resumption after a kill."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ledger.app.application import Ledger
from projections import db
from projections.mechanism import Projector
from projections.queries import Reader, parse_when
from projections.registry import all_projections
from projections.retention import RetentionProjection
from tests.projections_history import SUBJECTS, build, history

ROOT = Path(__file__).resolve().parents[1]


def t(text: str) -> str:
    out = parse_when(text, "t")
    assert out is not None
    return out


def snapshot(p: Projector) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row of this ledger, in a stable order (positions excluded)."""
    out = {}
    assert p.engine is not None
    with p.engine.connect() as conn:
        for name, table in db.tables().items():
            if name == "proj_positions":
                continue
            rows = conn.execute(select(table).where(table.c.ledger_id == p.ledger_id))
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def positions(p: Projector) -> dict[str, int]:
    return {s["projection"]: s["position"] for s in p.status()}


# -- bitemporal ------------------------------------------------------------------------
def test_as_of_and_known_at_with_a_back_dated_withdrawal(ledger: Ledger, clock: Any,
                                                         env: dict[str, str]) -> None:
    g = SUBJECTS["G"]
    clock.now = datetime(2024, 6, 2, 12, 0, tzinfo=UTC)
    ledger.append([{"type": "ConsentGiven", "subject": g, "occurred_at": "2024-06-02T10:00:00Z",
                    "data": {"purpose": "cookies_advertising", "method": "banner"}}])
    # recorded on 10 June, but the withdrawal occurred (by post) on 5 June: back-dated
    clock.now = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
    ledger.append([{"type": "ConsentWithdrawn", "subject": g,
                    "occurred_at": "2024-06-05T10:00:00Z",
                    "data": {"purpose": "cookies_advertising", "method": "paper"}}])

    def state(as_of: str | None = None, known_at: str | None = None) -> str:
        with Reader(ledger.url, ledger.name, env=env) as r:
            doc = r.consent(g, as_of=t(as_of) if as_of else None,
                            known_at=t(known_at) if known_at else None,
                            now=t("2024-06-11T00:00:00Z"))
        return next(p["status"] for p in doc["purposes"]
                    if p["purpose"] == "cookies_advertising")

    assert state() == "withdrawn"
    assert state(as_of="2024-06-06T00:00:00Z") == "withdrawn"  # what we know now
    # what we knew on 8 June about 6 June: the withdrawal was not recorded yet
    assert state(as_of="2024-06-06T00:00:00Z", known_at="2024-06-08T00:00:00Z") == "granted"
    assert state(known_at="2024-06-08T00:00:00Z") == "granted"
    # a withdrawal never changes an earlier answer
    assert state(as_of="2024-06-04T00:00:00Z") == "granted"
    assert state(as_of="2024-06-02T09:59:59Z") == "none"
    # before the consent was recorded, the ledger knew nothing
    assert state(known_at="2024-06-02T11:59:59Z") == "none"
    # the history shows both rows, each with its two times
    with Reader(ledger.url, ledger.name, env=env) as r:
        doc = r.consent(g, known_at=t("2024-06-11T00:00:00Z"))
    item = next(p for p in doc["purposes"] if p["purpose"] == "cookies_advertising")
    assert [(h["state"], h["occurred_at"][:10], h["recorded_at"][:10])
            for h in item["history"]] == [("granted", "2024-06-02", "2024-06-02"),
                                          ("withdrawn", "2024-06-05", "2024-06-10")]


# -- rebuild == incremental ---------------------------------------------------------------
def test_rebuild_equals_incremental(ledger: Ledger) -> None:
    with Projector(ledger.url, ledger.name, all_projections()) as p:
        for call in history():
            ledger.append(call)
            p.catch_up(batch=3)  # many small transactions, after each append
        assert set(positions(p).values()) == {ledger.head()[0]}
        incremental = snapshot(p)
        assert sum(len(v) for v in incremental.values()) > 20
        p.rebuild(batch=10_000)
        assert snapshot(p) == incremental
        p.rebuild(["retention"], batch=1)
        assert snapshot(p) == incremental


def test_projections_follow_new_entries(ledger: Ledger, env: dict[str, str]) -> None:
    build(ledger)
    with Reader(ledger.url, ledger.name, env=env) as r:
        r.fresh()
        head = ledger.head()[0]
        assert {s["lag"] for s in r.status()} == {0}
        ledger.append([{"type": "ConsentGiven", "subject": SUBJECTS["G"],
                        "occurred_at": "2024-06-01T11:00:00Z",
                        "data": {"purpose": "recruitment", "method": "form"}}])
        assert {s["lag"] for s in r.status()} == {1}
        doc = r.consent(SUBJECTS["G"])  # a read catches up first
        assert {p["purpose"]: p["status"] for p in doc["purposes"]}["recruitment"] == "granted"
        assert {s["projection"]: s["position"] for s in r.status()}["consent"] == head + 1


def test_two_ledgers_share_a_database(ledger: Ledger, env: dict[str, str],
                                      clock: Any) -> None:
    from ledger.domain.policy import bundled_policy

    build(ledger)
    other, _ = Ledger.init(ledger.url, "other", env=env)
    other.clock = clock
    other.publish_policy(bundled_policy())
    try:
        with Reader(ledger.url, "other", env=env) as r:
            assert r.retention(at=t("2024-06-01T12:00:00Z"))["items"] == []
        with Reader(ledger.url, ledger.name, env=env) as r:
            assert len(r.retention(at=t("2024-06-01T12:00:00Z"))["items"]) == 6
        # a rebuild of one ledger leaves the other's rows alone (and the reverse)
        other.append(history()[1])
        with Reader(ledger.url, "other", env=env) as r:
            theirs = r.retention(at=t("2024-06-01T12:00:00Z"))["items"]
            assert theirs
        with Reader(ledger.url, ledger.name, env=env) as r:
            r.projector.rebuild()
            assert len(r.retention(at=t("2024-06-01T12:00:00Z"))["items"]) == 6
        with Reader(ledger.url, "other", env=env) as r:
            lag = {s["projection"]: s["lag"] for s in r.projector.status()}
            assert lag["retention"] == 0
            assert r.retention(at=t("2024-06-01T12:00:00Z"))["items"] == theirs
            r.projector.rebuild()
        with Reader(ledger.url, ledger.name, env=env) as r:
            assert len(r.retention(at=t("2024-06-01T12:00:00Z"))["items"]) == 6
    finally:
        other.close()


# -- stopped mid-way ------------------------------------------------------------------------
class Boom(Exception):
    pass


def test_failure_mid_way_resumes_without_double_counting(ledger: Ledger,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    build(ledger)
    with Projector(ledger.url, ledger.name, all_projections()) as clean:
        clean.rebuild()
        expected = snapshot(clean)
    calls = {"n": 0}
    real = RetentionProjection.apply

    def failing(self: RetentionProjection, conn: Any, entries: Any, ctx: Any) -> None:
        real(self, conn, entries, ctx)  # rows written in the transaction...
        calls["n"] += 1
        if calls["n"] == 3:
            raise Boom  # ...then it fails before the commit

    monkeypatch.setattr(RetentionProjection, "apply", failing)
    with Projector(ledger.url, ledger.name, all_projections()) as p:
        with pytest.raises(Boom):
            p.rebuild(["retention"], batch=2)
        stopped = positions(p)["retention"]
        assert 0 < stopped < ledger.head()[0]
        monkeypatch.setattr(RetentionProjection, "apply", real)
        p.catch_up(batch=2)
        assert positions(p)["retention"] == ledger.head()[0]
        assert snapshot(p) == expected


KILLER = """
import os, signal, sys
from projections.mechanism import Projector
from projections.registry import all_projections
from projections.consent import ConsentProjection
calls = {"n": 0}
real = ConsentProjection.apply
def apply(self, conn, entries, ctx):
    real(self, conn, entries, ctx)
    calls["n"] += 1
    if calls["n"] == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)  # mid-transaction, rows written, not committed
ConsentProjection.apply = apply
with Projector(sys.argv[1], sys.argv[2], all_projections()) as p:
    p.catch_up(batch=2)
"""


@pytest.mark.slow
def test_sigkill_mid_way_resumes_without_double_counting(ledger: Ledger,
                                                         tmp_path: Path) -> None:
    build(ledger)
    script = tmp_path / "killer.py"
    script.write_text(KILLER, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, str(script), ledger.url, ledger.name, "3"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == -9, done.stderr[-2000:]
    with Projector(ledger.url, ledger.name, all_projections()) as p:
        stopped = positions(p)
        assert 0 < stopped["consent"] < ledger.head()[0]
        p.catch_up()
        resumed = snapshot(p)
        p.rebuild()
        assert snapshot(p) == resumed
    consent_rows = resumed["proj_consent_history"]
    assert len(consent_rows) == len({r[1] for r in consent_rows}) == 5  # one per seq


def test_an_up_to_date_read_does_not_wait_for_a_writer(ledger: Ledger,
                                                       env: dict[str, str]) -> None:
    """A read whose projections are current takes no write lock (SQLite: deferred BEGIN)."""
    build(ledger)
    with Reader(ledger.url, ledger.name, env=env) as r:
        r.fresh()
        writer = r.projector.writer().connect()
        try:
            tx = writer.begin()  # SQLite: BEGIN IMMEDIATE, the database's write lock
            if writer.dialect.name == "postgresql":
                schema = ledger.url.split("schema=")[1]
                writer.exec_driver_sql(f'LOCK TABLE "{schema}".proj_positions IN EXCLUSIVE '
                                       "MODE")
            assert len(r.retention(at=t("2024-06-01T12:00:00Z"))["items"]) == 6
            assert r.requests(at=t("2024-06-01T12:00:00Z"))["requests"]
            tx.rollback()
        finally:
            writer.close()


def test_a_projection_whose_code_changed_is_rebuilt(ledger: Ledger,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from projections.consent import ConsentProjection

    build(ledger)
    with Projector(ledger.url, ledger.name, all_projections()) as p:
        p.catch_up()
        before = snapshot(p)
    monkeypatch.setattr(ConsentProjection, "version", ConsentProjection.version + 1)
    with Projector(ledger.url, ledger.name, all_projections()) as p:
        stale = {s["projection"]: s["stale"] for s in p.status()}
        assert stale == {"consent": True, "retention": False, "requests": False,
                         "breaches": False, "disclosures": False,
                         "accesses": False}
        assert p.catch_up() == ledger.head()[0]  # consent projected again from entry 1
        assert not any(s["stale"] for s in p.status())
        assert snapshot(p) == before


def test_two_catch_ups_at_once_apply_each_entry_once(ledger: Ledger) -> None:
    import threading

    build(ledger)
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            with Projector(ledger.url, ledger.name, all_projections()) as p:
                p.catch_up(batch=2)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=follow) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with Projector(ledger.url, ledger.name, all_projections()) as p:
        both = snapshot(p)
        assert set(positions(p).values()) == {ledger.head()[0]}
        p.rebuild()
        assert snapshot(p) == both


# -- a rebuild defers the indexes of insert-only tables -------------------------------------
def index_names(p: Projector) -> set[str]:
    from sqlalchemy import inspect

    with p.sql_engine().connect() as conn:
        schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
        found = inspect(conn)
        return {i["name"] for t in db.METADATA.sorted_tables
                for i in found.get_indexes(t.name, schema=schema)}


ALL_INDEXES = {i.name for t in db.METADATA.sorted_tables for i in t.indexes}


def test_a_rebuild_builds_the_deferred_indexes_again(ledger: Ledger,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    build(ledger)
    with Projector(ledger.url, ledger.name, all_projections()) as p:
        p.rebuild()
        assert index_names(p) >= ALL_INDEXES
        expected = snapshot(p)
        deferred = {i.name for proj in p.projections for t in proj.insert_only
                    for i in t.indexes}
        assert deferred  # consent history, retention items, disclosures

        def failing(*args: Any, **kw: Any) -> None:
            assert not index_names(p) & deferred  # dropped while projecting
            raise Boom

        monkeypatch.setattr(RetentionProjection, "apply", failing)
        with pytest.raises(Boom):
            p.rebuild()
        assert index_names(p) >= ALL_INDEXES  # built again although the rebuild failed
        monkeypatch.undo()
        p.catch_up()
        assert snapshot(p) == expected


REBUILD_KILLER = KILLER.replace("p.catch_up(batch=2)", "p.rebuild(batch=2)")


@pytest.mark.slow
def test_indexes_dropped_by_a_killed_rebuild_come_back(ledger: Ledger, db_url: str) -> None:
    build(ledger)
    with Projector(ledger.url, ledger.name, all_projections()) as p:
        p.rebuild()
        expected = snapshot(p)
    done = subprocess.run([sys.executable, "-c", REBUILD_KILLER, ledger.url or "",
                           ledger.name, "2"], capture_output=True, text=True, check=False,
                          env={**os.environ})
    assert done.returncode == -9, done.stderr
    with Projector(ledger.url, ledger.name, all_projections()) as p:
        assert not index_names(p) >= ALL_INDEXES  # the killed rebuild had dropped some
        p.setup()
        assert index_names(p) >= ALL_INDEXES
        p.catch_up()
        assert snapshot(p) == expected
