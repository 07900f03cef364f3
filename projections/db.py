"""The projections' tables (SQLAlchemy Core) and the engine for a ledger URL.

Every table is named ``proj_*`` and carries ``ledger_id`` first, so several
ledgers share one database.  Times are stored as the ledger stores them:
text in ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC), which sorts as it compares.

``sqlite:///path`` is used as is; ``postgresql://…?schema=X`` becomes
``postgresql+psycopg://…`` with the tables in schema ``X`` (through
SQLAlchemy's ``schema_translate_map``, so the table objects stay schema-free).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
)

from ledger.app.database import postgres_schema
from ledger.errors import ConfigError

__all__ = ["METADATA", "engine_for", "tables"]

METADATA = MetaData()


def _lid() -> Column[Any]:
    return Column("ledger_id", String(36), nullable=False)


positions = Table(
    "proj_positions", METADATA, _lid(),
    Column("projection", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(32)),
    Index("proj_positions_pk", "ledger_id", "projection", unique=True),
)

# consent: one row per ConsentGiven / ConsentRefused / ConsentWithdrawn (the history)
consent_history = Table(
    "proj_consent_history", METADATA, _lid(),
    Column("seq", Integer, nullable=False),
    Column("subject", String(64), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # granted, refused, withdrawn
    Column("occurred_at", String(32), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("policy_version", String(64)),
    Column("method", String(16), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("proj_consent_history_subject", "ledger_id", "subject", "purpose"),
    Index("proj_consent_history_seq", "ledger_id", "seq", unique=True),
    Index("proj_consent_history_purpose", "ledger_id", "purpose", "occurred_at"),
)
# the notice a choice cites (data.notice_id): one row per citing choice, keyed by its seq
consent_citations = Table(
    "proj_consent_citations", METADATA, _lid(),
    Column("seq", Integer, nullable=False),
    Column("notice_id", String(128), nullable=False),
    Column("notice_digest", String(64), nullable=False),
    Index("proj_consent_citations_seq", "ledger_id", "seq", unique=True),
)
# notices: one row per NoticePublished (the texts people saw; not personal data)
notices = Table(
    "proj_notices", METADATA, _lid(),
    Column("notice_id", String(128), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # banner, form, notice
    Column("language", String(64), nullable=False),
    Column("digest", String(64), nullable=False),  # SHA-256 of the text's UTF-8 bytes
    Column("text", Text, nullable=False),
    Column("occurred_at", String(32), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("proj_notices_key", "ledger_id", "notice_id", unique=True),
)

# retention: one row per DataCollected; erasures, anonymisations and holds beside it
retention_items = Table(
    "proj_retention_items", METADATA, _lid(),
    Column("seq", Integer, nullable=False),
    Column("collection_id", String(36), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("category", String(64), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("collected_at", String(32), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("policy_version", String(64)),
    Column("deadline", String(32)),  # NULL: the policy sets no period
    Column("hash", String(64), nullable=False),
    Column("basis", String(32)),  # the purpose's legal basis in that policy (NULL: unknown)
    Index("proj_retention_items_seq", "ledger_id", "seq", unique=True),
    Index("proj_retention_items_subject", "ledger_id", "subject"),
    Index("proj_retention_items_deadline", "ledger_id", "deadline"),
)
retention_erasures = Table(
    "proj_retention_erasures", METADATA, _lid(),
    Column("seq", Integer, nullable=False),
    Column("subject", String(64), nullable=False),
    Column("category", String(64)),  # NULL: SubjectErased (every category)
    Column("kind", String(16), nullable=False),  # erased, anonymised
    Column("occurred_at", String(32), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Index("proj_retention_erasures_subject", "ledger_id", "subject"),
)
# what makes items due before their retention period ends (item 3 of issue 10): a
# withdrawal, an objection, a granted erasure request; and the erasure requests received
retention_triggers = Table(
    "proj_retention_triggers", METADATA, _lid(),
    Column("seq", Integer, nullable=False),
    Column("subject", String(64), nullable=False),
    Column("purpose", String(64)),  # NULL: every consent-based purpose (erasure request)
    # consent_withdrawn, objection, erasure_request; erasure_request_received (not a trigger)
    Column("kind", String(32), nullable=False),
    Column("request_id", String(128)),
    Column("occurred_at", String(32), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("due_at", String(32)),  # occurred + the policy's erasure_grace (NULL: not a trigger)
    Index("proj_retention_triggers_subject", "ledger_id", "subject"),
)
holds = Table(
    "proj_holds", METADATA, _lid(),
    Column("subject", String(64), nullable=False),
    Column("hold_id", String(128), nullable=False),
    Column("basis", String(32), nullable=False),
    Column("placed_seq", Integer, nullable=False),
    Column("placed_at", String(32), nullable=False),
    Column("released_seq", Integer),
    Column("released_at", String(32)),
    Column("placed_recorded_at", String(32), nullable=False),
    Column("released_recorded_at", String(32)),
    Index("proj_holds_subject", "ledger_id", "subject", "hold_id"),
)

# requests: one row per rights request
rights_requests = Table(
    "proj_requests", METADATA, _lid(),
    Column("subject", String(64), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("right", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("received_at", String(32), nullable=False),
    Column("due_at", String(32), nullable=False),  # without the extension
    Column("extended_at", String(32)),
    Column("extension_reason", Text),
    Column("closed_at", String(32)),
    Column("closed_seq", Integer),
    Column("outcome", String(16)),  # fulfilled, refused
    Column("outcome_text", Text),
    # when each transition was recorded, and the due date once extended (the time model)
    Column("received_recorded_at", String(32), nullable=False),
    Column("extended_due_at", String(32)),
    Column("extended_recorded_at", String(32)),
    Column("closed_recorded_at", String(32)),
    Index("proj_requests_key", "ledger_id", "subject", "request_id", unique=True),
)

# breaches: the register, one row per breach (its detection) and one per later step
breaches = Table(
    "proj_breaches", METADATA, _lid(),
    Column("breach_id", String(128), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("detected_at", String(32), nullable=False),
    Column("discovered_at", String(32), nullable=False),
    Column("deadline", String(32), nullable=False),
    Column("hours_allowed", Integer, nullable=False),
    Column("nature", Text, nullable=False),   # JSON list
    Column("risk", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("art33", Text, nullable=False),  # JSON: the Art. 33(3) items given at detection
    Column("recorded_at", String(32), nullable=False),
    Index("proj_breaches_key", "ledger_id", "breach_id", unique=True),
)
breach_steps = Table(  # one row per BreachNotified / BreachCommunicated
    "proj_breach_steps", METADATA, _lid(),
    Column("seq", Integer, nullable=False),
    Column("breach_id", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # notified, communicated
    Column("occurred_at", String(32), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("data", Text, nullable=False),  # JSON: the step's fields the register shows
    Index("proj_breach_steps_key", "ledger_id", "breach_id", "seq", unique=True),
)

# disclosures: one row per DataDisclosed (for the ROPA and the exports)
disclosures = Table(
    "proj_disclosures", METADATA, _lid(),
    Column("seq", Integer, nullable=False),
    Column("subject", String(64)),
    Column("recipient", String(64), nullable=False),
    Column("recipient_kind", String(16), nullable=False),
    Column("country", String(2), nullable=False),
    Column("categories", Text, nullable=False),  # JSON list
    Column("purpose", String(64), nullable=False),
    Column("outside_eea", Integer, nullable=False),
    Column("safeguard", String(64)),
    Column("subject_count", Integer, nullable=False),
    Column("occurred_at", String(32), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Index("proj_disclosures_seq", "ledger_id", "seq", unique=True),
    Index("proj_disclosures_purpose", "ledger_id", "purpose"),
)


def tables() -> dict[str, Table]:
    return dict(METADATA.tables)


def create_all(conn: Connection) -> None:
    """Create the tables; first drop any whose columns differ from the code's (older code).

    Projection tables are rebuildable: a table of an older layout is dropped and
    created again, and the projection's changed ``version`` makes the next
    catch-up project it from zero.
    """
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    found = inspect(conn)
    for table in METADATA.sorted_tables:
        if not found.has_table(table.name, schema=schema):
            continue
        have = {c["name"] for c in found.get_columns(table.name, schema=schema)}
        if have != {c.name for c in table.columns}:
            table.drop(conn)
    METADATA.create_all(conn)


def _sqlalchemy_url(url: str) -> tuple[str, str | None]:
    """The SQLAlchemy URL and the PostgreSQL schema (None on SQLite)."""
    if url.startswith("sqlite:///"):
        return url, None
    if "://" not in url:
        return f"sqlite:///{url}", None
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError("LEDGER_DATABASE_URL: must start with sqlite:/// or postgresql://")
    schema = postgres_schema(url)  # validates the schema name
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("schema="))
    return urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, query, "")), schema


def engine_for(url: str) -> Engine:
    """An engine on the ledger's database.

    On SQLite, a transaction begun on ``engine.execution_options(write=True)``
    begins IMMEDIATE (the write lock before the first read); others are deferred.
    """
    sa_url, schema = _sqlalchemy_url(url)
    if schema is None:
        engine = create_engine(sa_url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            dbapi_conn.execute("PRAGMA busy_timeout=60000")
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            # Projections are rebuildable: in WAL mode NORMAL keeps every commit atomic
            # (rows and position together) and may lose only the last ones on a power
            # cut, which the next catch-up projects again.
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")
            dbapi_conn.execute("PRAGMA cache_size=-262144")
            # The ledger's own connections zero every freed page (secure_delete=ON, for
            # destroyed keys); projection rows hold no key and no clear personal value,
            # so their deletes zero only what costs no extra write.
            dbapi_conn.execute("PRAGMA secure_delete=FAST")

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # writers take the lock first (no failed upgrade); readers do not block writers
            write = conn.get_execution_options().get("write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    engine = create_engine(sa_url, pool_size=2, max_overflow=2)
    return engine.execution_options(schema_translate_map={None: schema})
