"""Counted words (``2 entries``), for the verifiers' reasons and every face's output.

Here, at the bottom of the house, so that trust imports no face: ``ledger.cli.format``
re-exports it.
"""

from __future__ import annotations

__all__ = ["plural"]


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 entry``, ``2 entries``, ``1,000 events``: ``many`` defaults to ``one + 's'``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
