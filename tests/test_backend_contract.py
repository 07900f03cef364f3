"""What the ledger relies on from eventsourcing, checked on SQLite and PostgreSQL.

In the style of the library's own recorder test cases (eventsourcing.tests.persistence:
an abstract case, one subclass per database): a library upgrade that changes any of
this — datastore construction with our arguments, connection and transaction
semantics, ``create_table`` with our statements, the primary key, the library's
public read paths (``select_events``, ``max_notification_id``,
``select_notifications``) on our rows, the refusal of ``insert_events``, the
append-only triggers, the per-connection settings, the PostgreSQL append lock —
fails this file.  Rows here are written through ``store.append`` (AppendTx.insert)
and need not form a valid chain: the chain itself is tested elsewhere.
"""

from __future__ import annotations

import sqlite3
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from eventsourcing.persistence import ApplicationRecorder, Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from ledger.errors import StorageError
from ledger.storage import open_store
from ledger.storage.common import AppendTx, StoredRow
from ledger.storage.postgres import append_lock_key
from tests.conftest import PG_URL, drop_schema, require_pg

LID = uuid.UUID("0b7a4a9e-51c3-5d7e-8f00-4c0ffee00001")
OTHER = uuid.UUID("0b7a4a9e-51c3-5d7e-8f00-4c0ffee00002")
CHAIN_COLUMNS = {"originator_id", "originator_version", "topic", "state", "event_id", "hash",
                 "stream"}


def row(seq: int, event_id: str | None = None, topic: str = "ConsentGiven") -> StoredRow:
    state = b'{"seq":%d}' % seq
    return StoredRow(seq, event_id or f"e{seq}", topic, f"s{seq % 2}", state, f"{seq:064x}")


def insert(store: Any, *rows: StoredRow) -> None:
    def fn(tx: AppendTx) -> None:
        tx.insert(rows)
    store.append(fn)


def seqs(store: Any) -> list[int]:
    return [r.seq for r in store.entries()]


class BackendContract(ABC):
    """The contract; each database's subclass supplies the URL and its own probes."""

    recorder_class: ClassVar[type[ApplicationRecorder]]
    datastore_class: ClassVar[type[Any]]

    @abstractmethod
    def url(self, tmp_path: Path) -> Iterator[str]: ...

    @abstractmethod
    def columns(self, store: Any) -> set[str]: ...

    @abstractmethod
    def refused_statements(self, store: Any) -> list[str]: ...

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Any]:
        for url in self.url(tmp_path):
            s = open_store(url, LID)
            try:
                s.create_table()
                yield s
            finally:
                s.close()

    # -- construction -------------------------------------------------------------------
    def test_store_is_the_librarys_recorder_on_its_datastore(self, store: Any) -> None:
        assert isinstance(store, self.recorder_class)
        assert isinstance(store.datastore, self.datastore_class)
        assert store.events_table_name == "ledger_events"

    def test_create_table_runs_our_statements_and_is_idempotent(self, store: Any) -> None:
        assert store.schema_exists()
        assert self.columns(store) >= CHAIN_COLUMNS
        insert(store, row(1))
        store.create_table()  # a second init changes nothing
        assert seqs(store) == [1]

    # -- transactions ---------------------------------------------------------------------
    def test_write_transaction_commits_or_rolls_back_whole(self, store: Any) -> None:
        insert(store, row(1), row(2))

        def half_then_fail(tx: AppendTx) -> None:
            tx.insert([row(3)])
            raise ValueError("not a database error")

        with pytest.raises(ValueError, match="not a database error"):
            store.append(half_then_fail)
        assert seqs(store) == [1, 2]
        assert store.read(lambda tx: tx.head()).seq == 2

    def test_read_transaction_never_commits(self, store: Any) -> None:
        store.read(lambda tx: tx.insert([row(1)]))
        assert seqs(store) == []

    def test_primary_key_refuses_a_second_entry_at_a_seq(self, store: Any) -> None:
        insert(store, row(1))
        with pytest.raises(StorageError):
            insert(store, row(1, event_id="another"))
        assert [r.event_id for r in store.entries()] == ["e1"]

    def test_one_chain_per_ledger_id(self, store: Any, tmp_path: Path) -> None:
        insert(store, row(1))
        other = open_store(self.url_of(store), OTHER)
        try:
            insert(other, row(1), row(2))  # seq 1 again, in another ledger: allowed
            assert seqs(other) == [1, 2]
        finally:
            other.close()
        assert seqs(store) == [1]

    @abstractmethod
    def url_of(self, store: Any) -> str: ...

    # -- the library's public read paths on our rows --------------------------------------
    def test_select_events_returns_our_rows_as_stored_events(self, store: Any) -> None:
        insert(store, row(1), row(2), row(3, topic="DataCollected"))
        events = store.select_events(LID)
        assert all(isinstance(e, StoredEvent) for e in events)
        assert [(e.originator_id, e.originator_version, e.topic, e.state) for e in events] == \
            [(LID, r.seq, r.type, r.state) for r in (row(1), row(2), row(3, topic="DataCollected"))]
        assert [e.originator_version for e in store.select_events(LID, gt=1, lte=2)] == [2]
        assert [e.originator_version for e in store.select_events(LID, desc=True, limit=2)] \
            == [3, 2]
        assert store.select_events(OTHER) == []

    def test_notifications_are_still_readable(self, store: Any) -> None:
        assert not store.max_notification_id()
        insert(store, row(1), row(2))
        insert(store, row(3))
        assert store.max_notification_id() == 3
        notes = store.select_notifications(start=1, limit=10)
        assert all(isinstance(n, Notification) for n in notes)
        assert [(n.id, n.originator_version, n.state) for n in notes] == \
            [(i, i, row(i).state) for i in (1, 2, 3)]

    def test_insert_events_is_refused(self, store: Any) -> None:
        with pytest.raises(StorageError, match=r"Ledger\.append only"):
            store.insert_events([StoredEvent(LID, 1, "ConsentGiven", b"{}")])
        assert seqs(store) == []

    # -- append-only --------------------------------------------------------------------
    def test_triggers_refuse_update_delete(self, store: Any) -> None:
        insert(store, row(1))
        for sql in self.refused_statements(store):
            with pytest.raises(StorageError, match="append-only"):
                store.append(lambda tx, sql=sql: tx.c.execute(sql))
        assert [(r.seq, r.hash) for r in store.entries()] == [(1, row(1).hash)]

    # -- scans ----------------------------------------------------------------------------
    def test_iter_rows_and_entries_page_in_seq_order(self, store: Any) -> None:
        insert(store, *(row(i) for i in range(1, 8)))
        assert [r[0] for r in store.iter_rows(2, 6, page=2)] == [2, 3, 4, 5, 6]
        assert [(s, h, bytes(st)) for s, h, st in store.iter_rows(7)] == \
            [(7, row(7).hash, row(7).state)]
        assert [r.seq for r in store.entries(start=3, page=2)] == [3, 4, 5, 6, 7]
        assert [r.seq for r in store.entries(stream="s1")] == [1, 3, 5, 7]


class TestSQLiteContract(BackendContract):
    recorder_class = SQLiteApplicationRecorder
    datastore_class = SQLiteDatastore

    def url(self, tmp_path: Path) -> Iterator[str]:
        yield f"sqlite:///{tmp_path}/contract.db"

    def url_of(self, store: Any) -> str:
        return str(store.url_for_humans)

    def columns(self, store: Any) -> set[str]:
        with store.datastore.transaction(commit=False) as c:
            c.execute("PRAGMA table_info(ledger_events)")
            return {r["name"] for r in c.fetchall()}

    def refused_statements(self, store: Any) -> list[str]:
        return ["UPDATE ledger_events SET hash='0'", "DELETE FROM ledger_events"]

    def test_pragmas_on_every_connection(self, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
        """secure_delete, synchronous=FULL and the busy timeout on each connection the
        pool hands out (writer, concurrent readers, the library's own read path).

        This build's defaults may already be these values (busy_timeout comes from the
        library's ``lock_timeout``), so every new connection is first given unsafe ones,
        as another build or library version might: the store must set its own."""
        real_connect = sqlite3.connect

        def unsafe_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            conn = real_connect(*args, **kwargs)
            for pragma in ("secure_delete=OFF", "synchronous=OFF", "busy_timeout=0"):
                conn.execute(f"PRAGMA {pragma}")
            return conn

        monkeypatch.setattr(sqlite3, "connect", unsafe_connect)
        expected = {"secure_delete": 1, "synchronous": 2, "busy_timeout": 60_000,
                    "journal_mode": "wal"}

        def settings(cursor: Any) -> dict[str, Any]:
            got = {}
            for name in expected:
                cursor.execute(f"PRAGMA {name}")
                got[name] = cursor.fetchone()[0]
            return got

        store = open_store(f"sqlite:///{tmp_path}/pragmas.db", LID)
        try:
            ds = store.datastore
            with ds.transaction(commit=False) as cur:  # what select_events, create_table use
                assert settings(cur) == expected
            with ds.get_connection(commit=True) as w, \
                    ds.get_connection(commit=False) as r1, \
                    ds.get_connection(commit=False) as r2:
                conns = [w, r1, r2]
                assert len({id(c) for c in conns}) == 3
                for conn in conns:
                    with conn.cursor() as cur:
                        assert settings(cur) == expected
            store.create_table()
            insert(store, row(1))
            assert [e.originator_version for e in store.select_events(LID)] == [1]
        finally:
            store.close()


class TestPostgresContract(BackendContract):
    recorder_class = PostgresApplicationRecorder
    datastore_class = PostgresDatastore

    def url(self, tmp_path: Path) -> Iterator[str]:
        require_pg()
        schema = f"t_{uuid.uuid4().hex[:12]}"
        try:
            yield f"{PG_URL}?schema={schema}"
        finally:
            drop_schema(schema)

    def url_of(self, store: Any) -> str:
        return f"{PG_URL}?schema={store.datastore.schema}"

    def columns(self, store: Any) -> set[str]:
        with store.datastore.transaction(commit=False) as c:
            c.execute("SELECT column_name FROM information_schema.columns WHERE "
                      "table_schema=%s AND table_name='ledger_events'",
                      (store.datastore.schema,))
            return {r["column_name"] for r in c.fetchall()}

    def refused_statements(self, store: Any) -> list[str]:
        t = store.tables.events
        return [f"UPDATE {t} SET hash='0'", f"DELETE FROM {t}", f"TRUNCATE {t}"]

    def test_settings_on_every_connection(self, store: Any) -> None:
        """The library's after_connect hook (autocommit, idle timeout) and ours (custom
        plans) on each connection of the pool."""
        ds = store.datastore
        with ds.get_connection() as c1, ds.get_connection() as c2:
            assert c1 is not c2
            for conn in (c1, c2):
                assert conn.autocommit
                cur = conn.cursor()
                cur.execute("SHOW plan_cache_mode")
                assert cur.fetchone()["plan_cache_mode"] == "force_custom_plan"

    def test_append_takes_the_ledgers_advisory_lock_not_a_table_lock(self,
                                                                     store: Any) -> None:
        key = append_lock_key(store.datastore.schema, LID) & (2**64 - 1)
        seen: dict[str, Any] = {}

        def probe(tx: AppendTx) -> None:
            tx.c.execute(
                "SELECT locktype, mode, classid::bigint AS hi, objid::bigint AS lo, "
                "objsubid, relation::regclass::text AS rel FROM pg_locks "
                "WHERE pid = pg_backend_pid() AND granted")
            seen["locks"] = tx.c.fetchall()

        store.append(probe)
        advisory = [(r["hi"], r["lo"], r["objsubid"], r["mode"]) for r in seen["locks"]
                    if r["locktype"] == "advisory"]
        assert advisory == [(key >> 32, key & 0xFFFFFFFF, 1, "ExclusiveLock")]
        table_locks = [r for r in seen["locks"] if r["locktype"] == "relation"
                       and (r["rel"] or "").endswith("ledger_events")
                       and r["mode"] not in ("AccessShareLock", "RowExclusiveLock")]
        assert table_locks == []
