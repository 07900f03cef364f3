"""How a projection follows the ledger: in ``seq`` order, exactly once, resumable.

Each projection has a row in ``proj_positions`` (ledger id, name, position,
version).  :meth:`Projector.catch_up` loops:

1. begin a write transaction (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the
   position rows are read ``FOR UPDATE``), read the positions;
2. read the next ledger entries after the lowest position (at most ``batch``,
   from the ledger's primary key, in ``seq`` order);
3. give each projection the entries past its own position; it writes its rows;
4. set every position to the last ``seq`` read; commit.

Rows and position commit together or not at all, so a process killed at any
point leaves each projection exactly at a batch boundary, and the next run
resumes from there: nothing is applied twice and nothing skipped.  Two
processes catching up at once serialise on the lock of step 1.  SQLite has no
notifications, so readers *poll*: every read command catches up first.

A projection whose ``version`` changed (its code changed) is reset and rebuilt
by the next catch-up.  :meth:`Projector.rebuild` resets to position 0 (rows
deleted in the same transaction) and catches up.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine, Table, delete, select, update

from ledger.app.checking import ledger_id_for, open_checked_store
from ledger.app.policies import load_policies
from ledger.domain.policy_book import PolicyBook
from ledger.errors import InputError

from . import db

__all__ = ["Context", "Entry", "Projection", "Projector"]

Entry = dict[str, Any]  # a decoded ledger entry, plus "hash"
DEFAULT_BATCH = 20_000
_decode = json.JSONDecoder().decode  # one decoder (json.loads builds one per call)


@dataclass
class Context:
    ledger_id: str
    policies: PolicyBook


class Projection:
    """A read model: tables, and how a batch of entries changes them."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    tables: ClassVar[tuple[Table, ...]]
    types: ClassVar[frozenset[str]]  # the entry types it reads
    # Tables that ``apply`` only inserts into (it never reads or updates them): a full
    # rebuild drops their indexes and builds them again at the end, in one pass each.
    insert_only: ClassVar[tuple[Table, ...]] = ()

    def apply(self, conn: Connection, entries: Sequence[Entry], ctx: Context) -> None:
        raise NotImplementedError

    def reset(self, conn: Connection, ledger_id: str) -> None:
        for t in self.tables:
            others = conn.execute(select(t.c.ledger_id).where(t.c.ledger_id != ledger_id)
                                  .limit(1)).first()
            if others is None and conn.dialect.name == "sqlite":
                # The table holds this ledger's rows only: an unqualified DELETE lets
                # SQLite drop the pages wholesale (its truncate optimisation) instead
                # of removing a million rows from each index one by one.
                conn.execute(delete(t))
            else:
                conn.execute(delete(t).where(t.c.ledger_id == ledger_id))


def _insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    # Only the dialect in use is imported (PostgreSQL's costs ~70 ms of start-up).
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert  # noqa: PLC0415

        conn.execute(pg_insert(table).on_conflict_do_nothing(), rows)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert  # noqa: PLC0415

        conn.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Projector:
    """Runs the projections of one ledger (``url`` + ``name``) against its store."""

    url: str
    name: str
    projections: Sequence[Projection]
    store: Any = None
    engine: Engine | None = None
    _own_store: bool = field(default=False, init=False)
    _ready: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.ledger_id = str(ledger_id_for(self.name))
        if self.store is None:
            self.store, _ = open_checked_store(self.url, self.name)
            self._own_store = True
        if self.engine is None:
            self.engine = db.engine_for(self.url)
        self._by_name = {p.name: p for p in self.projections}

    def close(self) -> None:
        if self._own_store:
            self.store.close()
        if self.engine is not None:
            self.engine.dispose()

    def __enter__(self) -> Projector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sql_engine(self) -> Engine:
        if self.engine is None:  # pragma: no cover - set in __post_init__
            raise RuntimeError("projector without an engine")
        return self.engine

    def writer(self) -> Engine:
        """The engine for write transactions (SQLite: BEGIN IMMEDIATE)."""
        return self.sql_engine().execution_options(write=True)

    def select(self, names: Iterable[str] | None) -> list[Projection]:
        if names is None:
            return list(self.projections)
        out = []
        for n in names:
            if n not in self._by_name:
                raise InputError("NAME", f"is not a projection (choose from "
                                         f"{', '.join(self._by_name)})")
            out.append(self._by_name[n])
        return out

    def setup(self) -> None:
        """Create the tables and the position rows if absent (idempotent, concurrent-safe)."""
        if self._ready:
            return
        engine = self.writer()
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:  # create_all is not safe against itself
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7355609)")
                db.create_all(conn)
        else:
            with engine.begin() as conn:
                db.create_all(conn)
        with engine.begin() as conn:  # indexes a stopped rebuild left dropped
            for table in db.METADATA.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
        with engine.begin() as conn:
            _insert_ignore(conn, db.positions, [
                {"ledger_id": self.ledger_id, "projection": p.name, "position": 0,
                 "version": p.version, "updated_at": None} for p in self.projections])
        self._ready = True

    def head(self) -> int:
        h = self.store.read(lambda tx: tx.head())
        return 0 if h is None else int(h.seq)

    def status(self) -> list[dict[str, Any]]:
        self.setup()
        head = self.head()
        p = db.positions
        with self.sql_engine().connect() as conn:
            rows = {r.projection: r for r in conn.execute(
                select(p).where(p.c.ledger_id == self.ledger_id))}
        out = []
        for proj in self.projections:
            r = rows[proj.name]
            stale = r.version != proj.version
            out.append({"projection": proj.name, "position": r.position, "head": head,
                        "lag": head - r.position, "version": proj.version,
                        "stale": stale, "updated_at": r.updated_at})
        return out

    def rebuild(self, names: Iterable[str] | None = None, *, batch: int = DEFAULT_BATCH,
                on_progress: Callable[[int, int], None] | None = None) -> int:
        """Drop the rows of the projections and project the whole ledger again.

        The indexes of insert-only tables are dropped with the rows and built again
        once the projections are caught up (sorting once costs less than inserting a
        million random keys one by one).  Meanwhile reads of those tables are slower,
        not wrong; if the rebuild is stopped, the next :meth:`setup` builds them."""
        chosen = self.select(names)
        self.setup()
        deferred = [i for p in chosen for t in p.insert_only for i in t.indexes]
        with self.writer().begin() as conn:
            for proj in chosen:
                self._reset(conn, proj)
            for index in deferred:
                index.drop(conn, checkfirst=True)
        try:
            return self.catch_up([p.name for p in chosen], batch=batch,
                                 on_progress=on_progress)
        finally:
            with self.writer().begin() as conn:
                for index in deferred:
                    index.create(conn, checkfirst=True)

    def _reset(self, conn: Connection, proj: Projection) -> None:
        proj.reset(conn, self.ledger_id)
        p = db.positions
        conn.execute(update(p).where(p.c.ledger_id == self.ledger_id,
                                     p.c.projection == proj.name)
                     .values(position=0, version=proj.version, updated_at=_now()))

    def catch_up(self, names: Iterable[str] | None = None, *, batch: int = DEFAULT_BATCH,
                 on_progress: Callable[[int, int], None] | None = None,
                 stop: int | None = None) -> int:
        """Bring the projections up to the head (or ``stop``); return entries applied."""
        chosen = self.select(names)
        self.setup()
        head = self.head() if stop is None else stop
        if self._up_to(chosen, head):
            return 0  # nothing to do: no write lock taken (a read stays a read)
        policies = load_policies(self.store)
        ctx = Context(self.ledger_id, policies)
        applied = 0
        while True:
            done, last = self._step(chosen, ctx, batch, head)
            applied += done
            if on_progress is not None and last:
                on_progress(last, head)
            if not done or last >= head:
                return applied

    def _up_to(self, chosen: Sequence[Projection], head: int) -> bool:
        p = db.positions
        with self.sql_engine().connect() as conn:
            rows = conn.execute(select(p.c.projection, p.c.position, p.c.version).where(
                p.c.ledger_id == self.ledger_id,
                p.c.projection.in_([c.name for c in chosen]))).all()
        found = {r.projection: r for r in rows}
        return all(c.name in found and found[c.name].position >= head
                   and found[c.name].version == c.version for c in chosen)

    def _step(self, chosen: Sequence[Projection], ctx: Context, batch: int,
              head: int) -> tuple[int, int]:
        p = db.positions
        with self.writer().begin() as conn:
            q = select(p.c.projection, p.c.position, p.c.version).where(
                p.c.ledger_id == self.ledger_id,
                p.c.projection.in_([c.name for c in chosen])).with_for_update()
            found = {r.projection: r for r in conn.execute(q)}
            pos: dict[str, int] = {}
            for proj in chosen:
                r = found[proj.name]
                if r.version != proj.version:
                    self._reset(conn, proj)
                    pos[proj.name] = 0
                else:
                    pos[proj.name] = int(r.position)
            start = min(pos.values()) + 1
            if start > head:
                return 0, start - 1
            rows = list(self.store.iter_rows(start, min(head, start + batch - 1)))
            if not rows:
                return 0, start - 1
            wanted = frozenset().union(*(c.types for c in chosen)) | {"PolicyPublished"}
            entries: list[Entry] = []
            for seq, hash_, state in rows:
                if _type_of(state) not in wanted:
                    continue
                e = _decode(state.decode())
                e["hash"] = hash_
                if e["type"] == "PolicyPublished":
                    ctx.policies.add_json(seq, e["payload"]["policy"])
                entries.append(e)
            last = int(rows[-1][0])
            for proj in chosen:
                mine = [e for e in entries if e["seq"] > pos[proj.name] and
                        e["type"] in proj.types]
                if mine:
                    proj.apply(conn, mine, ctx)
            conn.execute(update(p).where(
                p.c.ledger_id == self.ledger_id,
                p.c.projection.in_([c.name for c in chosen if pos[c.name] < last]))
                .values(position=last, updated_at=_now()))
            return len(rows), last


def _type_of(state: bytes) -> str:
    """The entry's type without decoding it all (canonical JSON: sorted keys, compact)."""
    i = state.rfind(b'"type":"')
    if i < 0:  # pragma: no cover - every entry has a type
        return ""
    j = state.index(b'"', i + 8)
    return state[i + 8:j].decode()
