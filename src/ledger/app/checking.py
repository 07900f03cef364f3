"""Checking a stored ledger: the pure verifier over its rows, in one process or several.

Nothing here needs a key: an auditor with read access to the database (or a
copy of the file) runs it.  Importing this module loads no event catalogue
and no cryptography, so that ``ledger verify`` starts quickly.

Past :data:`PARALLEL_FROM` entries the range ``1..head`` can be cut into one
contiguous slice per worker.  Each slice is checked by the same
:class:`~ledger.trust.verify.ChainVerifier`, starting from the stored hash and time
of the entry just before it; the results are joined in order, so the first bad
``seq`` reported is the one a single pass would find.  (A forged entry at a
slice boundary is still caught: the next slice starts from the *stored* hash
of the entry before it, and that entry's own check compares the stored hash
with SHA-256 of its bytes.)
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ledger.app.workers import MAX_WORKERS, fork_is_safe, worker_count
from ledger.errors import ConfigError
from ledger.storage import open_store, sqlite_path
from ledger.storage.meta import read_meta
from ledger.trust.chain import GENESIS_HASH
from ledger.trust.verify import ChainVerifier, VerificationResult, verify_rows

__all__ = ["MAX_WORKERS", "PARALLEL_FROM", "ledger_id_for",
           "open_checked_store", "read_meta", "verify_store"]

PARALLEL_FROM = 50_000
_NAMESPACE = uuid.UUID("6f1c2b7e-4d0a-5b8e-9c3f-0a1b2c3d4e5f")


def ledger_id_for(name: str) -> uuid.UUID:
    """A ledger's id: UUIDv5 of its name (so that one database can hold several)."""
    return uuid.uuid5(_NAMESPACE, name)


def open_checked_store(url: str, name: str) -> tuple[Any, dict[str, Any]]:
    """The store of an initialised ledger and its metadata, or a ConfigError saying why not."""
    lid = ledger_id_for(name)
    path = sqlite_path(url)
    if path is not None and not os.path.exists(path):  # noqa: PTH110
        raise ConfigError(f"no ledger at {path}: run `ledger init` (or set "
                          "LEDGER_DATABASE_URL / --db)")
    store = open_store(url, lid)
    try:
        meta = _initialised_meta(store, name, str(lid))
    except BaseException:
        store.close()
        raise
    return store, meta


def _initialised_meta(store: Any, name: str, lid: str) -> dict[str, Any]:
    if not store.schema_exists():
        raise ConfigError(f"no ledger schema in {store.url_for_humans}: run `ledger init`")
    meta: dict[str, Any] | None = store.read(lambda tx: read_meta(tx, lid))
    if meta is None:
        raise ConfigError(f"no ledger named {name!r} in this database: run `ledger init`")
    return meta


def verify_store(store: Any, url: str | None, name: str, *, workers: int | None = None,
                 spawn: bool = False,
                 on_progress: Callable[[int], None] | None = None) -> VerificationResult:
    """Verify entries 1..head (the head when the call starts).

    ``workers=None`` chooses :func:`ledger.app.workers.worker_count` when this process can fork
    safely or ``spawn`` allows spawning, else 1.  Spawning re-imports the
    caller's main module, so only an import-safe entry point (the ``ledger``
    command, a script with an ``if __name__ == "__main__"`` guard) passes
    ``spawn=True``; an explicit ``workers`` above 1 spawns when forking is unsafe.
    """
    head = store.read(lambda tx: tx.head())
    head_seq = 0 if head is None else int(head.seq)
    workers = worker_count(head_seq, PARALLEL_FROM, workers=workers, spawn=spawn)
    if workers <= 1 or url is None or head_seq < 2 * workers:
        result: VerificationResult = _verify_slice_rows(
            store.iter_rows(1, head_seq), _Slice(1, head_seq, GENESIS_HASH, ""), on_progress)
        return result
    size = -(-head_seq // workers)
    parts = [_Slice(a, min(a + size - 1, head_seq), *_link_before(store, a))
             for a in range(1, head_seq + 1, size)]
    # fork costs nothing and imports nothing; it is only safe without threads
    import multiprocessing  # noqa: PLC0415 - only when verifying in parallel (start-up)
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    context = multiprocessing.get_context("fork" if fork_is_safe() else "spawn")
    with ProcessPoolExecutor(max_workers=len(parts) - 1, mp_context=context) as pool:
        futures = [pool.submit(_verify_slice, url, name, sl) for sl in parts[1:]]
        # this process checks the first slice while the others start and run
        first = _verify_slice_rows(store.iter_rows(parts[0].start, parts[0].stop), parts[0])
        results = [first, *(f.result() for f in futures)]
    total = 0
    for r in results:
        if not r.ok:
            return VerificationResult(False, total + r.entries, r.head, r.first_bad_seq,
                                      r.reason)
        total += r.entries
        if on_progress is not None:
            on_progress(total)
    return VerificationResult(True, total, results[-1].head)


def _link_before(store: Any, seq: int) -> tuple[str, str]:
    """Stored hash and ``recorded_at`` of entry ``seq - 1`` (genesis for 1).

    If that entry is missing or unreadable, the slice before reports it first.
    """
    rows = list(store.iter_rows(seq - 1, seq - 1)) if seq > 1 else []
    if not rows:
        return GENESIS_HASH, ""
    try:
        recorded_at = str(json.loads(rows[0][2]).get("recorded_at", ""))
    except (ValueError, AttributeError):
        recorded_at = ""
    return rows[0][1], recorded_at


@dataclass(frozen=True, slots=True)
class _Slice:
    """Entries ``start..stop``, following an entry with ``prev_hash`` and ``prev_time``."""

    start: int
    stop: int
    prev_hash: str
    prev_time: str


def _verify_slice_rows(rows: Iterator[tuple[int, str, bytes]], sl: _Slice,
                       on_progress: Callable[[int], None] | None = None) -> VerificationResult:
    """Verify one slice from its predecessor; a missing tail is a failure."""
    verifier = ChainVerifier(start_seq=sl.start, prev_hash=sl.prev_hash,
                             prev_recorded_at=sl.prev_time)
    result = verify_rows(rows, on_progress=on_progress, verifier=verifier)
    if result.ok and verifier.expected_seq != sl.stop + 1:
        missing = verifier.expected_seq
        return VerificationResult(False, result.entries, result.head, missing,
                                  f"entry {missing} is missing")
    return result


def _verify_slice(url: str, name: str, sl: _Slice) -> VerificationResult:
    """Worker process: open the store (no key needed) and verify one slice."""
    store = open_store(url, ledger_id_for(name))
    try:
        result: VerificationResult = _verify_slice_rows(store.iter_rows(sl.start, sl.stop), sl)
        return result
    finally:
        store.close()
