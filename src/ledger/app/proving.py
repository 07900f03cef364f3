"""The proofs' use cases for the faces: a :class:`~ledger.app.proofs.Prover` over a
database without the master key (the CLI's proof commands), and the latest signed
checkpoint of an open ledger (``GET /v1/checkpoints/latest``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ledger.app.checking import open_checked_store
from ledger.app.proofs import Prover
from ledger.storage.tree_store import latest_checkpoint

if TYPE_CHECKING:
    from ledger.app.application import Ledger

__all__ = ["latest_checkpoint_of", "open_prover"]


@contextmanager
def open_prover(url: str, name: str) -> Iterator[Prover]:
    """A prover over ledger ``name`` at ``url`` (no master key), closed on leaving."""
    store, _ = open_checked_store(url, name)
    try:
        yield Prover(store, url, name)
    finally:
        store.close()


def latest_checkpoint_of(ledger: Ledger) -> dict[str, Any] | None:
    """The stored checkpoint of the largest tree size, or ``None`` before the first."""
    found: dict[str, Any] | None = ledger.store.read(latest_checkpoint)
    return found
