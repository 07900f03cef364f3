"""The Merkle tree of RFC 9162 §2.1, as pure functions (stdlib only).

Leaf ``i`` (0-based) of a ledger's tree is entry ``seq = i + 1``; its *leaf
data* is the 32 raw bytes of that entry's chain hash.  Then, with SHA-256::

    leaf hash       = H(0x00 ‖ data)
    node hash       = H(0x01 ‖ left ‖ right)
    MTH({})         = H("")
    MTH(D[n])       = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n

Proofs are *built* from any function ``subtree(lo, hi) -> MTH(D[lo:hi])`` (the
store answers it from saved subtree hashes; tests from a list) and *checked*
by :func:`verify_inclusion` and :func:`verify_consistency`, which follow the
algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2 step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from ledger.errors import VerificationError

__all__ = ["EMPTY_ROOT", "Accumulator", "consistency_path", "inclusion_path", "leaf_hash",
           "list_subtree", "node_hash", "root_of", "split", "verify_consistency",
           "verify_inclusion"]

EMPTY_ROOT = hashlib.sha256(b"").digest()
Subtree = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two strictly less than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class Accumulator:
    """Streaming MTH: the roots of the maximal complete subtrees so far (the frontier).

    ``push`` a leaf hash at a time; :meth:`root` is MTH of the leaves pushed.
    :meth:`from_frontier` resumes from the frontier of a tree of ``size`` leaves.
    """

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[bytes] = []   # subtree roots, largest (leftmost) first

    @classmethod
    def from_frontier(cls, size: int, frontier: Sequence[bytes]) -> Accumulator:
        if size < 0 or len(frontier) != size.bit_count():
            raise VerificationError(f"a frontier of {size} leaves has {size.bit_count()} "
                                    f"hashes, not {len(frontier)}")
        acc = cls()
        acc.size, acc.stack = size, list(frontier)
        return acc

    def push(self, lh: bytes) -> None:
        self.stack.append(lh)
        self.size += 1
        n = self.size
        while n & 1 == 0:  # each trailing zero bit of the size is a pair to merge
            right = self.stack.pop()
            self.stack[-1] = node_hash(self.stack[-1], right)
            n >>= 1

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        r = self.stack[-1]
        for h in reversed(self.stack[:-1]):
            r = node_hash(h, r)
        return r


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH of the leaves whose leaf hashes are given."""
    acc = Accumulator()
    for lh in leaf_hashes:
        acc.push(lh)
    return acc.root()


def list_subtree(leaf_hashes: Sequence[bytes]) -> Subtree:
    """``subtree(lo, hi)`` over an in-memory list of leaf hashes (memoised)."""
    memo: dict[tuple[int, int], bytes] = {}

    def subtree(lo: int, hi: int) -> bytes:
        if (lo, hi) not in memo:
            if hi - lo <= 1:
                memo[lo, hi] = leaf_hashes[lo] if hi > lo else EMPTY_ROOT
            else:
                k = split(hi - lo)
                memo[lo, hi] = node_hash(subtree(lo, lo + k), subtree(lo + k, hi))
        return memo[lo, hi]
    return subtree


def inclusion_path(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1, nearest sibling first."""
    if not 0 <= index < size:
        raise ValueError("need 0 <= index < size")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split(hi - lo)
        if index - lo < k:
            path.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree(lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_path(old: int, new: int, subtree: Subtree) -> list[bytes]:
    """PROOF(old, D[new]) of RFC 9162 §2.1.4.1 (empty when old == new)."""
    if not 0 < old <= new:
        raise ValueError("need 0 < old <= new")
    path: list[bytes] = []
    lo, hi, m, whole = 0, new, old, True
    while m != hi - lo:
        k = split(hi - lo)
        if m <= k:
            path.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree(lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        path.append(subtree(lo, hi))
    path.reverse()
    return path


def _need_hash(value: bytes, what: str) -> None:
    if len(value) != 32:
        raise VerificationError(f"{what} is {len(value)} bytes, not 32")


def verify_inclusion(index: int, size: int, lh: bytes, path: Sequence[bytes],
                     root: bytes) -> None:
    """RFC 9162 §2.1.3.2; raise VerificationError unless ``lh`` is leaf ``index`` of ``root``."""
    _need_hash(lh, "leaf hash")
    _need_hash(root, "root")
    for p in path:
        _need_hash(p, "proof node")
    if not 0 <= index < size:                                      # step 1
        raise VerificationError(f"leaf index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, lh                                # steps 2, 3
    for p in path:                                                 # step 4
        if sn == 0:
            raise VerificationError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:                                                    # step 5
        raise VerificationError("inclusion proof is shorter than the tree is deep")
    if r != root:
        raise VerificationError("inclusion proof does not lead to the root")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes,
                       path: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2; raise VerificationError unless tree ``old`` is a prefix of ``new``."""
    if not 0 < old <= new:
        raise VerificationError(f"sizes must satisfy 0 < old <= new (old {old}, new {new})")
    if old == new:  # as transparency-dev/merkle: equal roots, no proof (any root length)
        if path:
            raise VerificationError("trees of one size need an empty consistency proof")
        if old_root != new_root:
            raise VerificationError("the two roots of one size differ")
        return
    _need_hash(old_root, "old root")
    _need_hash(new_root, "new root")
    for p in path:
        _need_hash(p, "proof node")
    if not path:                                                   # step 1
        raise VerificationError("consistency proof is empty")
    nodes = list(path)
    if old & (old - 1) == 0:                                       # step 2
        nodes.insert(0, old_root)
    fn, sn = old - 1, new - 1                                      # step 3
    while fn & 1:                                                  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]                                             # step 5
    for c in nodes[1:]:                                            # step 6
        if sn == 0:
            raise VerificationError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:                                                    # step 7
        raise VerificationError("consistency proof is shorter than the tree is deep")
    if fr != old_root:
        raise VerificationError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise VerificationError("consistency proof does not lead to the new root")
