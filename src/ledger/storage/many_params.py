"""Statements of many parameters, run the cheap way on each database (the append's
IN lists, multi-row INSERTs and per-key look-ups), and the cursor that counts them.

SQLite runs them as they are (``?``, ``executemany``).  On PostgreSQL psycopg neither
caches nor prepares a statement of more than 50 parameters and converts its ``%s``
placeholders with a regular expression on every run (about 1 ms per 700 of them), and
its ``executemany`` sends one prepared query per row: these helpers run them through a
raw cursor (``$1, $2…``) on the same connection, hence in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, cast

__all__ = ["FEW_KEYS", "CountingCursor", "ManyParams", "placeholders"]


def placeholders(sql: str, param: str) -> str:
    """Every statement is written once with ``?``; PostgreSQL's driver wants ``%s``."""
    return sql if param == "?" else sql.replace("?", param)

FEW_KEYS = 8  # PostgreSQL: up to this many keys, a look-up by key is a plain IN list


class CountingCursor:
    """A cursor that counts the statements it runs and the rows it fetches (the tests of
    the write path's cost read ``statements`` and ``rows``; nothing else does)."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.statements = 0
        self.rows = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return self.cursor.execute(*args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return self.cursor.executemany(*args, **kwargs)

    def fetchone(self) -> Any:
        row = self.cursor.fetchone()
        self.rows += row is not None
        return row

    def fetchall(self) -> Any:
        rows = self.cursor.fetchall()
        self.rows += len(rows)
        return rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)


class ManyParams:
    """Mixed into :class:`ledger.storage.common.AppendTx` (which sets these attributes)."""

    c: CountingCursor
    p: str
    _raw: CountingCursor | None
    watch: list[CountingCursor] | None

    def _sql(self, text: str) -> str:
        return placeholders(text, self.p)

    def _in(self, n: int) -> str:
        return ",".join("?" * n)

    def long(self, sql: str, params: Sequence[Any], *, fetch: bool = True) -> list[Any]:
        """Run a statement of many ``?`` parameters (an IN list, a multi-row INSERT); its
        rows if ``fetch``.  PostgreSQL: through a raw cursor (``$1, $2…``) on the same
        connection, so in the same transaction: psycopg neither caches nor prepares a
        statement of more than 50 parameters and converts its ``%s`` placeholders with a
        regular expression each time (about 1 ms per 700 of them)."""
        if self.p == "?":
            self.c.execute(sql, params)
            return list(self.c.fetchall()) if fetch else []
        if self._raw is None:  # psycopg: the PostgreSQL recorder's driver
            # imported here: an SQLite ledger never loads psycopg (about 0.2 s at start-up)
            from psycopg import RawCursor  # noqa: PLC0415
            from psycopg.rows import dict_row  # noqa: PLC0415

            connection: Any = cast(Any, self.c.cursor).connection
            self._raw = CountingCursor(RawCursor(connection, row_factory=dict_row))
            if self.watch is not None:
                self.watch.append(self._raw)
        self._raw.execute(_numbered(sql), params)
        return list(self._raw.fetchall()) if fetch else []

    def by_keys(self, cols: str, table: str, where: str, params: Sequence[Any], *,
                column: str, keys: Sequence[str]) -> list[Any]:
        """``SELECT {cols} FROM {table} WHERE {where} AND {column} IN keys`` (text keys), one
        index seek per key on both databases.  SQLite plans an IN list that way.  PostgreSQL
        does not always: with the statistics of a table that grew since its last ANALYZE,
        or a few hundred keys against a mid-sized table, it scans the ledger's whole range
        of the primary key or the whole table (2–9 ms at 10,000 entries, growing with the
        ledger); a LATERAL subquery per key (``OFFSET 0`` keeps it one) leaves it only the
        index."""
        if self.p == "?" or len(keys) <= FEW_KEYS:
            # a few keys (a single-event append): an IN list, which psycopg caches and
            # prepares, and which the planner answers by the index for so few
            self.c.execute(self._sql(f"SELECT {cols} FROM {table} WHERE {where} AND {column} "
                                     f"IN ({self._in(len(keys))})"), (*params, *keys))
            return list(self.c.fetchall())
        return self.long(f"SELECT t.* FROM unnest(?::text[]) AS k(key) CROSS JOIN LATERAL "
                         f"(SELECT {cols} FROM {table} WHERE {where} AND {column}=k.key "
                         "OFFSET 0) AS t", (list(keys), *params))

    def insert_rows(self, head: str, rows: Sequence[Sequence[Any]], tail: str = "") -> None:
        """``{head} VALUES (?,…){tail}`` for every row.  SQLite: ``executemany`` (its loop is
        in C).  PostgreSQL: ONE multi-row statement per 1,000 rows (psycopg's
        ``executemany`` sends one prepared query per row; the rows and their order are
        the same, so are the constraints checked)."""
        if not rows:
            return
        marks = f"({self._in(len(rows[0]))})"
        if self.p == "?":
            self.c.executemany(f"{head} VALUES {marks}{tail}", rows)
            return
        for i in range(0, len(rows), 1000):
            chunk = rows[i:i + 1000]
            self.long(f"{head} VALUES {','.join([marks] * len(chunk))}{tail}",
                      [v for r in chunk for v in r], fetch=False)


@lru_cache(maxsize=256)
def _numbered(sql: str) -> str:
    """``?`` placeholders as ``$1, $2…`` (the SQL text holds no other ``?``)."""
    parts = sql.split("?")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], start=1)) + parts[-1]
