"""The hash chain: what an entry is and how its hash is computed.

An entry is the JSON object (docs/FORMAT.md §2)::

    {seq, event_id, type, subject, occurred_at, recorded_at, actor, payload, prev_hash}

``hash = SHA-256(JCS(entry))``, lowercase hex; ``prev_hash`` of entry 1 is
:data:`GENESIS_HASH` (64 zeros), of entry n the hash of entry n-1.  The
stored form of an entry is exactly its canonical bytes, so what is hashed is
what is stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ledger.trust.canonical import canonical_bytes

__all__ = ["ENTRY_KEYS", "GENESIS_HASH", "Entry", "entry_hash"]

GENESIS_HASH = "0" * 64
ENTRY_KEYS = frozenset(
    {"seq", "event_id", "type", "subject", "occurred_at", "recorded_at", "actor",
     "payload", "prev_hash"}
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One link of the chain, as stored."""

    seq: int
    event_id: str
    type: str
    subject: str | None
    occurred_at: str
    recorded_at: str
    actor: str | None
    payload: dict[str, Any]
    prev_hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "event_id": self.event_id,
            "type": self.type,
            "subject": self.subject,
            "occurred_at": self.occurred_at,
            "recorded_at": self.recorded_at,
            "actor": self.actor,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
        }

    def canonical(self) -> bytes:
        return canonical_bytes(self.as_json())

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Entry:
        return cls(
            seq=obj["seq"],
            event_id=obj["event_id"],
            type=obj["type"],
            subject=obj["subject"],
            occurred_at=obj["occurred_at"],
            recorded_at=obj["recorded_at"],
            actor=obj["actor"],
            payload=obj["payload"],
            prev_hash=obj["prev_hash"],
        )


def entry_hash(canonical: bytes) -> str:
    """The chain hash of an entry given its canonical bytes."""
    return hashlib.sha256(canonical).hexdigest()
