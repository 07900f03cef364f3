"""``ledger verify`` on a database: the whole chain, read without the master key (an
auditor needs none)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ledger.app.checking import open_checked_store, verify_store

if TYPE_CHECKING:
    from ledger.trust.verify import VerificationResult

__all__ = ["verify_ledger"]


def verify_ledger(url: str, name: str, *, workers: int | None = None, spawn: bool = False,
                  on_progress: Callable[[int], None] | None = None) -> VerificationResult:
    """Verify entries 1..head of ledger ``name`` at ``url``
    (:func:`ledger.app.checking.verify_store`; ``spawn`` only from an import-safe entry
    point)."""
    store, _ = open_checked_store(url, name)
    try:
        return verify_store(store, url, name, workers=workers, spawn=spawn,
                            on_progress=on_progress)
    finally:
        store.close()
