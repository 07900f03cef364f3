"""The chained-append behaviour both recorders share (a mixin over eventsourcing's recorders).

A recorder supplies two context managers: ``_write_tx`` (a transaction that
holds the ledger's append lock from its first statement) and ``_read_tx``.
Everything else — reading the head, the idempotency look-up, the keys, the
insert — is the same SQL on both databases, in :class:`AppendTx`.

Errors: every public method of the storage layer (:meth:`append`, :meth:`read`,
:meth:`iter_rows`, :meth:`entries`, ``create_table``, ``schema_exists``,
``checkpoint_wal``, ``open_store``) raises the drivers' and the library's
errors (``sqlite3.Error``, ``psycopg.Error``, eventsourcing's
``PersistenceError``, ``OSError``) as :class:`~ledger.errors.StorageError`,
through :func:`translated`; a :class:`~ledger.errors.LedgerError` raised inside
(an ``InputError`` of a rule, an ``IntegrityError``…) passes through unchanged.
The message keeps the first line of the driver's message only: PostgreSQL's
``DETAIL`` and ``CONTEXT`` lines may quote a row's values.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

from eventsourcing.persistence import PersistenceError, StoredEvent

from ledger.errors import LedgerError, StorageError
from ledger.storage.common import AppendTx, Cursorish, StoredRow, Tables
from ledger.storage.many_params import placeholders

__all__ = ["ChainedRecorder", "is_driver_error", "storage_error", "translated"]

T = TypeVar("T")


def is_driver_error(exc: BaseException) -> bool:
    """An error of the library or of a database driver (not of the ledger, not a bug)."""
    if isinstance(exc, LedgerError):
        return False
    if isinstance(exc, (PersistenceError, sqlite3.Error, OSError)):
        return True
    # psycopg is imported only when a PostgreSQL store is opened (it costs ~0.2 s)
    pg = sys.modules.get("psycopg")
    return pg is not None and isinstance(exc, pg.Error)


def storage_error(exc: BaseException) -> StorageError:
    """The StorageError for a driver's error: its first line only (no quoted row values)."""
    text = str(exc).strip().splitlines()
    first = text[0].strip() if text else type(exc).__name__
    return StorageError(f"database error: {first}")


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise the drivers' and the library's errors as StorageError; a LedgerError as is."""
    try:
        yield
    except Exception as exc:
        if is_driver_error(exc):
            raise storage_error(exc) from exc
        raise


class ChainedRecorder:
    """Append through :meth:`append` only: it assigns ``seq`` under the lock."""

    tables: Tables
    param: str
    ledger_oid: Any
    ledger_key: str
    url_for_humans: str

    def _write_tx(self) -> AbstractContextManager[Cursorish]:
        raise NotImplementedError

    def _read_tx(self) -> AbstractContextManager[Cursorish]:
        raise NotImplementedError

    def _select_tuples(self, cursor: Any, sql: str, params: Sequence[Any]) -> list[Any]:
        """Rows as plain tuples (cheaper than named rows, for long scans)."""
        raise NotImplementedError

    def _tx(self, cursor: Cursorish) -> AppendTx:
        return AppendTx(cursor, ledger_id=self.ledger_oid, ledger_key=self.ledger_key,
                        tables=self.tables, param=self.param)

    def append(self, fn: Callable[[AppendTx], T]) -> T:
        """Run ``fn`` inside one write transaction under the append lock; commit."""
        with translated(), self._write_tx() as c:
            return fn(self._tx(c))

    def read(self, fn: Callable[[AppendTx], T]) -> T:
        """Run ``fn`` inside one read-only transaction (rolled back)."""
        with translated(), self._read_tx() as c:
            return fn(self._tx(c))

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        """Refused: an unchained insert would break the ledger (use :meth:`append`)."""
        raise StorageError("the ledger's event table is appended to through Ledger.append only")

    def iter_rows(self, start: int = 1, stop: int | None = None,
                  page: int = 20000) -> Iterator[tuple[int, str, bytes]]:
        """``(seq, hash, state)`` in seq order, ``start`` to ``stop`` inclusive, page by page."""
        sql = (f"SELECT originator_version AS seq, hash, state FROM {self.tables.events} "
               "WHERE originator_id=? AND originator_version>=? AND originator_version<=? "
               "ORDER BY originator_version LIMIT ?")
        sql = placeholders(sql, self.param)
        last = stop if stop is not None else 2**62
        pos = start
        while pos <= last:
            with translated(), self._read_tx() as c:  # both drivers give int, str, bytes
                rows = self._select_tuples(c, sql, (self.ledger_oid, pos, last, page))
            if not rows:
                return
            yield from rows
            pos = rows[-1][0] + 1

    def entries(self, *, start: int = 1, stream: str | None = None,
                types: Sequence[str] = (), page: int = 5000) -> Iterator[StoredRow]:
        """Stored rows in seq order, optionally one stream's or some types' only."""
        where = "originator_id=? AND originator_version>=?"
        extra: list[Any] = []
        if stream is not None:
            where += " AND stream=?"
            extra.append(stream)
        if len(types) == 1:  # "=": the partial index of the policy entries applies
            where += " AND topic=?"
            extra.extend(types)
        elif types:
            where += f" AND topic IN ({','.join('?' * len(types))})"
            extra.extend(types)
        sql = ("SELECT originator_version AS seq, event_id, topic, stream, state, hash "
               f"FROM {self.tables.events} WHERE {where} ORDER BY originator_version LIMIT ?")
        sql = placeholders(sql, self.param)
        pos = start
        while True:
            with translated(), self._read_tx() as c:
                c.execute(sql, (self.ledger_oid, pos, *extra, page))
                rows = c.fetchall()
            if not rows:
                return
            for r in rows:
                yield StoredRow(int(r["seq"]), str(r["event_id"]), r["topic"], r["stream"],
                                bytes(r["state"]), r["hash"])
            pos = int(rows[-1]["seq"]) + 1
