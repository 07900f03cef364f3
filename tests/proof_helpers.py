"""Shared builders for the proof tests."""

from __future__ import annotations

import base64
import secrets

from ledger.app.application import Ledger
from ledger.trust.ed25519 import public_key_of, sign
from ledger.trust.notes import VerifierKey, checkpoint_body, format_note
from tests.helpers import collect, consent


def fill(ledger: Ledger, n: int, batch: int = 100) -> None:
    """Append events until the ledger holds ``n`` entries (consents and collections)."""
    i = ledger.head()[0]
    while i < n:
        events = []
        for j in range(i, min(n, i + batch)):
            e = j + 1  # the entry's seq: a consent at even seqs, its collection just after
            s = f"subject{e // 2}@example.fr"
            events.append(consent(s, evidence=f"f{e}") if e % 2 == 0 else collect(s))
        ledger.append(events)
        i = ledger.head()[0]
    assert i == n


def other_key(origin: str) -> tuple[bytes, VerifierKey]:
    seed = secrets.token_bytes(32)
    return seed, VerifierKey.for_key(origin, public_key_of(seed))


def resign(note_origin: str, size: int, root: bytes, seed: bytes, key: VerifierKey) -> str:
    body = checkpoint_body(note_origin, size, root)
    return format_note(body, key.name, key.key_id, sign(seed, body.encode()))


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
