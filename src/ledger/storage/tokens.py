"""SQL of the HTTP API's token table (created with the key tables, see common.py).

One row per token ever issued: its SHA-256 (never the token), the ledger it
opens, its name and role, when it was created and, once revoked, when.  The
same statements run on both databases through :class:`AppendTx`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.storage.common import AppendTx

__all__ = ["TokenRow", "find_token", "insert_token", "list_tokens", "revoke_tokens",
           "token_table_ready"]


@dataclass(frozen=True, slots=True)
class TokenRow:
    token_hash: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None


_COLUMNS = "token_hash, name, role, created_at, revoked_at"


def _row(r: Any) -> TokenRow:
    return TokenRow(r["token_hash"], r["name"], r["role"], r["created_at"], r["revoked_at"])


def token_table_ready(tx: AppendTx) -> None:
    """Raise (a driver error) when the table is absent: the database predates it."""
    tx.c.execute(f"SELECT token_hash FROM {tx.t.tokens} WHERE 1=0")
    tx.c.fetchall()


def find_token(tx: AppendTx, token_hash: str) -> TokenRow | None:
    tx.c.execute(tx._sql(f"SELECT {_COLUMNS} FROM {tx.t.tokens} WHERE token_hash=? "
                         "AND ledger_id=?"), (token_hash, tx.lkey))
    row = tx.c.fetchone()
    return None if row is None else _row(row)


def list_tokens(tx: AppendTx) -> list[TokenRow]:
    tx.c.execute(tx._sql(f"SELECT {_COLUMNS} FROM {tx.t.tokens} WHERE ledger_id=? "
                         "ORDER BY created_at, name"), (tx.lkey,))
    return [_row(r) for r in tx.c.fetchall()]


def insert_token(tx: AppendTx, row: TokenRow) -> None:
    tx.c.execute(tx._sql(f"INSERT INTO {tx.t.tokens} (token_hash, ledger_id, name, role, "
                         "created_at, revoked_at) VALUES (?,?,?,?,?,?)"),
                 (row.token_hash, tx.lkey, row.name, row.role, row.created_at, row.revoked_at))


def revoke_tokens(tx: AppendTx, name: str, at: str) -> int:
    """Revoke the live tokens named ``name``; return how many were live."""
    tx.c.execute(tx._sql(f"SELECT token_hash FROM {tx.t.tokens} WHERE ledger_id=? AND name=? "
                         "AND revoked_at IS NULL"), (tx.lkey, name))
    live = [r["token_hash"] for r in tx.c.fetchall()]
    for h in live:
        tx.c.execute(tx._sql(f"UPDATE {tx.t.tokens} SET revoked_at=? WHERE token_hash=?"),
                     (at, h))
    return len(live)
