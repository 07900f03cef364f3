"""Checking a bundle's entries in several processes (past :data:`PARALLEL_BYTES`).

``entries.jsonl`` is cut at line starts into one contiguous slice per worker.  A
worker checks its slice with :class:`~ledger.trust.verify.ChainVerifier`, starting from
the ``prev_hash`` and ``seq`` its first entry claims, and returns the leaf hashes
of the entries it verified.  This process then joins the slices in order: each
slice's first entry must have the next ``seq``, name the previous slice's last hash
as ``prev_hash`` and not go back in time — exactly the checks a single pass makes
there — and it pushes the leaves into the Merkle accumulator, checking the root at
every checkpoint size.  The first bad ``seq`` is the single pass's.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import chain, pairwise
from pathlib import Path

from ledger.app.workers import fork_is_safe
from ledger.errors import VerificationError
from ledger.trust.bundle_check import seq_of
from ledger.trust.merkle import Accumulator, leaf_hash
from ledger.trust.verify import ChainVerifier

__all__ = ["PARALLEL_BYTES", "check_in_slices"]

PARALLEL_BYTES = 32 << 20  # about 50,000 entries


@dataclass(frozen=True, slots=True)
class SliceResult:
    count: int
    first_seq: int
    first_prev: str
    first_time: str
    last_hash: str
    last_time: str
    leaves: bytes
    bad_seq: int | None = None
    reason: str | None = None


# The calling process checks the first slice and then folds every slice's leaves into
# the tree: its slice is made smaller by this factor so that all finish together.
FIRST_SHARE = 0.85


def _cuts(path: Path, parts: int) -> list[tuple[int, int]]:
    size = path.stat().st_size
    total = FIRST_SHARE + parts - 1
    starts = [0]
    with path.open("rb") as f:
        for k in range(1, parts):
            f.seek(max(int(size * (FIRST_SHARE + k - 1) / total) - 1, starts[-1]))
            f.readline()  # to the start of the next line
            starts.append(min(f.tell(), size))
    starts.append(size)
    return [(a, b) for a, b in pairwise(starts) if b > a]


def _check_line(v: ChainVerifier, line: bytes) -> None:
    if len(line) < 66 or line[64:65] != b" ":
        raise VerificationError("entries.jsonl: a line is not '<hash> <entry>'",
                                seq=v.expected_seq)
    stored, entry = line[:64].decode("ascii", "replace"), line[65:]
    try:
        # the line's position is its seq: the verifier checks the entry's own seq against it
        v.check(v.expected_seq, stored, entry)
    except VerificationError:
        # again with the seq the line names, for the precise reason (missing, repeated…)
        v.check(seq_of(line, v.expected_seq), stored, entry)
        raise


def check_slice(path: str, start: int, stop: int) -> SliceResult:
    """Check the lines of ``path`` between two line starts (runs in a worker, streaming)."""
    with Path(path).open("rb") as f:
        f.seek(start)
        first = f.readline() if start < stop else b""
        try:
            head = json.loads(first[65:])
            first_seq, first_prev = int(head["seq"]), str(head["prev_hash"])
            first_time = str(head["recorded_at"])
        except (ValueError, KeyError, TypeError):
            first_seq, first_prev, first_time = seq_of(first, 0), "", ""
        v = ChainVerifier(start_seq=first_seq, prev_hash=first_prev)
        leaves: list[bytes] = []
        last_time = ""
        pos, line = start, first
        try:
            while line and pos < stop:
                pos += len(line)
                if not line.endswith(b"\n"):
                    _check_line(v, b"")  # the file's last line lacks its newline
                _check_line(v, line[:-1])
                leaves.append(leaf_hash(bytes.fromhex(line[:64].decode("ascii"))))
                last_time = v.prev_recorded_at
                line = f.readline() if pos < stop else b""
        except VerificationError as exc:
            return SliceResult(v.count, first_seq, first_prev, first_time, v.prev_hash,
                               last_time, b"".join(leaves), exc.seq, exc.reason)
    return SliceResult(v.count, first_seq, first_prev, first_time, v.prev_hash, last_time,
                       b"".join(leaves))


def check_in_slices(path: Path, workers: int, *, first: int, prev_hash: str,
                    acc: Accumulator, sizes: Collection[int],
                    at_size: Callable[[], None]) -> int:
    """Check every entry in ``workers`` processes; push their leaves; return the count.

    ``at_size`` is called when the tree has reached one of ``sizes`` (checkpoints)."""
    cuts = _cuts(path, workers)
    context = multiprocessing.get_context("fork" if fork_is_safe() else "spawn")
    with ProcessPoolExecutor(max_workers=max(1, len(cuts) - 1), mp_context=context) as pool:
        futures = [pool.submit(check_slice, str(path), a, b) for a, b in cuts[1:]]
        # one at a time: the first slice's leaves are folded while the workers still run
        results = chain([check_slice(str(path), *cuts[0])], (f.result() for f in futures))
        return _join(results, first=first, prev_hash=prev_hash, acc=acc, sizes=sizes,
                     at_size=at_size)


def _join(results: Iterable[SliceResult], *, first: int, prev_hash: str, acc: Accumulator,
          sizes: Collection[int], at_size: Callable[[], None]) -> int:
    """Check the joins between slices, in order, and fold their leaves into ``acc``."""
    expected, prev_time, count = first, "", 0
    for r in results:
        # the joins: what a single pass checks at the first entry of the slice
        if r.first_seq != expected:
            what = "missing" if r.first_seq > expected else "repeated or out of order"
            raise VerificationError(f"entry {expected} is {what} (found seq {r.first_seq})",
                                    seq=expected)
        if r.first_prev != prev_hash:
            raise VerificationError("prev_hash does not match the previous entry's hash",
                                    seq=expected)
        if r.first_time and r.first_time < prev_time:
            raise VerificationError("recorded_at goes back in time", seq=expected)
        push, leaves = acc.push, r.leaves
        for i in range(0, len(leaves), 32):
            push(leaves[i:i + 32])
            if acc.size in sizes:
                at_size()
        if r.bad_seq is not None:
            raise VerificationError(r.reason or "entry does not verify", seq=r.bad_seq)
        expected += r.count
        count += r.count
        prev_hash, prev_time = r.last_hash, r.last_time
    return count
