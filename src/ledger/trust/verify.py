"""The chain verifier: small, pure, streaming.

It reads stored rows ``(seq, hash, entry_bytes)`` in ``seq`` order and checks,
for each row, in this order (the step numbers appear in the code):

    (1) the row's ``seq`` is the next one expected (1, 2, 3…: no gap, no repeat);
    (2) the bytes are UTF-8 JSON in canonical form (RFC 8785) with exactly the
        entry's keys, integers only;
    (3) the entry's own ``seq`` equals the row's;
    (4) ``prev_hash`` equals the hash of the previous entry (64 zeros for seq 1);
    (5) SHA-256 of the bytes equals the stored ``hash``;
    (6) ``recorded_at`` is well formed and never earlier than the previous one.

It stops at the first failure and reports its ``seq`` and the reason.  It does
no I/O and reads no clock: callers hand it rows.  A verified chain proves
internal consistency only; only signed checkpoints held outside the database
prove that nothing was rewritten wholesale (see docs/FORMAT.md).
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ledger.errors import VerificationError
from ledger.trust.canonical import _TIME, canonical_text
from ledger.trust.chain import ENTRY_KEYS, GENESIS_HASH

__all__ = ["ChainVerifier", "VerificationResult", "verify_chain", "verify_rows"]

Row = tuple[int, str, bytes]


def _no_floats(text: str) -> Any:
    raise ValueError("floats are not allowed")


# One decoder for every entry (``json.loads`` with options builds a new one per call).
_decode = json.JSONDecoder(parse_float=_no_floats, parse_constant=_no_floats).decode


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The verdict on a chain; truthy when it verifies."""

    ok: bool
    entries: int
    head: str
    first_bad_seq: int | None = None
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.ok

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head": self.head,
                "first_bad_seq": self.first_bad_seq, "reason": self.reason}


class ChainVerifier:
    """Checks rows one at a time; keeps only the previous hash and time."""

    def __init__(self, *, start_seq: int = 1, prev_hash: str = GENESIS_HASH,
                 prev_recorded_at: str = "") -> None:
        self.expected_seq = start_seq
        self.prev_hash = prev_hash
        self.prev_recorded_at = prev_recorded_at
        self.count = 0

    def check(self, seq: int, stored_hash: str, data: bytes) -> None:
        """Verify one row; raise :class:`VerificationError` naming its ``seq``."""
        expected = self.expected_seq
        # (1) gap-free sequence
        if seq != expected:
            what = "missing" if seq > expected else "repeated or out of order"
            raise VerificationError(f"entry {expected} is {what} (found seq {seq})",
                                    seq=expected)
        # (2) canonical JSON with exactly the entry's keys
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError("entry is not valid UTF-8", seq=seq) from None
        try:
            entry = _decode(text)
        except ValueError as exc:
            raise VerificationError(f"entry is not valid JSON ({exc})", seq=seq) from None
        if not isinstance(entry, dict) or entry.keys() != ENTRY_KEYS:
            raise VerificationError("entry does not have exactly the entry keys", seq=seq)
        if canonical_text(entry) != text:
            raise VerificationError("entry bytes are not canonical (RFC 8785)", seq=seq)
        # (3) the entry's own sequence number
        if entry["seq"] != seq or type(entry["seq"]) is not int:
            raise VerificationError("entry seq differs from its position", seq=seq)
        # (4) the link to the previous entry
        if entry["prev_hash"] != self.prev_hash:
            raise VerificationError("prev_hash does not match the previous entry's hash",
                                    seq=seq)
        # (5) the entry's hash
        digest = hashlib.sha256(data).hexdigest()
        if digest != stored_hash:
            raise VerificationError("stored hash does not match SHA-256 of the entry",
                                    seq=seq)
        # (6) recording time: well formed and monotonic
        recorded_at = entry["recorded_at"]
        if not isinstance(recorded_at, str) or not _TIME.match(recorded_at):
            raise VerificationError("recorded_at is not YYYY-MM-DDTHH:MM:SS.ffffffZ", seq=seq)
        if recorded_at < self.prev_recorded_at:
            raise VerificationError("recorded_at goes back in time", seq=seq)
        self.prev_hash = digest
        self.prev_recorded_at = recorded_at
        self.expected_seq = seq + 1
        self.count += 1


def verify_rows(rows: Iterable[Row], *, on_progress: Callable[[int], None] | None = None,
                verifier: ChainVerifier | None = None) -> VerificationResult:
    """Report on ``rows``: a :class:`VerificationResult`, never an exception."""
    v = verifier or ChainVerifier()
    # Entries hold no reference cycles: the cycle collector is paused meanwhile
    # (a few per cent faster), and restored as it was.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for seq, stored_hash, data in rows:
            v.check(seq, stored_hash, data)
            if on_progress is not None and v.count % 65536 == 0:
                on_progress(v.count)
    except VerificationError as exc:
        return VerificationResult(False, v.count, v.prev_hash, exc.seq, exc.reason)
    finally:
        if collecting:
            gc.enable()
    return VerificationResult(True, v.count, v.prev_hash)


def verify_chain(rows: Iterable[Row]) -> str:
    """Raising twin of :func:`verify_rows`: the head hash, or VerificationError."""
    result = verify_rows(rows)
    if not result:
        raise VerificationError(result.reason or "chain does not verify",
                                seq=result.first_bad_seq)
    return result.head
