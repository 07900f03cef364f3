"""What both databases share: the tables, and the operations of an append.

The event table *is* eventsourcing's application table, extended:

    originator_id       the ledger's id (one chain per ledger id)
    originator_version  seq: 1, 2, 3… — the library's primary key
                        (originator_id, originator_version) makes a fork or a
                        reused seq impossible at the database level
    topic               the event type
    state               the entry's canonical bytes (RFC 8785), exactly what is hashed
    event_id            idempotency key, unique per ledger
    hash                SHA-256 of state, lowercase hex
    stream              index of the history a rule may read (subject pseudonym,
                        breach/<id>, policy); derived from the entry

Every statement is written once with ``?`` placeholders; the PostgreSQL
recorder swaps them for ``%s``.  The SQL text holds fixed identifiers only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import ledger.storage.stream_state as _state
from ledger.storage.many_params import CountingCursor, ManyParams
from ledger.storage.stream_state import ChoiceRow, StateRow, stream_state_sql

__all__ = ["AppendTx", "CountingCursor", "HeadRow", "KeyRow", "StoredRow", "Tables"]


@dataclass(frozen=True, slots=True)
class Tables:
    """Table names, qualified by a PostgreSQL schema when there is one."""

    schema: str | None = None

    def q(self, name: str) -> str:
        return f'"{self.schema}".{name}' if self.schema else name

    @property
    def events(self) -> str:
        return self.q("ledger_events")

    @property
    def meta(self) -> str:
        return self.q("ledger_meta")

    @property
    def keys(self) -> str:
        return self.q("ledger_subject_keys")

    @property
    def shredded(self) -> str:
        return self.q("ledger_shredded_keys")

    @property
    def tokens(self) -> str:
        return self.q("ledger_api_tokens")


@dataclass(frozen=True, slots=True)
class HeadRow:
    seq: int
    hash: str
    state: bytes


@dataclass(frozen=True, slots=True)
class StoredRow:
    seq: int
    event_id: str
    type: str
    stream: str | None
    state: bytes
    hash: str


@dataclass(frozen=True, slots=True)
class KeyRow:
    subject: str
    scope: str
    epoch: int
    wrapped: bytes | None  # None: destroyed (a tombstone)


class Cursorish(Protocol):
    def execute(self, *args: Any, **kwargs: Any) -> Any: ...
    def fetchall(self) -> Any: ...
    def fetchone(self) -> Any: ...
    def executemany(self, *args: Any, **kwargs: Any) -> Any: ...


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class AppendTx(ManyParams):
    """The operations of one append, inside the transaction that holds the lock."""

    # Tests of the write path's cost set this to a list: every transaction's counting
    # cursor is appended to it.
    watch: list[CountingCursor] | None = None

    def __init__(self, cursor: Cursorish, *, ledger_id: Any, ledger_key: str,
                 tables: Tables, param: str) -> None:
        self.c = CountingCursor(cursor)
        if AppendTx.watch is not None:
            AppendTx.watch.append(self.c)
        self.lid = ledger_id          # as the originator_id column wants it
        self.lkey = ledger_key        # ledger id as text, for the key tables
        self.t = tables
        self.p = param
        self._new_keys: list[tuple[str, str, str, int, bytes]] = []
        self._raw: CountingCursor | None = None  # PostgreSQL: see ManyParams.long()

    def head(self) -> HeadRow | None:
        self.c.execute(self._sql(
            f"SELECT originator_version AS seq, hash, state FROM {self.t.events} "
            "WHERE originator_id=? ORDER BY originator_version DESC LIMIT 1"), (self.lid,))
        row = self.c.fetchone()
        if row is None:
            return None
        return HeadRow(int(row["seq"]), row["hash"], bytes(row["state"]))

    def find_event_ids(self, event_ids: Sequence[str]) -> dict[str, StoredRow]:
        found: dict[str, StoredRow] = {}
        for chunk in _chunks(list(dict.fromkeys(event_ids))):
            for row in self.by_keys("originator_version AS seq, event_id, topic, stream, "
                                    "state, hash", self.t.events, "originator_id=?",
                                    (self.lid,), column="event_id", keys=chunk):
                found[row["event_id"]] = _stored(row)
        return found

    def streams(self, streams: Sequence[str]) -> list[StoredRow]:
        rows: list[StoredRow] = []
        for chunk in _chunks(list(dict.fromkeys(streams))):
            rows.extend(_stored(r) for r in self.by_keys(
                "originator_version AS seq, event_id, topic, stream, state, hash",
                self.t.events, "originator_id=?", (self.lid,), column="stream", keys=chunk))
        # Sorted here: an ORDER BY on the primary key makes SQLite walk the whole table.
        rows.sort(key=lambda r: r.seq)
        return rows

    def last_seq_of_type(self, type_: str) -> int:
        self.c.execute(self._sql(
            f"SELECT MAX(originator_version) AS m FROM {self.t.events} "
            "WHERE originator_id=? AND topic=?"), (self.lid, type_))
        row = self.c.fetchone()
        return int(row["m"]) if row is not None and row["m"] is not None else 0

    def keys(self, subjects: Sequence[str]) -> list[KeyRow]:
        out: list[KeyRow] = []
        for chunk in _chunks(list(dict.fromkeys(subjects))):
            out.extend(KeyRow(r["subject"], r["scope"], int(r["epoch"]), bytes(r["wrapped"]))
                       for r in self.by_keys("subject, scope, epoch, wrapped", self.t.keys,
                                             "ledger_id=?", (self.lkey,), column="subject",
                                             keys=chunk))
            out.extend(KeyRow(r["subject"], r["scope"], int(r["epoch"]), None)
                       for r in self.by_keys("subject, scope, epoch", self.t.shredded,
                                             "ledger_id=?", (self.lkey,), column="subject",
                                             keys=chunk))
        return out

    def put_key(self, subject: str, scope: str, epoch: int, wrapped: bytes) -> None:
        """Store a new wrapped key (written with the batch, in the same transaction)."""
        self._new_keys.append((self.lkey, subject, scope, epoch, wrapped))

    def _flush_keys(self) -> None:
        if self._new_keys:
            self.insert_rows(f"INSERT INTO {self.t.keys} (ledger_id, subject, scope, epoch, "
                             "wrapped)", self._new_keys)
            self._new_keys = []

    def destroy_keys(self, subject: str, scopes: Iterable[str] | None, seq: int) -> None:
        """Delete the data keys (all, or those of ``scopes``) and leave tombstones."""
        self._flush_keys()
        keys = [k for k in self.keys([subject])
                if k.wrapped is not None and (scopes is None or k.scope in set(scopes))]
        for k in keys:
            self.c.execute(self._sql(
                f"DELETE FROM {self.t.keys} WHERE ledger_id=? AND subject=? AND scope=? "
                "AND epoch=?"), (self.lkey, subject, k.scope, k.epoch))
            self.c.execute(self._sql(
                f"INSERT INTO {self.t.shredded} (ledger_id, subject, scope, epoch, seq) "
                "VALUES (?,?,?,?,?)"), (self.lkey, subject, k.scope, k.epoch, seq))

    def insert(self, rows: Sequence[StoredRow]) -> None:
        self._flush_keys()
        self.insert_rows(
            f"INSERT INTO {self.t.events} (originator_id, originator_version, topic, state, "
            "event_id, hash, stream)",
            [(self.lid, r.seq, r.type, r.state, r.event_id, r.hash, r.stream) for r in rows])


    # -- the folded state of the streams (ledger.storage.stream_state) ------------------
    def create_stream_state(self) -> None:
        _state.create(self)

    def state_built_seq(self) -> int | None:
        return _state.built_seq(self)

    def set_state_built(self, seq: int) -> None:
        _state.set_built(self, seq)

    def stream_states(self, streams: Sequence[str]) -> dict[str, tuple[int, str]]:
        return _state.read_states(self, streams)

    def put_stream_states(self, rows: Sequence[StateRow]) -> None:
        _state.write_states(self, rows)

    def add_choices(self, rows: Sequence[ChoiceRow]) -> None:
        _state.add_choices(self, rows)

    def latest_choice(self, stream: str, purpose: str,
                      at: str) -> tuple[str, int, str, str | None] | None:
        return _state.latest_choice(self, stream, purpose, at)

    def latest_choices(self, pairs: Sequence[tuple[str, str]]) \
            -> dict[tuple[str, str], tuple[str, int, str, str | None]]:
        return _state.latest_choices(self, pairs)

    def collection_category(self, stream: str, event_id: str) -> str | None:
        return _state.collection_category(self, stream, event_id)

    def clear_stream_state(self) -> None:
        _state.clear(self)

    def all_stream_states(self) -> list[StateRow]:
        return _state.all_states(self)

    def all_choices(self) -> list[ChoiceRow]:
        return _state.all_choices(self)

    def events_after(self, after: int, limit: int = 2000) -> list[StoredRow]:
        """Up to ``limit`` entries with seq > ``after``, in seq order."""
        self.c.execute(self._sql(
            "SELECT originator_version AS seq, event_id, topic, stream, state, hash "
            f"FROM {self.t.events} WHERE originator_id=? AND originator_version>? "
            "ORDER BY originator_version LIMIT ?"), (self.lid, after, limit))
        return [_stored(r) for r in self.c.fetchall()]

    def all_events(self) -> Iterator[StoredRow]:
        """Every entry, in seq order, a page at a time (a rebuild of the stream state)."""
        after = 0
        while page := self.events_after(after):
            yield from page
            after = page[-1].seq


def _stored(row: Any) -> StoredRow:
    return StoredRow(int(row["seq"]), str(row["event_id"]), row["topic"], row["stream"],
                     bytes(row["state"]), row["hash"])


def event_index_sql(t: Tables) -> list[str]:
    """The extra indexes of the event table (the table itself is the library's, extended).

    * ``event_id``: the idempotency look-up of every append (unique per ledger);
    * ``stream``: the histories an append reads, one subject's entries;
    * ``policy``: the policy entries only (a partial index), for the look-up of every
      append (``last_seq_of_type("PolicyPublished")``) and ``entries(types=["PolicyPublished"])``
      (the time zone of reads, receipts, projections).  It replaces a full
      ``(originator_id, topic, originator_version)`` index (1 entry in the index per
      entry in the ledger; 64 bytes an entry on SQLite, 90 on PostgreSQL: docs/PERFORMANCE.md,
      "Issue 15"), whose other uses are cold: ``ledger log --type``/``replay --type``
      without a subject read the ledger in order (``replay`` verifies it from seq 1 anyway).
      Ledgers created before keep their ``ledger_events_topic`` index (nothing drops it).
    """
    return [
        "CREATE UNIQUE INDEX IF NOT EXISTS ledger_events_event_id "
        f"ON {t.events} (originator_id, event_id)",
        "CREATE INDEX IF NOT EXISTS ledger_events_stream "
        f"ON {t.events} (originator_id, stream, originator_version)",
        "CREATE INDEX IF NOT EXISTS ledger_events_policy "
        f"ON {t.events} (originator_id, originator_version) WHERE topic = 'PolicyPublished'",
    ]


def key_tables_sql(t: Tables, *, blob: str) -> list[str]:
    """The meta, data-key, tombstone and token tables (``blob``: ``BLOB`` on SQLite).

    On SQLite the two key tables are ``WITHOUT ROWID``: their rows are small and always
    found by their primary key, so the table *is* its key's b-tree, instead of a rowid
    table plus a separate index that repeats every key (about 150 bytes an entry saved:
    docs/PERFORMANCE.md, "Issue 15").  On PostgreSQL their ``ledger_id`` is a ``uuid``
    (16 bytes instead of 37, in the row and in the key's index); the statements pass it
    as text either way.  Tables created before keep their layout; the statements and
    their results are the same on both.
    """
    sqlite = blob == "BLOB"
    key_table = " WITHOUT ROWID" if sqlite else ""
    key_lid = "TEXT" if sqlite else "uuid"
    return [
        f"CREATE TABLE IF NOT EXISTS {t.meta} (ledger_id TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " key_fingerprint TEXT NOT NULL, format INTEGER NOT NULL, created_at TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {t.keys} (ledger_id {key_lid} NOT NULL, "
        "subject TEXT NOT NULL,"
        f" scope TEXT NOT NULL, epoch INTEGER NOT NULL, wrapped {blob} NOT NULL,"
        f" PRIMARY KEY (ledger_id, subject, scope, epoch)){key_table}",
        f"CREATE TABLE IF NOT EXISTS {t.shredded} (ledger_id {key_lid} NOT NULL, subject TEXT "
        "NOT NULL, scope TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,"
        f" PRIMARY KEY (ledger_id, subject, scope, epoch)){key_table}",
        *token_table_sql(t),
        *stream_state_sql(t),
    ]


def token_table_sql(t: Tables) -> list[str]:
    """HTTP API tokens: only the SHA-256 of each token is kept (ledger.app.tokens)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {t.tokens} (token_hash TEXT PRIMARY KEY, ledger_id TEXT"
        " NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL, created_at TEXT NOT NULL,"
        " revoked_at TEXT)",
        "CREATE INDEX IF NOT EXISTS ledger_api_tokens_name "
        f"ON {t.tokens} (ledger_id, name)",
    ]
