"""The ledger's metadata row (``ledger_meta``): name, master-key check value, format."""

from __future__ import annotations

from typing import Any

from ledger.storage.common import AppendTx

__all__ = ["read_meta", "write_meta"]


def read_meta(tx: AppendTx, lid: str) -> dict[str, Any] | None:
    """The metadata of ledger ``lid``, or None when it was never initialised."""
    tx.c.execute(tx._sql(f"SELECT name, key_fingerprint, format FROM {tx.t.meta} "
                         "WHERE ledger_id=?"), (lid,))
    row = tx.c.fetchone()
    if row is None:
        return None
    return {"name": row["name"], "key_fingerprint": row["key_fingerprint"],
            "format": row["format"]}


def write_meta(tx: AppendTx, lid: str, *, name: str, fingerprint: str, format_version: int,
               created_at: str) -> None:
    tx.c.execute(tx._sql(f"INSERT INTO {tx.t.meta} (ledger_id, name, key_fingerprint, "
                         "format, created_at) VALUES (?,?,?,?,?)"),
                 (lid, name, fingerprint, format_version, created_at))
