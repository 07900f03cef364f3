"""Reading the published policies of a ledger (for the rules' time zone and the projections)."""

from __future__ import annotations

import json
from typing import Any

from ledger.domain.policy_book import PolicyBook

__all__ = ["load_policies"]


def load_policies(store: Any, *, known_at: str | None = None) -> PolicyBook:
    """Every PolicyPublished of the ledger (recorded by ``known_at`` when given)."""
    book = PolicyBook()
    for row in store.entries(types=["PolicyPublished"]):
        entry = json.loads(row.state)
        if known_at is None or entry["recorded_at"] <= known_at:
            book.add_json(row.seq, entry["payload"]["policy"])
    return book
