"""``ledger verify --bundle``: the pure check of :mod:`ledger.trust.bundle_check`, its
entries shared among processes past :data:`PARALLEL_BYTES` (:mod:`ledger.app.bundle_slices`).

The verdict is the single pass's; only the time it takes differs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from ledger.app.bundle_slices import PARALLEL_BYTES, check_in_slices
from ledger.app.timestamps import check_bundle_timestamps
from ledger.app.workers import worker_count
from ledger.errors import VerificationError
from ledger.trust import bundle_check
from ledger.trust.bundle_check import BundleReport
from ledger.trust.cosignature import Quorum
from ledger.trust.merkle import Accumulator
from ledger.trust.notes import Checkpoint

__all__ = ["PARALLEL_BYTES", "BundleReport", "verify_bundle"]


def verify_bundle(folder: Path, pubkey: str | None = None, *, workers: int | None = None,
                  spawn: bool = False, kept: Sequence[Checkpoint] = (),
                  quorum: Quorum | None = None,
                  tsa_roots: Sequence[Any] = ()) -> BundleReport:
    """Check a bundle (:func:`ledger.trust.bundle_check.verify_bundle`).

    Past :data:`PARALLEL_BYTES` of entries the chain checks are shared among processes
    (``workers``, None: one per CPU when this process may fork, or ``spawn`` from an
    import-safe entry point); the verdict is the single pass's.
    """

    def in_slices(path: Path, *, first: int, prev_hash: str, acc: Accumulator,
                  sizes: Collection[int], at_size: Callable[[], None]) -> int | None:
        n = worker_count(path.stat().st_size, PARALLEL_BYTES, workers=workers, spawn=spawn)
        if n <= 1:
            return None
        return check_in_slices(path, n, first=first, prev_hash=prev_hash, acc=acc,
                               sizes=sizes, at_size=at_size)

    report = bundle_check.verify_bundle(folder, pubkey, kept=kept, check_entries=in_slices,
                                        quorum=quorum)
    if report.ok and tsa_roots:  # issue 16: RFC 3161 (rfc3161-client: not in trust)
        try:
            report.timestamped = check_bundle_timestamps(folder, tsa_roots)
        except VerificationError as exc:
            report.ok, report.reason = False, exc.reason
            return report
        top = max(report.timestamped, key=lambda t: t["tree_size"])
        report.proves.append(f"a TSA time-stamped the tree head of size {top['tree_size']} "
                             f"at {top['gen_time']} (RFC 3161): it existed by then")
    return report
