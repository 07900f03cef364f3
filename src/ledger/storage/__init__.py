"""Storage: one code path, two databases.

``open_store(url, ledger_id)`` returns a recorder — eventsourcing's
application recorder for SQLite or PostgreSQL, extended with
:class:`~ledger.storage.chained.ChainedRecorder` — chosen by the URL:

* ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or a bare path;
* ``postgresql://user:password@host:port/dbname?schema=name``.

Errors: ``open_store`` and every public method of the store it returns raise
the drivers' and the library's errors as :class:`~ledger.errors.StorageError`
(:func:`ledger.storage.chained.translated`); errors of the ledger pass through.

Several ledgers in one database: on PostgreSQL each ledger has its own append
lock (ledgers append in parallel); an SQLite file has one writer at a time, so
ledgers that must append in parallel each get their own file.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from ledger.errors import ConfigError
from ledger.storage.common import AppendTx, KeyRow, StoredRow

if TYPE_CHECKING:
    from ledger.storage.postgres import PostgresLedgerRecorder
    from ledger.storage.sqlite import SQLiteLedgerRecorder

    Store: TypeAlias = "SQLiteLedgerRecorder | PostgresLedgerRecorder"

__all__ = ["AppendTx", "KeyRow", "StoredRow", "open_store", "sqlite_path"]


def sqlite_path(url: str) -> str | None:
    """The file path of an SQLite URL, or None for another database."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):]
    if "://" not in url:
        return url
    return None


def open_store(url: str, ledger_id: uuid.UUID, *, connect_timeout: float = 10.0) -> Store:
    """``connect_timeout``: PostgreSQL only, the longest wait for a connection (a
    replica's reads use a short one: ledger.app.replicas)."""
    from ledger.storage.chained import translated
    with translated():
        return _open_store(url, ledger_id, connect_timeout)


def _open_store(url: str, ledger_id: uuid.UUID, connect_timeout: float = 10.0) -> Store:
    path = sqlite_path(url)
    if path is not None:
        if not path or path == ":memory:":
            raise ConfigError("LEDGER_DATABASE_URL: an SQLite ledger needs a file path")
        if not Path(path).parent.exists():
            raise ConfigError(f"LEDGER_DATABASE_URL: folder {Path(path).parent} does not exist")
        from ledger.storage.sqlite import open_sqlite
        return open_sqlite(path, ledger_id)
    if url.startswith(("postgresql://", "postgres://")):
        from ledger.storage.postgres import open_postgres
        return open_postgres(url, ledger_id, connect_timeout=connect_timeout)
    raise ConfigError("LEDGER_DATABASE_URL: must start with sqlite:/// or postgresql://")
