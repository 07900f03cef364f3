"""The storage layer translates driver and library errors itself (both databases).

Inside ``store.read`` / ``store.append`` / ``store.entries`` / ``store.iter_rows`` /
``schema_exists`` / ``create_table``, a ``sqlite3.Error``, a ``psycopg.Error``, an
eventsourcing ``PersistenceError`` or an ``OSError`` comes out as ``StorageError``
(so no caller needs ``guard``); the message keeps the driver's first line only, so a
PostgreSQL ``DETAIL`` quoting a row's values never reaches it.  Errors of the ledger
(``LedgerError``) and bugs (``ValueError``…) pass through unchanged.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import PersistenceError

from ledger.errors import IntegrityError, StorageError
from ledger.storage import open_store
from ledger.storage.common import AppendTx

LID = uuid.UUID("0b7a4a9e-51c3-5d7e-8f00-4c0ffee00003")
PERSONAL = "alice.martin@example.fr"


@pytest.fixture
def store(db_url: str) -> Iterator[Any]:
    s = open_store(db_url, LID)
    s.create_table()
    yield s
    s.close()


def driver_error(exc: BaseException) -> bool:
    import psycopg
    return isinstance(exc.__cause__, (sqlite3.Error, psycopg.Error, PersistenceError))


def test_read_translates_a_driver_error(store: Any) -> None:
    def bad(tx: AppendTx) -> None:
        tx.c.execute("SELECT * FROM no_such_table")

    with pytest.raises(StorageError, match=r"^database error: ") as caught:
        store.read(bad)
    assert driver_error(caught.value)


def test_append_error_names_no_personal_value_and_stores_nothing(store: Any) -> None:
    meta = store.tables.meta
    insert = (f"INSERT INTO {meta} (ledger_id, name, key_fingerprint, format, created_at) "
              "VALUES (?, 'n', 'f', 1, 't')").replace("?", store.param)

    def twice(tx: AppendTx) -> None:
        tx.c.execute(insert, (PERSONAL,))
        tx.c.execute(insert, (PERSONAL,))  # the primary key refuses: the driver names the key

    with pytest.raises(StorageError) as caught:
        store.append(twice)
    assert driver_error(caught.value)
    assert PERSONAL not in str(caught.value)
    assert "alice" not in str(caught.value)
    count = store.read(lambda tx: (tx.c.execute(f"SELECT count(*) AS n FROM {meta}"),
                                   tx.c.fetchone())[1])
    assert count["n"] == 0  # rolled back: nothing of the failed append is stored


def test_entries_iter_rows_and_head_translate_a_driver_error(store: Any) -> None:
    store.append(lambda tx: tx.c.execute(f"DROP TABLE {store.tables.events}"))
    with pytest.raises(StorageError, match=r"^database error: "):
        list(store.entries())
    with pytest.raises(StorageError, match=r"^database error: "):
        list(store.iter_rows(1))
    with pytest.raises(StorageError, match=r"^database error: "):
        store.read(lambda tx: tx.head())
    assert not store.schema_exists()  # schema_exists answers plainly
    # the library's own read paths (unused by the ledger) keep the library's errors
    with pytest.raises(PersistenceError):
        store.select_events(LID)


def test_ledger_errors_and_bugs_pass_through_unchanged(store: Any) -> None:
    mine = IntegrityError("seq 3: missing")

    def raise_(exc: BaseException) -> Any:
        def fn(tx: AppendTx) -> None:
            raise exc
        return fn

    for call in (store.read, store.append):
        with pytest.raises(IntegrityError) as caught:
            call(raise_(mine))
        assert caught.value is mine
        with pytest.raises(ValueError, match="a bug"):
            call(raise_(ValueError("a bug")))


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not an SQLite database, " * 200)
    s = open_store(f"sqlite:///{path}", LID)
    try:
        with pytest.raises(StorageError, match=r"^database error: file is not a database"):
            s.schema_exists()
        with pytest.raises(StorageError, match=r"^database error: "):
            s.create_table()
        with pytest.raises(StorageError, match=r"^database error: "):
            list(s.entries())
    finally:
        s.close()
