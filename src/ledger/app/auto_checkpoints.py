"""Automatic checkpoints (issue 16): after every N entries or T seconds, whichever first.

After an append (:func:`ledger.app.proofs.after_append`, the CLI's and the API's), and
every T seconds from ``ledger serve`` (:func:`start_timer`, a daemon thread): the head
is signed when the batch crossed a multiple of N, or when T seconds passed since the
latest checkpoint and entries came after it.  N is the stored ``checkpoint_every``
(``LEDGER_CHECKPOINT_EVERY`` overrides it; 0: off, the timer too), T is
``LEDGER_CHECKPOINT_SECONDS`` (default 60; 0: no time criterion).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from ledger.app.proofs import prover_of, seconds_setting
from ledger.errors import LedgerError
from ledger.storage.tree_store import latest_checkpoint
from ledger.storage.witness_store import pinned_at
from ledger.trust.canonical import parse_time

__all__ = ["auto_checkpoint", "due", "start_timer"]

_log = logging.getLogger("ledger.app.proofs")

_signed_at: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def _last_signed_at(ledger: Any) -> float:
    """When the ledger's latest checkpoint was signed (POSIX seconds), read once per process
    and kept beside the open ledger; before the first one, when ``ledger init`` pinned the
    signing key (else now: the clock starts in this process)."""
    if ledger not in _signed_at:
        def read(tx: Any) -> str | None:
            latest = latest_checkpoint(tx)
            return str(latest["created_at"]) if latest is not None else pinned_at(tx)
        when = ledger.store.read(read)
        _signed_at[ledger] = parse_time(when).timestamp() if when else time.time()
    return _signed_at[ledger]


def due(ledger: Any, seqs: list[int]) -> bool:
    """Whether the batch crossed a multiple of N entries, or T seconds passed since the
    latest checkpoint (``LEDGER_CHECKPOINT_SECONDS``)."""
    every = ledger.checkpoint_every
    if not seqs or every <= 0:
        return False
    if max(seqs) // every != (min(seqs) - 1) // every:
        return True
    seconds = seconds_setting(ledger.env or {})
    return seconds > 0 and time.time() - _last_signed_at(ledger) >= seconds


def auto_checkpoint(ledger: Any) -> None:
    """Sign the head now (the events are stored whatever happens: a failure is logged)."""
    try:
        prover_of(ledger).checkpoint()
        _signed_at[ledger] = time.time()
    except LedgerError as exc:
        _log.warning("automatic checkpoint failed (the events are stored): %s", exc)


def _behind(ledger: Any) -> bool:
    """Entries after the latest checkpoint (or none signed yet)."""
    def read(tx: Any) -> bool:
        latest = latest_checkpoint(tx)
        h = tx.head()
        head = 0 if h is None else h.seq
        return latest is None or head > int(latest["tree_size"])
    return bool(ledger.store.read(read))


def start_timer(ledger: Any) -> Callable[[], None]:
    """``ledger serve``: every T seconds, sign the head if entries came since the latest
    checkpoint.  Returns the function that stops the thread (nothing when off)."""
    seconds = seconds_setting(ledger.env or {})
    if seconds <= 0 or ledger.checkpoint_every <= 0:
        return lambda: None
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(seconds):
            try:
                if time.time() - _last_signed_at(ledger) >= seconds and _behind(ledger):
                    auto_checkpoint(ledger)
            except LedgerError as exc:  # the database is down: try again next time
                _log.warning("automatic checkpoint failed: %s", exc)
    thread = threading.Thread(target=run, name="ledger-auto-checkpoints", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=10)
    return halt
