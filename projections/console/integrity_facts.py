"""What the overview and the integrity page say about the chain: no personal value here.

- the last verification: ``ctx.verifier`` runs ``ledger verify`` in a child process
  (slow on a big ledger), so the console keeps the last verdict it obtained in memory,
  per server (:class:`Verifications`), and runs a new one only when someone presses
  "Verify now" (a POST); after a restart there is none until the next press;
- the latest signed checkpoint and its witness cosignatures (the API's reads:
  ``latest_checkpoint_of``, ``with_cosignatures``), the verifier key (``ledger pubkey``);
- an inclusion proof of one entry, checked here with the pure verifier of
  :mod:`ledger.trust` against the signed checkpoint (its signature by the verifier
  key, then the audit path to its root), as an auditor would check it offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.app.proofs import prover_of
from ledger.app.proving import latest_checkpoint_of
from ledger.app.witnessing import Witnessing, with_cosignatures
from ledger.errors import InputError, StorageError, VerificationError
from ledger.trust.canonical import format_time
from ledger.trust.cosignature import parse_witness_key, utc_text
from ledger.trust.ed25519 import verify_checkpoint_signature
from ledger.trust.merkle import verify_inclusion
from ledger.trust.notes import parse_checkpoint, parse_verifier_key

from ..http import per_server

__all__ = ["NotRun", "Verdict", "Verifications", "checkpoint_facts", "inclusion_facts", "parse_seq",
           "verifications", "verifier_key"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """One run of ``ledger verify``: its result, when it ended (UTC) and what served it."""

    ok: bool
    entries: int
    head: str
    first_bad_seq: int | None
    reason: str | None
    at: str
    served_by: str


@dataclass(frozen=True, slots=True)
class NotRun:
    """A press of "Verify now" whose run could not be made (the database, the settings):
    when, and the verifier's last line (it names no personal value)."""

    reason: str
    at: str


class Verifications:
    """The last verdict a server's console obtained (in memory, per server), and the last
    attempt that could not run when it came after it."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.last: Verdict | None = None
        self.failed: NotRun | None = None

    async def run(self) -> Verdict | NotRun:
        """Verify now (``ctx.verifier``: one child at a time, shared with ``GET /v1/verify``)."""
        try:
            result, by = await self.ctx.verifier.run_served()
        except StorageError as exc:
            self.failed = NotRun(str(exc), format_time(datetime.now(UTC)))
            return self.failed
        verdict = Verdict(ok=bool(result["ok"]), entries=int(result["entries"]),
                          head=str(result["head"]), first_bad_seq=result.get("first_bad_seq"),
                          reason=result.get("reason"), at=format_time(datetime.now(UTC)),
                          served_by=by)
        self.last, self.failed = verdict, None
        return verdict

    def shown(self) -> dict[str, Any]:
        """What the pages show: ``last`` (a Verdict or None), ``failed`` (NotRun or None)."""
        return {"last": self.last, "failed": self.failed}


def verifications(ctx: Any) -> Verifications:
    """The verdicts of the server ``ctx`` (one holder, whichever page asks)."""
    return per_server(ctx, "verifications", lambda: Verifications(ctx))


def checkpoint_facts(ledger: Any) -> dict[str, Any]:
    """The ledger's size, its latest signed checkpoint (or None) with its cosignatures."""
    head, _ = ledger.head()
    cp = latest_checkpoint_of(ledger)
    if cp is None:
        return {"head": head, "checkpoint": None, "cosignatures": []}
    prover = prover_of(ledger)
    cosigned = with_cosignatures(prover, [cp])[0]
    size = int(cp["tree_size"])
    lines = Witnessing(prover).cosignatures(min_size=size, max_size=size)
    return {"head": head, "checkpoint": {
        "tree_size": size, "root": cp["root"], "created_at": cp["created_at"],
        "note": cosigned["note"], "cosignature_count": cosigned["cosignatures"],
        "behind": head - size},
        "cosignatures": [{"witness": _witness_name(c["witness"]),
                          "at": utc_text(c["cosigned_at"])} for c in lines]}


def _witness_name(key_text: str) -> str:
    """A witness's name, from its stored key (``name+id+key``)."""
    try:
        return parse_witness_key(key_text).name
    except VerificationError:
        return key_text.split("+", 1)[0]


def verifier_key(ledger: Any) -> str | None:
    """The ledger's verifier key (``ledger pubkey``), or None before ``ledger init``
    pinned one and without the signing key at hand."""
    try:
        return str(prover_of(ledger).verifier_key())
    except Exception:  # noqa: BLE001 - no key: the page says so (ConfigError, OSError)
        return None


def parse_seq(text: str | None, head: int) -> int | None:
    """The ``seq`` typed in the proof form (None when empty), or InputError naming it."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if not value.isascii() or not value.isdigit():
        raise InputError("seq", "must be a whole number from 1")
    seq = int(value) if len(value) <= 18 else head + 1
    if not 1 <= seq <= head:
        raise InputError("seq", f"must be between 1 and the ledger's size ({head})")
    return seq


def inclusion_facts(ledger: Any, seq: int, key: str | None) -> dict[str, Any]:
    """The inclusion proof of entry ``seq`` and whether it verifies.

    Against the latest signed checkpoint when it covers ``seq`` (its signature by ``key``
    checked first); otherwise against the current tree head, which no one signed yet
    (``signed`` False: the page says so)."""
    prover = prover_of(ledger)
    cp = latest_checkpoint_of(ledger)
    signed = cp is not None and seq <= int(cp["tree_size"])
    proof = prover.inclusion(seq, int(cp["tree_size"]) if signed and cp else None)
    problem = None
    try:
        root = bytes.fromhex(proof["root"])
        if signed and cp is not None:
            root = _signed_root(cp["note"], key)
        verify_inclusion(seq - 1, int(proof["tree_size"]), bytes.fromhex(proof["leaf_hash"]),
                         [bytes.fromhex(h) for h in proof["path"]], root)
    except VerificationError as exc:
        problem = exc.reason
    return {**proof, "signed": signed, "verified": problem is None, "problem": problem}


def _signed_root(note_text: str, key: str | None) -> bytes:
    """The root of a checkpoint note whose signature by ``key`` verifies."""
    if key is None:
        raise VerificationError("no verifier key to check the checkpoint with")
    note = parse_checkpoint(note_text)
    verify_checkpoint_signature(note, parse_verifier_key(key))
    return note.root
