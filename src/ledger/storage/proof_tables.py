"""Tables of the proofs (issue 4), one SQL text for both databases.

    ledger_tree_nodes     saved Merkle subtree hashes: the complete, aligned subtrees of
                          2^level leaves (level >= 8), node idx covering leaves
                          [idx·2^level, (idx+1)·2^level); a cache derived from the
                          ``hash`` column, rebuilt by a catch-up step
    ledger_checkpoints    every signed checkpoint: tree size, root (hex), note text, when
    ledger_tree_settings  the checkpoint origin and the auto-checkpoint interval
    ledger_signing_keys   the verifier key pinned at ``ledger init`` (issue 13): checkpoints
                          are signed with this key only
"""

from __future__ import annotations

from ledger.storage.common import Tables

__all__ = ["proof_tables_sql"]


def proof_tables_sql(t: Tables, *, blob: str, bigint: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {t.q('ledger_tree_nodes')} (ledger_id TEXT NOT NULL, "
        f"level INTEGER NOT NULL, idx {bigint} NOT NULL, hash {blob} NOT NULL, "
        "PRIMARY KEY (ledger_id, level, idx))",
        f"CREATE TABLE IF NOT EXISTS {t.q('ledger_checkpoints')} (ledger_id TEXT NOT NULL, "
        f"tree_size {bigint} NOT NULL, root TEXT NOT NULL, note TEXT NOT NULL, "
        "created_at TEXT NOT NULL, PRIMARY KEY (ledger_id, tree_size))",
        f"CREATE TABLE IF NOT EXISTS {t.q('ledger_tree_settings')} (ledger_id TEXT PRIMARY KEY,"
        " origin TEXT NOT NULL, checkpoint_every INTEGER NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {t.q('ledger_signing_keys')} (ledger_id TEXT PRIMARY KEY,"
        " verifier_key TEXT NOT NULL, pinned_at TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {t.q('ledger_witnesses')} (ledger_id TEXT NOT NULL, "
        "name TEXT NOT NULL, witness_key TEXT NOT NULL, url TEXT NOT NULL, "
        "PRIMARY KEY (ledger_id, name))",
        f"CREATE TABLE IF NOT EXISTS {t.q('ledger_cosignatures')} (ledger_id TEXT NOT NULL, "
        f"tree_size {bigint} NOT NULL, witness TEXT NOT NULL, line TEXT NOT NULL, "
        f"cosigned_at {bigint} NOT NULL, PRIMARY KEY (ledger_id, tree_size, witness))",
        f"CREATE TABLE IF NOT EXISTS {t.q('ledger_timestamps')} (ledger_id TEXT NOT NULL, "
        f"tree_size {bigint} NOT NULL, tsa TEXT NOT NULL, response TEXT NOT NULL, "
        "gen_time TEXT NOT NULL, PRIMARY KEY (ledger_id, tree_size, tsa))",
    ]
