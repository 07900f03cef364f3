"""Checking a receipt (``ledger verify --receipt``): one event, proven anywhere.

A receipt (docs/FORMAT.md §13) is a JSON object.  Its top-level members are a
summary in one of the profiles of :mod:`ledger.trust.receipt_formats` (a Kantara
Consent Receipt v1.1, or an ISO/IEC TS 27560 consent record with DPV terms);
they are *derived* from the entry (and from the policy entry it cites), and the
check recomputes them: a receipt whose summary says anything else is rejected.
Under ``ledger`` it carries the evidence: its ``format`` and ``profile``, the
canonical entry, its hash, its inclusion proof, the signed checkpoint and the
verifier key.  Receipts of the earlier format ``ledger-receipt/1`` (no
``format`` under ``ledger``) are checked against the summary they were written
with.

Checks, in order: (1) the key; (2) the checkpoint's format, origin and
Ed25519 signature; (3) each entry is canonical, has the nine members and
hashes to its ``hash`` (the chain verifier of :mod:`ledger.trust.verify`, link not
checked); (4) its inclusion proof leads to the checkpoint's root; (5) the
summary equals the one derived from the entries.
"""

from __future__ import annotations

import json
from typing import Any

from ledger.errors import VerificationError
from ledger.trust.cosignature import Quorum
from ledger.trust.ed25519 import verify_checkpoint_signature
from ledger.trust.merkle import leaf_hash, verify_inclusion
from ledger.trust.notes import Checkpoint, parse_checkpoint, parse_verifier_key
from ledger.trust.receipt_formats import FORMAT, PROFILES, NotReceiptable, Summary, legacy_summary
from ledger.trust.verify import ChainVerifier

__all__ = ["summary", "verify_receipt"]


def summary(entry: dict[str, Any], policy_entry: dict[str, Any] | None,
            profile: str) -> dict[str, Any]:
    """The receipt's summary in ``profile``, derived from the entry and its policy entry
    (raises :class:`~ledger.trust.receipt_formats.NotReceiptable`)."""
    return PROFILES[profile](entry, policy_entry)


def _summary_of(ev: dict[str, Any]) -> tuple[Summary, str]:
    """The function that derives this receipt's summary, and the name of its format."""
    if "format" not in ev:
        return legacy_summary, "ledger-receipt/1"
    profile = ev.get("profile")
    if ev["format"] != FORMAT or not isinstance(profile, str) or profile not in PROFILES:
        raise VerificationError(f"receipt: unknown format {ev['format']!r} / profile "
                                f"{profile!r} (this verifier reads {FORMAT} with "
                                f"{', '.join(PROFILES)}, and ledger-receipt/1)")
    return PROFILES[profile], f"{FORMAT} {profile}"


def _entry(part: Any, what: str) -> tuple[dict[str, Any], bytes, str]:
    try:
        data, stored = part["entry"].encode("utf-8"), part["hash"]
        entry = json.loads(data)
        v = ChainVerifier(start_seq=entry["seq"], prev_hash=entry["prev_hash"])
        v.check(entry["seq"], stored, data)                                     # (3)
    except VerificationError as exc:
        raise VerificationError(f"receipt: {what}: {exc.reason}") from None
    except (KeyError, TypeError, ValueError, AttributeError):
        raise VerificationError(f"receipt: {what} is malformed") from None
    return entry, data, stored


def _included(part: Any, entry: dict[str, Any], stored: str, cp: Checkpoint, what: str) -> None:
    try:
        proof = part["proof"]
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
        path = [bytes.fromhex(h) for h in proof["path"]]
    except (KeyError, TypeError, ValueError):
        raise VerificationError(f"receipt: the proof of {what} is malformed") from None
    if index != entry["seq"] - 1 or size != cp.size:
        raise VerificationError(f"receipt: the proof of {what} is not for entry "
                                f"{entry['seq']} in the checkpoint's tree of {cp.size}")
    try:                                                                        # (4)
        verify_inclusion(index, size, leaf_hash(bytes.fromhex(stored)), path, cp.root)
    except VerificationError as exc:
        raise VerificationError(f"receipt: {what}: {exc.reason}") from None


def verify_receipt(receipt: Any, pubkey: str | None = None, *,
                   quorum: Quorum | None = None) -> dict[str, Any]:
    """Check a receipt; return what it proves, or raise VerificationError.  ``quorum``
    (issue 16): its checkpoint must carry that many valid witness cosignatures."""
    if not isinstance(receipt, dict) or not isinstance(receipt.get("ledger"), dict):
        raise VerificationError("receipt: not a ledger receipt (no 'ledger' object)")
    ev = receipt["ledger"]
    key = parse_verifier_key(pubkey if pubkey is not None else str(ev.get("publicKey")))  # (1)
    cp = parse_checkpoint(str(ev.get("checkpoint")))                                   # (2)
    if cp.origin != key.name:
        raise VerificationError(f"receipt: checkpoint origin {cp.origin!r} is not the key's")
    verify_checkpoint_signature(cp, key)
    witnessed = quorum.check(cp) if quorum is not None else []
    entry, _, stored = _entry(ev, "entry")
    _included(ev, entry, stored, cp, "the entry")
    policy_entry = None
    if ev.get("policy") is not None:
        policy_entry, _, pstored = _entry(ev["policy"], "policy entry")
        _included(ev["policy"], policy_entry, pstored, cp, "the policy entry")
        if policy_entry["type"] != "PolicyPublished" or \
                policy_entry["payload"].get("version") != entry["payload"].get("policy_version"):
            raise VerificationError("receipt: the policy entry is not the policy the event "
                                    "cites")
    derive, fmt = _summary_of(ev)
    try:
        expected = derive(entry, policy_entry)                                  # (5)
    except NotReceiptable as exc:
        raise VerificationError(f"receipt: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError):
        raise VerificationError("receipt: the entry cannot be summarised (malformed)") \
            from None
    given = {k: v for k, v in receipt.items() if k != "ledger"}
    if given != expected:
        wrong = sorted(k for k in expected.keys() | given.keys()
                       if expected.get(k) != given.get(k))
        raise VerificationError(f"receipt: summary fields differ from the entry: "
                                f"{', '.join(wrong)}")
    return {"ok": True, "seq": entry["seq"], "event_id": entry["event_id"],
            "type": entry["type"], "format": fmt, "hash": stored, "tree_size": cp.size,
            "root": cp.root.hex(), "key": str(key), "witnessed": witnessed,
            "key_from": "given (--pubkey)" if pubkey is not None else
            "read from the receipt (trust it only if it matches a key obtained elsewhere)"}
