"""Entries opened for reading: personal values opened where the subject's keys remain,
``[erased]`` where they were destroyed (``Ledger.show`` and ``Ledger.log``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ledger.app.tx_keys import TxKeys
from ledger.keys.sealing import is_sealed, parse_sealed
from ledger.storage import StoredRow

if TYPE_CHECKING:
    from ledger.app.application import Ledger

__all__ = ["ERASED", "open_all", "readable", "readable_pages"]

ERASED = "[erased]"


def readable(ledger: Ledger, rows: list[StoredRow]) -> list[dict[str, Any]]:
    """Entries with personal values opened where keys allow, ``[erased]`` elsewhere."""
    entries = [json.loads(r.state) for r in rows]
    subjects = sorted({e["subject"] for e in entries if e["subject"]})
    keys = TxKeys(ledger.ring, ledger.store.read(lambda tx: tx.keys(subjects)))
    out = []
    for row, e in zip(rows, entries, strict=True):
        data = open_all(e["payload"], keys, e["subject"], e["event_id"], "data")
        out.append({"seq": e["seq"], "event_id": e["event_id"], "type": e["type"],
                    "subject": e["subject"], "occurred_at": e["occurred_at"],
                    "recorded_at": e["recorded_at"], "actor": e["actor"], "data": data,
                    "prev_hash": e["prev_hash"], "hash": row.hash})
    return out


def readable_pages(ledger: Ledger, rows: Iterator[StoredRow], until: int | None,
                   page: int = 500) -> Iterator[dict[str, Any]]:
    """:func:`readable` over ``rows`` (up to ``until`` when given), ``page`` rows at a time."""
    batch: list[StoredRow] = []
    for row in rows:
        if until is not None and row.seq > until:
            break
        batch.append(row)
        if len(batch) == page:
            yield from readable(ledger, batch)
            batch = []
    if batch:
        yield from readable(ledger, batch)


def open_all(value: Any, keys: TxKeys, subject: str | None, event_id: str, path: str) -> Any:
    if isinstance(value, dict):
        return {k: open_all(v, keys, subject, event_id, f"{path}.{k}")
                for k, v in value.items()}
    if isinstance(value, list):
        return value
    if is_sealed(value) and subject is not None:
        ref = parse_sealed(value)
        key = keys.for_opening(subject, ref.scope, ref.epoch)
        if key is None:
            return ERASED
        return keys.ring.open(ref, key=key, subject=subject, event_id=event_id, path=path)
    return value
