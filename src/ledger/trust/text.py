"""Words for the verifiers' reasons, here so that trust imports no face (cli.format)."""

from __future__ import annotations

__all__ = ["plural"]


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 entry``, ``2 entries``, ``1,000 events``: the same words as ``ledger.cli.format``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
