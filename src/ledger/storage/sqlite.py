"""SQLite: eventsourcing's application recorder, extended for the chain.

* Writers start with ``BEGIN IMMEDIATE``: the write lock is taken before the
  head is read, so two processes never compute the same ``seq`` (a plain
  ``BEGIN`` upgrades later and fails with "database is locked").
* Every connection sets ``secure_delete=ON`` (a destroyed key leaves no
  bytes in the file), ``synchronous=FULL`` in WAL mode (an acknowledged append
  survives a crash of the process or of the machine) and a long busy timeout.
  The library has no public per-connection hook for SQLite, so the datastore's
  public ``get_connection`` is extended: the first time the pool hands out a
  connection, its PRAGMAs are run through the connection's public cursor (a
  weak set remembers the connections already set; the library's own reads,
  ``select_events`` included, go through the same ``get_connection``).
* Triggers refuse UPDATE and DELETE on the event table.
* One database file has one writer at a time (SQLite's design): several
  ledgers in one file append one after the other.  For ledgers that must
  append in parallel, give each its own file.
"""

from __future__ import annotations

import sqlite3
import uuid
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteCursor,
    SQLiteDatastore,
)

from ledger.errors import StorageError
from ledger.storage.chained import ChainedRecorder, is_driver_error, storage_error, translated
from ledger.storage.common import Tables, event_index_sql, key_tables_sql
from ledger.storage.proof_tables import proof_tables_sql

__all__ = ["PRAGMAS", "SQLiteLedgerRecorder", "open_sqlite"]

BUSY_TIMEOUT_S = 60
PRAGMAS = ("PRAGMA secure_delete=ON", "PRAGMA synchronous=FULL",
           f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")


class LedgerSQLiteDatastore(SQLiteDatastore):
    """The library's datastore; each connection gets the ledger's PRAGMAs before first use."""

    def __init__(self, path: str) -> None:
        super().__init__(path, lock_timeout=BUSY_TIMEOUT_S, originator_id_type="uuid")
        self.configured: weakref.WeakSet[SQLiteConnection] = weakref.WeakSet()

    @contextmanager
    def get_connection(self, *, commit: bool) -> Iterator[SQLiteConnection]:
        with super().get_connection(commit=commit) as conn:
            if conn not in self.configured:
                with conn.cursor() as cur:  # the connection's public cursor, autocommit
                    for pragma in PRAGMAS:
                        cur.execute(pragma)
                self.configured.add(conn)
            yield conn


class SQLiteLedgerRecorder(ChainedRecorder, SQLiteApplicationRecorder):
    """The library's SQLite application recorder with the chain's columns."""

    def __init__(self, datastore: SQLiteDatastore, ledger_id: uuid.UUID, path: str) -> None:
        self.tables = Tables()
        self.param = "?"
        self.ledger_oid = ledger_id.hex  # how the library stores UUID originator ids
        self.ledger_key = str(ledger_id)
        self.url_for_humans = f"sqlite:///{path}"
        self.path = path
        super().__init__(datastore, events_table_name="ledger_events")

    def construct_create_table_statements(self) -> list[str]:
        t = self.tables
        return [
            f"CREATE TABLE IF NOT EXISTS {t.events} ("
            "originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, "
            "topic TEXT NOT NULL, "
            "state BLOB NOT NULL, "
            "event_id TEXT NOT NULL, "
            "hash TEXT NOT NULL, "
            "stream TEXT, "
            "PRIMARY KEY (originator_id, originator_version))",
            *event_index_sql(t),
            f"CREATE TRIGGER IF NOT EXISTS ledger_events_no_update BEFORE UPDATE ON {t.events} "
            "BEGIN SELECT RAISE(ABORT, 'ledger_events is append-only'); END",
            f"CREATE TRIGGER IF NOT EXISTS ledger_events_no_delete BEFORE DELETE ON {t.events} "
            "BEGIN SELECT RAISE(ABORT, 'ledger_events is append-only'); END",
            *key_tables_sql(t, blob="BLOB"),
            *proof_tables_sql(t, blob="BLOB", bigint="INTEGER"),
        ]

    def create_table(self) -> None:
        with translated():
            super().create_table()

    def schema_exists(self) -> bool:
        with translated(), self._read_tx() as c:
            c.execute("SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                      "('ledger_events', 'ledger_meta', 'ledger_subject_keys')")
            return bool(c.fetchone()[0] == 3)

    @contextmanager
    def _write_tx(self) -> Iterator[SQLiteCursor]:
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                cursor.sqlite_cursor.close()

    @contextmanager
    def _read_tx(self) -> Iterator[SQLiteCursor]:
        with self.datastore.get_connection(commit=False) as conn:
            cursor = conn.cursor()
            try:
                cursor.execute("BEGIN")
                yield cursor
            finally:
                conn.rollback()
                cursor.sqlite_cursor.close()

    def _select_tuples(self, cursor: SQLiteCursor, sql: str, params: Sequence[Any]) -> list[Any]:
        raw = cursor.sqlite_cursor
        raw.row_factory = None
        raw.execute(sql, params)
        return raw.fetchall()

    def checkpoint_wal(self) -> None:
        """Fold the write-ahead log into the file and truncate it (after an erasure)."""
        with translated(), self.datastore.get_connection(commit=True) as conn, \
                conn.cursor() as cur:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.datastore.close()


def open_sqlite(path: str, ledger_id: uuid.UUID) -> SQLiteLedgerRecorder:
    try:
        return SQLiteLedgerRecorder(LedgerSQLiteDatastore(path), ledger_id, path)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open SQLite database {path}: {exc}") from exc
    except Exception as exc:
        if is_driver_error(exc):
            raise storage_error(exc) from exc
        raise
