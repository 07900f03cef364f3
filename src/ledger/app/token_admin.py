"""The HTTP API's tokens for the faces: administered from the command line over a
database without the master key (``ledger token …``), and checked by the API over its
open ledger."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ledger.app.checking import open_checked_store
from ledger.app.tokens import Tokens

if TYPE_CHECKING:
    from ledger.app.application import Ledger

__all__ = ["open_tokens", "tokens_of"]


@contextmanager
def open_tokens(url: str, name: str) -> Iterator[Tokens]:
    """The tokens of ledger ``name`` at ``url``, its store closed on leaving."""
    store, _ = open_checked_store(url, name)
    try:
        yield Tokens(store)
    finally:
        store.close()


def tokens_of(ledger: Ledger) -> Tokens:
    """The tokens of an open ledger, on its store and its clock (the API's)."""
    return Tokens(ledger.store, ledger.clock)
