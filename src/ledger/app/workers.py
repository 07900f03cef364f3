"""How many processes may share a verification, and how to start them safely.

Shared by the database verifier (:mod:`ledger.app.checking`) and the bundle
verifier (:mod:`ledger.app.bundle_slices`); the pure verifiers in :mod:`ledger.trust`
start no process.
"""

from __future__ import annotations

import os
import threading

__all__ = ["MAX_WORKERS", "cpu_workers", "fork_is_safe", "worker_count"]

MAX_WORKERS = 8


def cpu_workers() -> int:
    """One process per CPU, up to :data:`MAX_WORKERS`."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def fork_is_safe() -> bool:
    """POSIX fork with one thread: no lock of another thread can be copied held."""
    import multiprocessing  # noqa: PLC0415 - only when verifying in parallel (start-up)

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def worker_count(size: int, parallel_from: int, *, workers: int | None = None,
                 spawn: bool = False) -> int:
    """The processes to use for a check of ``size`` (entries or bytes): ``workers`` when
    given; else one per CPU from ``parallel_from`` on, when this process may start them
    (it forks safely, or ``spawn`` allows spawning), and 1 below."""
    if workers is None:
        if size < parallel_from or not (spawn or fork_is_safe()):
            return 1
        workers = cpu_workers()
    return max(1, workers)
