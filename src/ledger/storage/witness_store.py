"""The witnesses of a ledger, the cosignatures they returned and the RFC 3161 time-stamps
of its checkpoints (issue 16), one SQL text for both databases (tables in
:mod:`ledger.storage.proof_tables`).

Reading a table that an older ledger does not have yet raises ConfigError; the
application then creates the proof tables (idempotent) and reads again.
"""

from __future__ import annotations

from typing import Any

from ledger.errors import ConfigError
from ledger.storage import AppendTx

__all__ = ["add_witness", "insert_cosignature", "insert_timestamp", "list_cosignatures",
           "list_timestamps", "list_witnesses", "pinned_at", "remove_witness"]


def list_witnesses(tx: AppendTx) -> list[dict[str, str]]:
    try:
        tx.c.execute(tx._sql(f"SELECT name, witness_key, url FROM "
                             f"{tx.t.q('ledger_witnesses')} WHERE ledger_id=? ORDER BY name"),
                     (tx.lkey,))
    except Exception as exc:  # the driver's "no such table", on either database
        raise ConfigError("this ledger has no witness tables yet") from exc
    return [{"name": r["name"], "key": r["witness_key"], "url": r["url"]}
            for r in tx.c.fetchall()]


def add_witness(tx: AppendTx, name: str, key: str, url: str) -> None:
    t = tx.t.q("ledger_witnesses")
    tx.c.execute(tx._sql(f"DELETE FROM {t} WHERE ledger_id=? AND name=?"), (tx.lkey, name))
    tx.c.execute(tx._sql(f"INSERT INTO {t} (ledger_id, name, witness_key, url) "
                         "VALUES (?,?,?,?)"), (tx.lkey, name, key, url))


def remove_witness(tx: AppendTx, name: str) -> int:
    """Forget the witness ``name``; how many were removed (0 or 1)."""
    t = tx.t.q("ledger_witnesses")
    tx.c.execute(tx._sql(f"SELECT COUNT(*) AS n FROM {t} WHERE ledger_id=? AND name=?"),
                 (tx.lkey, name))
    row = tx.c.fetchone()
    found = int(row["n"]) if row is not None else 0
    tx.c.execute(tx._sql(f"DELETE FROM {t} WHERE ledger_id=? AND name=?"), (tx.lkey, name))
    return found


def insert_cosignature(tx: AppendTx, size: int, witness: str, line: str,
                       cosigned_at: int) -> None:
    tx.c.execute(tx._sql(
        f"INSERT INTO {tx.t.q('ledger_cosignatures')} (ledger_id, tree_size, witness, line, "
        "cosigned_at) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING"),
        (tx.lkey, size, witness, line, cosigned_at))


def list_cosignatures(tx: AppendTx, *, min_size: int = 0,
                      max_size: int | None = None) -> list[dict[str, Any]]:
    """Cosignatures of checkpoints of sizes min_size..max_size, by size then witness."""
    try:
        tx.c.execute(tx._sql(
            f"SELECT tree_size, witness, line, cosigned_at FROM "
            f"{tx.t.q('ledger_cosignatures')} WHERE ledger_id=? AND tree_size>=? AND "
            "tree_size<=? ORDER BY tree_size, witness"),
            (tx.lkey, min_size, max_size if max_size is not None else 2**62))
    except Exception as exc:  # the driver's "no such table", on either database
        raise ConfigError("this ledger has no witness tables yet") from exc
    return [{"tree_size": int(r["tree_size"]), "witness": r["witness"], "line": r["line"],
             "cosigned_at": int(r["cosigned_at"])} for r in tx.c.fetchall()]


def pinned_at(tx: AppendTx) -> str | None:
    """When the signing key was pinned (``ledger init``): the start of the automatic
    checkpoints' clock before the first checkpoint; None when not pinned."""
    try:
        tx.c.execute(tx._sql(f"SELECT pinned_at FROM {tx.t.q('ledger_signing_keys')} "
                             "WHERE ledger_id=?"), (tx.lkey,))
    except Exception:  # an older ledger: no such table yet  # noqa: BLE001
        return None
    row = tx.c.fetchone()
    return None if row is None else str(row["pinned_at"])


def insert_timestamp(tx: AppendTx, size: int, tsa: str, response: str, gen_time: str) -> None:
    tx.c.execute(tx._sql(
        f"INSERT INTO {tx.t.q('ledger_timestamps')} (ledger_id, tree_size, tsa, response, "
        "gen_time) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING"),
        (tx.lkey, size, tsa, response, gen_time))


def list_timestamps(tx: AppendTx, *, min_size: int = 0,
                    max_size: int | None = None) -> list[dict[str, Any]]:
    try:
        tx.c.execute(tx._sql(
            f"SELECT tree_size, tsa, response, gen_time FROM {tx.t.q('ledger_timestamps')} "
            "WHERE ledger_id=? AND tree_size>=? AND tree_size<=? ORDER BY tree_size, tsa"),
            (tx.lkey, min_size, max_size if max_size is not None else 2**62))
    except Exception as exc:  # the driver's "no such table", on either database
        raise ConfigError("this ledger has no time-stamp table yet") from exc
    return [{"tree_size": int(r["tree_size"]), "tsa": r["tsa"], "response": r["response"],
             "gen_time": r["gen_time"]} for r in tx.c.fetchall()]
