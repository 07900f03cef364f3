"""``ledger verify --checkpoint``: is the current ledger an append-only extension of a
checkpoint the auditor kept?  No master key is needed.

Full (default):
    (1) the checkpoint is well formed, for the key's origin, signed by the key;
    (2) every entry 1..head passes the chain verifier, as ``ledger verify`` runs it
        (a cut-back ledger has fewer than ``size`` entries: reported as such);
    (3) the Merkle root of entries 1..size, recomputed from their hashes (just
        checked against the entries), equals the checkpoint's root — else entries
        up to ``size`` were rewritten;
    (4) the consistency proof size → head, built from the saved subtree hashes,
        verifies against the checkpoint's root and the root recomputed in (2).

Incremental (``--incremental``): reads only what came after the checkpoint:
    (1) as above;
    (2) the saved hashes of the tree of ``size`` (its frontier) fold to the
        checkpoint's root, and the stored hash of entry ``size`` is its last leaf
        (inclusion proof) and is SHA-256 of that entry's bytes;
    (3) entries size+1..head pass the chain verifier, starting from entry ``size``;
    (4) the head root is the frontier extended with their hashes, and the
        consistency proof size → head verifies against both roots.
"""

from __future__ import annotations

from typing import Any

from ledger.app.bundle import frontier_pieces
from ledger.app.checking import verify_store
from ledger.app.proofs import Prover
from ledger.errors import VerificationError
from ledger.storage.tree_store import TreeReader, leaf_hashes
from ledger.trust.extension import (
    check_checkpoint,
    check_consistency,
    check_head,
    extend_frontier,
    roots_of_leaves,
)
from ledger.trust.merkle import inclusion_path
from ledger.trust.notes import Checkpoint, VerifierKey

__all__ = ["verify_extension"]


def _frontier(prover: Prover, size: int) -> tuple[list[bytes], list[bytes], bytes]:
    def read(r: TreeReader) -> tuple[list[bytes], list[bytes], bytes]:
        pieces = [r.subtree(lo, hi) for lo, hi in frontier_pieces(size)]
        return pieces, inclusion_path(size - 1, size, r.subtree), r.leaf(size - 1)
    out: tuple[list[bytes], list[bytes], bytes] = prover.store.read(lambda tx: read(TreeReader(tx)))
    return out


def verify_extension(prover: Prover, cp: Checkpoint, key: VerifierKey, *,
                     incremental: bool = False, workers: int | None = None,
                     spawn: bool = False) -> dict[str, Any]:
    """Raise VerificationError with a clear reason, or return the proof that was checked.

    The checks are :mod:`ledger.trust.extension`'s; this reads what they need."""
    check_checkpoint(cp, key)                                                     # (1)
    n = cp.size
    head = prover.catch_up()
    check_head(cp, head)
    if incremental:
        new_root, checked = _incremental(prover, cp, head)
    else:
        new_root, checked = _full(prover, cp, head, workers=workers, spawn=spawn)
    proof = prover.consistency(n, head)                                           # (4)
    check_consistency(cp, head, new_root, proof["path"])
    return {"ok": True, "mode": "incremental" if incremental else "full",
            "old_size": n, "new_size": head, "old_root": cp.root.hex(),
            "new_root": new_root.hex(), "path": proof["path"], "entries_checked": checked}


def _full(prover: Prover, cp: Checkpoint, head: int, *, workers: int | None,
          spawn: bool) -> tuple[bytes, int]:
    # (2) the chain, as `ledger verify` checks it (in several processes past 50,000)
    result = verify_store(prover.store, prover.url, prover.name, workers=workers, spawn=spawn)
    if not result.ok:
        raise VerificationError(f"the chain does not verify: {result.reason}",
                                seq=result.first_bad_seq)
    if result.entries < head:
        raise VerificationError(f"entry {result.entries + 1} is missing",
                                seq=result.entries + 1)
    # (3) the roots, from the hashes the chain check just matched with the entries
    return roots_of_leaves(cp, head, leaf_hashes(prover.store, 1, head)), head


def _incremental(prover: Prover, cp: Checkpoint, head: int) -> tuple[bytes, int]:
    n = cp.size
    frontier, path, last_leaf = _frontier(prover, n)                              # (2)
    return extend_frontier(cp, head, frontier=frontier, path=path, last_leaf=last_leaf,
                           read_last=lambda: list(prover.store.iter_rows(n, n)),
                           rows=prover.store.iter_rows(n + 1, head))              # (3)
