"""Is a ledger an append-only extension of a checkpoint the auditor kept?  The pure checks.

The steps are numbered as in :mod:`ledger.app.extension`, which reads the database
and hands what it read to these functions; nothing here reads a file, a database
or a clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable

from ledger.errors import IntegrityError, VerificationError
from ledger.trust.chain import GENESIS_HASH
from ledger.trust.ed25519 import verify_checkpoint_signature
from ledger.trust.merkle import Accumulator, leaf_hash, verify_consistency, verify_inclusion
from ledger.trust.notes import Checkpoint, VerifierKey
from ledger.trust.text import plural
from ledger.trust.verify import ChainVerifier

__all__ = ["check_checkpoint", "check_consistency", "check_head", "extend_frontier",
           "roots_of_leaves"]

Row = tuple[int, str, bytes]


def check_checkpoint(cp: Checkpoint, key: VerifierKey) -> None:
    """(1) the checkpoint is for the key's origin and signed by the key."""
    if cp.origin != key.name:
        raise VerificationError(f"the checkpoint is for origin {cp.origin!r}, not the key's "
                                f"{key.name!r}")
    verify_checkpoint_signature(cp, key)


def check_head(cp: Checkpoint, head: int) -> None:
    """The ledger holds at least the checkpoint's entries, and the checkpoint some."""
    if head < cp.size:
        raise VerificationError(f"the ledger has {plural(head, 'entry', 'entries')}, fewer "
                                f"than the {cp.size} of the signed checkpoint: it was cut back "
                                "(rollback or truncation)", seq=head + 1)
    if cp.size == 0:
        raise VerificationError("a checkpoint of the empty tree proves nothing to extend")


def roots_of_leaves(cp: Checkpoint, head: int, leaves: Iterable[bytes]) -> bytes:
    """Full check (3): the root of the first ``cp.size`` of ``head`` leaves is the
    checkpoint's; returns the root of all ``head``."""
    acc = Accumulator()
    old_root = None
    for h in leaves:
        acc.push(h)
        if acc.size == cp.size:
            old_root = acc.root()
    if acc.size != head:
        raise VerificationError(f"entry {acc.size + 1} is missing", seq=acc.size + 1)
    if old_root != cp.root:
        raise VerificationError(f"the Merkle root of entries 1..{cp.size} differs from the "
                                "signed checkpoint's: entries up to it were rewritten")
    return acc.root()


def extend_frontier(cp: Checkpoint, head: int, *, frontier: list[bytes], path: list[bytes],
                    last_leaf: bytes, read_last: Callable[[], list[Row]],
                    rows: Iterable[Row]) -> tuple[bytes, int]:
    """Incremental check (2)-(3): the saved frontier of the tree of ``cp.size`` folds to the
    checkpoint's root, ``last_leaf`` (with its inclusion ``path``) is its last leaf and the
    hash of the stored entry ``cp.size`` (``read_last()``: a list of 0 or 1 row, read only
    once the tree has passed); then ``rows`` (entries size+1..head, read lazily) pass the
    chain verifier from it.  Returns the head root and
    the number of entries checked."""
    n = cp.size
    acc = Accumulator.from_frontier(n, frontier)
    if acc.root() != cp.root:
        raise VerificationError(f"the ledger's tree of {plural(n, 'entry', 'entries')} "
                                "differs from the signed checkpoint's: entries up to it were "
                                "rewritten")
    verify_inclusion(n - 1, n, last_leaf, path, cp.root)
    last = read_last()
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
        for seq, stored, data in rows:                                            # (3)
            verifier.check(seq, stored, bytes(data))
            acc.push(leaf_hash(bytes.fromhex(stored)))
    except VerificationError as exc:
        raise VerificationError(f"the chain after the checkpoint does not verify: "
                                f"{exc.reason}", seq=exc.seq) from None
    if acc.size != head:
        raise VerificationError(f"entry {acc.size + 1} is missing", seq=acc.size + 1)
    return acc.root(), verifier.count


def check_consistency(cp: Checkpoint, head: int, new_root: bytes, path: list[str]) -> None:
    """(4) the consistency proof ``cp.size`` → ``head`` (hex hashes) verifies against both
    roots; else the saved subtree hashes were altered."""
    try:
        verify_consistency(cp.size, head, cp.root, new_root, [bytes.fromhex(p) for p in path])
    except VerificationError as exc:
        raise VerificationError(f"the saved subtree hashes disagree with the entries "
                                f"({exc.reason}): the proof tables were altered") from None
