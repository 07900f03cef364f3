"""``ledger verify`` on a database: the whole chain, read without the master key (an
auditor needs none)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ledger.app.checking import open_checked_store, verify_store
from ledger.errors import StorageError

if TYPE_CHECKING:
    from ledger.trust.verify import VerificationResult

__all__ = ["verify_ledger", "verify_served"]


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


def verify_served(url: str, name: str, read_urls: Sequence[str], *,
                  workers: int | None = None, spawn: bool = False,
                  on_progress: Callable[[int], None] | None = None,
                  ) -> tuple[VerificationResult, str, str]:
    """:func:`verify_ledger` on the first read replica that answers (``read_urls`` of the
    routing file, docs/OPERATIONS.md "Scaling out"), else on the primary ``url``: the
    verdict, which served it (``replica`` or ``primary``) and its URL.  A replica that
    fails before its verdict (unreachable, or a storage error meanwhile) passes the
    check to the next, then to the primary; a verdict, good or bad, is final."""
    for replica in read_urls:
        try:
            return (verify_ledger(replica, name, workers=workers, spawn=spawn,
                                  on_progress=on_progress), "replica", replica)
        except StorageError:
            continue
    return (verify_ledger(url, name, workers=workers, spawn=spawn, on_progress=on_progress),
            "primary", url)
