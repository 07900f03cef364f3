"""PostgreSQL: eventsourcing's application recorder, extended for the chain.

* Appends take the ledger's own append lock first — a transaction-level
  advisory lock, ``pg_advisory_xact_lock(key)`` with the key of
  :func:`append_lock_key` — then read the head: ``seq`` comes from the head
  under the lock, never from a sequence.  Ledgers sharing one database, one
  schema and one event table append in parallel; two appends to one ledger
  follow each other.  Two ledgers whose keys collided (2⁻⁶⁴ per pair) would
  only wait for each other: correctness never rests on the key, since the
  primary key (originator_id, originator_version) refuses a second entry at a
  seq, so a fork cannot be stored even without any lock.
* The library's ``LOCK TABLE … IN EXCLUSIVE MODE`` made commit order equal
  ``notification_id`` order across the whole table; with per-ledger locks two
  ledgers' transactions may commit out of ``notification_id`` order.  Nothing
  of the ledger reads by ``notification_id``: verification, proofs and the
  projections (projections/mechanism.py, ``store.iter_rows``) follow one
  ledger by ``seq``.  Within one ledger ``notification_id`` still grows with
  ``seq``.  The library's notification log / projection runner must not be
  pointed at this table (docs/DECISIONS.md, "eventsourcing").
* The library's database-function insert path (``POSTGRES_ENABLE_DB_FUNCTIONS``)
  is not created here and the datastore keeps it off; ``insert_events`` is refused.
* A trigger refuses UPDATE, DELETE and TRUNCATE on the event table.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Connection
from psycopg.rows import DictRow, tuple_row

from ledger.errors import ConfigError
from ledger.storage.chained import ChainedRecorder, translated
from ledger.storage.common import Tables, event_index_sql, key_tables_sql
from ledger.storage.proof_tables import proof_tables_sql
from ledger.storage.stream_state import INIT_LOCK

__all__ = ["INIT_LOCK_KEY", "PostgresLedgerRecorder", "append_lock_key", "open_postgres",
           "parse_postgres_url"]

# create_table against create_table, and against the stream-state tables an older ledger's
# first append creates (DDL of two processes at once): one key, storage/stream_state.py
INIT_LOCK_KEY = INIT_LOCK


def append_lock_key(schema: str, ledger_id: uuid.UUID) -> int:
    """The 64-bit advisory-lock key of one ledger's appends.

    The first 8 bytes of ``SHA-256(b"ledger-append-lock\\0" + schema (UTF-8) + b"\\0" +
    the ledger id's 16 bytes)``, read as a signed big-endian integer (PostgreSQL's
    ``bigint``).  The schema is part of it because advisory locks are per database,
    and the same ledger name in two schemas gives the same ledger id.
    """
    digest = hashlib.sha256(b"ledger-append-lock\0" + schema.encode() + b"\0"
                            + ledger_id.bytes).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def parse_postgres_url(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    schema = query.get("schema", ["public"])[0]
    if not schema.replace("_", "").isalnum():
        raise ConfigError("LEDGER_DATABASE_URL: schema must be letters, digits and _")
    return {
        "dbname": (parts.path or "/").lstrip("/") or "postgres",
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
        "schema": schema,
    }


class PostgresLedgerRecorder(ChainedRecorder, PostgresApplicationRecorder):
    """The library's PostgreSQL application recorder with the chain's columns."""

    def __init__(self, datastore: PostgresDatastore, ledger_id: uuid.UUID, url: str) -> None:
        self.tables = Tables(schema=datastore.schema)
        self.param = "%s"
        self.ledger_oid = ledger_id
        self.ledger_key = str(ledger_id)
        self.url_for_humans = url.rsplit("@", maxsplit=1)[-1]
        self.append_lock_key = append_lock_key(datastore.schema, ledger_id)
        super().__init__(datastore, events_table_name="ledger_events")
        self.ledger_create_statements = self.construct_ledger_create_statements()

    def construct_ledger_create_statements(self) -> list[str]:
        """The ledger's tables; they replace the library's (no composite type, no function)."""
        t = self.tables
        schema = self.datastore.schema
        return [
            f"CREATE SCHEMA IF NOT EXISTS \"{schema}\"",
            f"CREATE TABLE IF NOT EXISTS {t.events} ("
            "originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, "
            "topic text NOT NULL, "
            "state bytea NOT NULL, "
            "notification_id bigserial, "
            "event_id text NOT NULL, "
            "hash text NOT NULL, "
            "stream text, "
            "PRIMARY KEY (originator_id, originator_version))",
            "CREATE UNIQUE INDEX IF NOT EXISTS ledger_events_notification_id_idx "
            f"ON {t.events} (notification_id ASC)",
            *event_index_sql(t),
            f"CREATE OR REPLACE FUNCTION {t.q('ledger_events_refuse')}() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
            "'ledger_events is append-only (% refused)', TG_OP; END $$",
            f"DROP TRIGGER IF EXISTS ledger_events_append_only ON {t.events}",
            "CREATE TRIGGER ledger_events_append_only BEFORE UPDATE OR DELETE "
            f"ON {t.events} FOR EACH ROW EXECUTE FUNCTION {t.q('ledger_events_refuse')}()",
            f"DROP TRIGGER IF EXISTS ledger_events_no_truncate ON {t.events}",
            "CREATE TRIGGER ledger_events_no_truncate BEFORE TRUNCATE "
            f"ON {t.events} FOR EACH STATEMENT EXECUTE FUNCTION "
            f"{t.q('ledger_events_refuse')}()",
            *key_tables_sql(t, blob="bytea"),
            *proof_tables_sql(t, blob="bytea", bigint="bigint"),
        ]

    def schema_exists(self) -> bool:
        with translated(), self._read_tx() as c:
            c.execute("SELECT count(*) AS n FROM information_schema.tables WHERE "
                      "table_schema=%s AND table_name IN ('ledger_events', 'ledger_meta', "
                      "'ledger_subject_keys')", (self.datastore.schema,))
            row = c.fetchone()
            return bool(row is not None and row["n"] == 3)

    def create_table(self) -> None:
        """Create the ledger's tables (the library's public method, overridden)."""
        with translated(), self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (INIT_LOCK_KEY,))
            for statement in self.ledger_create_statements:
                curs.execute(statement)

    @contextmanager
    def _write_tx(self) -> Iterator[Any]:
        with self.datastore.get_connection() as conn, conn.transaction():
            cursor = conn.cursor()
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self.append_lock_key,))
            yield cursor

    @contextmanager
    def _read_tx(self) -> Iterator[Any]:
        with self.datastore.get_connection() as conn, \
                conn.transaction(force_rollback=True):
            yield conn.cursor()

    def _select_tuples(self, cursor: Any, sql: str, params: Sequence[Any]) -> list[Any]:
        cursor.row_factory = tuple_row
        cursor.execute(sql, params)
        return list(cursor.fetchall())

    def checkpoint_wal(self) -> None:
        """Nothing to do here: see docs/OPERATIONS.md (VACUUM, backups)."""

    def close(self) -> None:
        self.datastore.close()


class LedgerPostgresDatastore(PostgresDatastore):
    """The library's datastore; its public ``after_connect_func`` hook adds one SET."""

    def after_connect_func(self) -> Callable[[Connection[Any]], None]:
        library_setup = super().after_connect_func()

        def after_connect(conn: Connection[Any]) -> None:
            library_setup(conn)
            # psycopg prepares a statement after five runs; a generic plan made
            # while the tables were small would scan them once they are large.
            conn.cursor().execute("SET plan_cache_mode = force_custom_plan")

        return after_connect


def open_postgres(url: str, ledger_id: uuid.UUID, *, pool_size: int = 2,
                  connect_timeout: float = 10.0) -> PostgresLedgerRecorder:
    params = parse_postgres_url(url)
    datastore = LedgerPostgresDatastore(
        params["dbname"], params["host"], params["port"], params["user"],
        params["password"], schema=params["schema"], pool_size=pool_size, max_overflow=4,
        connect_timeout=connect_timeout, enable_db_functions=False,
    )
    return PostgresLedgerRecorder(datastore, ledger_id, url)


_ = DictRow  # psycopg's row type, re-exported for type checkers of callers
