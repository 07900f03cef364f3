"""Writing a receipt for one event (``ledger receipt``).

Checking is :mod:`ledger.trust.receipt_check`.
"""

from __future__ import annotations

import json
from typing import Any

from ledger.app.proofs import Prover
from ledger.app.timestamps import timestamps_of
from ledger.app.witnessing import with_cosignatures  # issue 16: cosigned notes
from ledger.errors import InputError
from ledger.trust.receipt_check import summary
from ledger.trust.receipt_formats import FORMAT, PROFILES, NotReceiptable

__all__ = ["make_receipt"]


def _stored(prover: Prover, seq: int) -> tuple[dict[str, Any], str, str]:
    rows = list(prover.store.iter_rows(seq, seq))
    if not rows:
        raise InputError("SEQ", f"no entry {seq} in this ledger")
    _, stored_hash, state = rows[0]
    text = bytes(state).decode("utf-8")
    return json.loads(text), text, stored_hash


def _policy_seq(prover: Prover, version: str, before: int) -> int | None:
    for row in list(prover.store.entries(types=["PolicyPublished"])):
        if row.seq < before and json.loads(row.state)["payload"].get("version") == version:
            return int(row.seq)
    return None


def make_receipt(prover: Prover, seq: int, profile: str = "kantara") -> dict[str, Any]:
    """The receipt of entry ``seq`` in ``profile`` (``kantara`` or ``iso27560``) against
    the latest checkpoint (signed now if none covers it yet).

    An entry the profile cannot describe is refused (InputError naming SEQ and why)
    before anything is signed.
    """
    if profile not in PROFILES:
        raise InputError("--format", f"must be one of {', '.join(PROFILES)}")
    head = prover.catch_up()
    if not 1 <= seq <= head:
        raise InputError("SEQ", f"must be between 1 and the ledger's size ({head})")
    entry, text, stored_hash = _stored(prover, seq)
    policy_entry, pseq = None, None
    version = entry["payload"].get("policy_version")
    if isinstance(version, str):
        pseq = _policy_seq(prover, version, seq)
    if pseq is not None:
        policy_entry, ptext, phash = _stored(prover, pseq)
    try:
        derived = summary(entry, policy_entry, profile)
    except NotReceiptable as exc:
        raise InputError("SEQ", f"entry {seq}: {exc}") from None
    cps = with_cosignatures(prover, prover.checkpoints(min_size=seq))
    cosigned = [c for c in cps if c["cosignatures"]]
    cp = (cosigned or cps)[-1] if cps else with_cosignatures(prover, [prover.checkpoint()])[0]
    size = int(cp["tree_size"])
    proof = prover.inclusion(seq, size)
    evidence: dict[str, Any] = {
        "format": FORMAT, "profile": profile,
        "entry": text, "hash": stored_hash,
        "proof": {"leaf_index": seq - 1, "tree_size": size, "path": proof["path"]},
        "policy": None, "checkpoint": cp["note"], "publicKey": str(prover.verifier_key()),
    }
    stamps = timestamps_of(prover.store, min_size=size, max_size=size)
    if stamps:  # issue 16: RFC 3161 time-stamps of that checkpoint, when a TSA gave some
        evidence["timestamps"] = [{"tsa": t["tsa"], "response": t["response"]} for t in stamps]
    if pseq is not None:
        pproof = prover.inclusion(pseq, size)
        evidence["policy"] = {"entry": ptext, "hash": phash,
                              "proof": {"leaf_index": pseq - 1, "tree_size": size,
                                        "path": pproof["path"]}}
    return {**derived, "ledger": evidence}
