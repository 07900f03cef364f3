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

import hashlib
import json
from typing import Any

from ledger.app.bundle import frontier_pieces
from ledger.app.checking import guard, verify_store
from ledger.app.proofs import Prover
from ledger.cli.format import plural
from ledger.errors import IntegrityError, VerificationError
from ledger.storage.tree_store import TreeReader, leaf_hashes
from ledger.trust.chain import GENESIS_HASH
from ledger.trust.ed25519 import verify_checkpoint_signature
from ledger.trust.merkle import (
    Accumulator,
    inclusion_path,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from ledger.trust.notes import Checkpoint, VerifierKey
from ledger.trust.verify import ChainVerifier

__all__ = ["verify_extension"]


def _frontier(prover: Prover, size: int) -> tuple[list[bytes], list[bytes], bytes]:
    def read(r: TreeReader) -> tuple[list[bytes], list[bytes], bytes]:
        pieces = [r.subtree(lo, hi) for lo, hi in frontier_pieces(size)]
        return pieces, inclusion_path(size - 1, size, r.subtree), r.leaf(size - 1)
    out: tuple[list[bytes], list[bytes], bytes] = guard(
        lambda: prover.store.read(lambda tx: read(TreeReader(tx))))
    return out


def verify_extension(prover: Prover, cp: Checkpoint, key: VerifierKey, *,
                     incremental: bool = False, workers: int | None = None,
                     spawn: bool = False) -> dict[str, Any]:
    """Raise VerificationError with a clear reason, or return the proof that was checked."""
    if cp.origin != key.name:                                                     # (1)
        raise VerificationError(f"the checkpoint is for origin {cp.origin!r}, not the key's "
                                f"{key.name!r}")
    verify_checkpoint_signature(cp, key)
    n = cp.size
    head = prover.catch_up()
    if head < n:
        raise VerificationError(f"the ledger has {plural(head, 'entry', 'entries')}, fewer "
                                f"than the {n} of the signed checkpoint: it was cut back "
                                "(rollback or truncation)", seq=head + 1)
    if n == 0:
        raise VerificationError("a checkpoint of the empty tree proves nothing to extend")
    if incremental:
        new_root, checked = _incremental(prover, cp, head)
    else:
        new_root, checked = _full(prover, cp, head, workers=workers, spawn=spawn)
    proof = prover.consistency(n, head)                                           # (4)
    try:
        verify_consistency(n, head, cp.root, new_root, [bytes.fromhex(p) for p in
                                                        proof["path"]])
    except VerificationError as exc:
        raise VerificationError(f"the saved subtree hashes disagree with the entries "
                                f"({exc.reason}): the proof tables were altered") from None
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
    acc = Accumulator()
    old_root = None
    for h in leaf_hashes(prover.store, 1, head):
        acc.push(h)
        if acc.size == cp.size:
            old_root = acc.root()
    if acc.size != head:
        raise VerificationError(f"entry {acc.size + 1} is missing", seq=acc.size + 1)
    if old_root != cp.root:
        raise VerificationError(f"the Merkle root of entries 1..{cp.size} differs from the "
                                "signed checkpoint's: entries up to it were rewritten")
    return acc.root(), head


def _incremental(prover: Prover, cp: Checkpoint, head: int) -> tuple[bytes, int]:
    n = cp.size
    frontier, path, last_leaf = _frontier(prover, n)                              # (2)
    acc = Accumulator.from_frontier(n, frontier)
    if acc.root() != cp.root:
        raise VerificationError(f"the ledger's tree of {plural(n, 'entry', 'entries')} "
                                "differs from the signed checkpoint's: entries up to it were "
                                "rewritten")
    verify_inclusion(n - 1, n, last_leaf, path, cp.root)
    last = guard(lambda: list(prover.store.iter_rows(n, n)))
    if len(last) != 1:
        raise IntegrityError(f"entry {n} is missing", seq=n)
    [(_, last_hash, last_data)] = last
    if hashlib.sha256(bytes(last_data)).hexdigest() != last_hash or \
            leaf_hash(bytes.fromhex(last_hash)) != last_leaf:
        raise VerificationError(f"entry {n} is not the one the checkpoint signed", seq=n)
    try:
        prev_time = str(json.loads(last_data).get("recorded_at", ""))
    except (ValueError, AttributeError):
        raise IntegrityError(f"entry {n} is not a JSON object", seq=n) from None
    verifier = ChainVerifier(start_seq=n + 1, prev_hash=last_hash or GENESIS_HASH,
                             prev_recorded_at=prev_time)
    try:
        for seq, stored, data in prover.store.iter_rows(n + 1, head):             # (3)
            verifier.check(seq, stored, bytes(data))
            acc.push(leaf_hash(bytes.fromhex(stored)))
    except VerificationError as exc:
        raise VerificationError(f"the chain after the checkpoint does not verify: "
                                f"{exc.reason}", seq=exc.seq) from None
    if acc.size != head:
        raise VerificationError(f"entry {acc.size + 1} is missing", seq=acc.size + 1)
    return acc.root(), verifier.count
