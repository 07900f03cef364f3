"""PostgreSQL: eventsourcing's application recorder, extended for the chain.

* Appends take the library's ``LOCK TABLE … IN EXCLUSIVE MODE`` first, then
  read the head: ``seq`` comes from the head under the lock, never from a
  sequence (``notification_id`` burns numbers on failed inserts and stays the
  library's own position for followers).
* The library's database-function insert path (``POSTGRES_ENABLE_DB_FUNCTIONS``)
  skips the table lock: it is not created here and the datastore keeps it off.
* A trigger refuses UPDATE, DELETE and TRUNCATE on the event table.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Connection
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL

from ledger.errors import ConfigError
from ledger.storage.chained import ChainedRecorder
from ledger.storage.common import Tables, event_index_sql, key_tables_sql
from ledger.storage.proof_tables import proof_tables_sql

__all__ = ["PostgresLedgerRecorder", "open_postgres", "parse_postgres_url"]


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
        super().__init__(datastore, events_table_name="ledger_events")
        t = self.tables
        statements = [
            f"CREATE SCHEMA IF NOT EXISTS \"{datastore.schema}\"",
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
        # Replace the library's statements: no composite type, no insert function.
        self.sql_create_statements = [SQL(s) for s in statements]  # type: ignore[misc]

    def schema_exists(self) -> bool:
        with self._read_tx() as c:
            c.execute("SELECT count(*) AS n FROM information_schema.tables WHERE "
                      "table_schema=%s AND table_name IN ('ledger_events', 'ledger_meta', "
                      "'ledger_subject_keys')", (self.datastore.schema,))
            row = c.fetchone()
            return bool(row is not None and row["n"] == 3)

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(7355608)")  # init vs init
            self._create_table(curs)

    @contextmanager
    def _write_tx(self) -> Iterator[Any]:
        with self.datastore.get_connection() as conn, conn.transaction():
            cursor = conn.cursor()
            self._lock_table(cursor)
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


class _Datastore(PostgresDatastore):
    def after_connect_func(self) -> Callable[[Connection[Any]], None]:
        library_setup = super().after_connect_func()

        def after_connect(conn: Connection[Any]) -> None:
            library_setup(conn)
            # psycopg prepares a statement after five runs; a generic plan made
            # while the tables were small would scan them once they are large.
            conn.cursor().execute("SET plan_cache_mode = force_custom_plan")

        return after_connect


def open_postgres(url: str, ledger_id: uuid.UUID, *, pool_size: int = 2) -> \
        PostgresLedgerRecorder:
    params = parse_postgres_url(url)
    datastore = _Datastore(
        params["dbname"], params["host"], params["port"], params["user"],
        params["password"], schema=params["schema"], pool_size=pool_size, max_overflow=4,
        connect_timeout=10, enable_db_functions=False,
    )
    return PostgresLedgerRecorder(datastore, ledger_id, url)


_ = DictRow  # psycopg's row type, re-exported for type checkers of callers
