"""Automatic checkpoints (issue 16): after every N entries or T seconds, whichever first.

After an append (:func:`signed_after`, the CLI's and the API's), and every T seconds
from ``ledger serve`` (:func:`start_timer`, a daemon thread): the head is signed when
the batch crossed a multiple of N, or when T seconds passed since the latest checkpoint
and entries came after it.  Under ``ledger serve`` the thread signs (the append only
wakes it); elsewhere (the CLI) the append signs after its commit.  N is the stored
``checkpoint_every`` (``LEDGER_CHECKPOINT_EVERY`` overrides it; 0: off, the thread
too), T is ``LEDGER_CHECKPOINT_SECONDS`` (default 60; 0: no time criterion).
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

__all__ = ["auto_checkpoint", "due", "signed_after", "start_timer"]

_log = logging.getLogger("ledger.app.proofs")

_signed_at: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
_wakers: weakref.WeakKeyDictionary[Any, threading.Event] = weakref.WeakKeyDictionary()


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


def signed_after(ledger: Any, seqs: list[int]) -> None:
    """After a committed batch: when a checkpoint is due, sign it here, or, under
    ``ledger serve`` (:func:`start_timer` running), wake its thread and return: the
    request does not wait for the catch-up, the signature and the pushes."""
    if not due(ledger, seqs):
        return
    wake = _wakers.get(ledger)
    if wake is not None:
        wake.set()
        return
    auto_checkpoint(ledger)


def start_timer(ledger: Any) -> Callable[[], None]:
    """``ledger serve``: a thread that signs the head when an append found a checkpoint
    due (:func:`signed_after`), and every T seconds if entries came since the latest
    one.  Returns the function that stops it (nothing when automatic checkpoints are
    off)."""
    seconds = seconds_setting(ledger.env or {})
    if ledger.checkpoint_every <= 0:
        return lambda: None
    stop, wake = threading.Event(), threading.Event()
    _wakers[ledger] = wake

    def run() -> None:
        while not stop.is_set():
            woken = wake.wait(seconds if seconds > 0 else None)
            wake.clear()
            if stop.is_set():
                return
            try:
                stale = seconds > 0 and time.time() - _last_signed_at(ledger) >= seconds
                if (woken or stale) and _behind(ledger):
                    auto_checkpoint(ledger)
            except LedgerError as exc:  # the database is down: try again next time
                _log.warning("automatic checkpoint failed: %s", exc)
    thread = threading.Thread(target=run, name="ledger-auto-checkpoints", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        wake.set()
        thread.join(timeout=10)
        _wakers.pop(ledger, None)
    return halt
