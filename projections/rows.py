"""How projections write their rows: rows found by key and written once per batch
(:class:`KeyedRows`), and plain tuples inserted in one driver call (:func:`bulk_insert`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, select, update

__all__ = ["KeyedRows", "bulk_insert"]


class KeyedRows:
    """Rows of one table found by key, changed in memory, written once per batch.

    For projections whose rows change after they are created (a request is
    extended then answered; a breach is notified): ``get`` finds the row among
    this batch's new rows or reads it, ``add`` creates one; ``flush`` inserts
    the new rows together and updates the changed ones.
    """

    def __init__(self, conn: Connection, table: Table, ledger_id: str,
                 key: tuple[str, ...]) -> None:
        self.conn, self.table, self.ledger_id, self.key = conn, table, ledger_id, key
        self.new: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.changed: dict[tuple[Any, ...], dict[str, Any]] = {}

    def get(self, key: tuple[Any, ...]) -> dict[str, Any] | None:
        if key in self.new:
            return self.new[key]
        if key in self.changed:
            return self.changed[key]
        t = self.table
        q = select(t).where(t.c.ledger_id == self.ledger_id,
                            *(t.c[k] == v for k, v in zip(self.key, key, strict=True)))
        row = self.conn.execute(q).first()
        if row is None:
            return None
        found = self.changed[key] = dict(row._mapping)
        return found

    def add(self, key: tuple[Any, ...], row: dict[str, Any]) -> None:
        self.new[key] = {"ledger_id": self.ledger_id, **row}

    def flush(self) -> None:
        t = self.table
        if self.new:
            self.conn.execute(t.insert(), list(self.new.values()))
        for key, row in self.changed.items():
            self.conn.execute(update(t).where(
                t.c.ledger_id == self.ledger_id,
                *(t.c[k] == v for k, v in zip(self.key, key, strict=True))).values(**row))
        self.new, self.changed = {}, {}


def bulk_insert(conn: Connection, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert plain tuples (in the table's column order) with one driver executemany.

    The hot path of a rebuild: SQLAlchemy's per-row parameter processing costs
    more than SQLite's insert itself.  The table name is qualified by the
    PostgreSQL schema of the engine's ``schema_translate_map``.
    """
    if not rows:
        return
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    name = f'"{schema}".{table.name}' if schema else table.name
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cols = ", ".join(c.name for c in table.columns)
    conn.exec_driver_sql(f"INSERT INTO {name} ({cols}) VALUES "
                         f"({', '.join(mark for _ in table.columns)})", list(rows))
