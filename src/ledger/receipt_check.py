"""Checking a receipt (``ledger verify --receipt``): one event, proven anywhere.

A receipt (docs/FORMAT.md §13) is a JSON object.  Its top-level fields are a
summary named after the Kantara Consent Receipt specification where the two
overlap; they are *derived* from the entry (and from the policy entry it cites),
and the check recomputes them: a receipt whose summary says anything else is
rejected.  Under ``ledger`` it carries the evidence: the canonical entry, its
hash, its inclusion proof, the signed checkpoint and the verifier key.

Checks, in order: (1) the key; (2) the checkpoint's format, origin and
Ed25519 signature; (3) each entry is canonical, has the nine members and
hashes to its ``hash`` (the chain verifier of :mod:`ledger.verify`, link not
checked); (4) its inclusion proof leads to the checkpoint's root; (5) the
summary equals the one derived from the entries.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from .ed25519 import verify_checkpoint_signature
from .errors import VerificationError
from .merkle import leaf_hash, verify_inclusion
from .notes import Checkpoint, parse_checkpoint, parse_verifier_key
from .verify import ChainVerifier

__all__ = ["RECEIPT_VERSION", "summary", "verify_receipt"]

RECEIPT_VERSION = "ledger-receipt/1"


def _epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
               .timestamp())


def _list(payload: dict[str, Any], one: str, many: str) -> list[Any]:
    if isinstance(payload.get(many), list):
        return list(payload[many])
    return [payload[one]] if isinstance(payload.get(one), str) else []


def summary(entry: dict[str, Any], policy_entry: dict[str, Any] | None) -> dict[str, Any]:
    """The receipt's Kantara-named fields, derived from the entry and its policy entry."""
    p = entry["payload"]
    out: dict[str, Any] = {
        "version": RECEIPT_VERSION,
        "consentReceiptID": entry["event_id"],
        "eventType": entry["type"],
        "consentTimestamp": _epoch(entry["occurred_at"]),
        "piiPrincipalId": None if entry["subject"] is None else f"pseudonym:{entry['subject']}",
    }
    if isinstance(p.get("method"), str):
        out["collectionMethod"] = p["method"]
    purposes = _list(p, "purpose", "purposes")
    categories = _list(p, "category", "categories")
    if purposes or categories:
        out["services"] = [{"service": entry["type"], "purposes": [
            {"purpose": x, "piiCategory": categories} for x in purposes or [None]]}]
    if isinstance(p.get("policy_version"), str):
        out["policyVersion"] = p["policy_version"]
    if policy_entry is not None:
        pol = policy_entry["payload"]["policy"]
        c = pol["controller"]
        out["policyUrl"] = pol["url"]
        out["language"] = pol["language"]
        out["piiControllers"] = [{"piiController": c["name"], "address": c["address"],
                                  "email": c["email"], "url": c["url"]}]
    return out


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


def verify_receipt(receipt: Any, pubkey: str | None = None) -> dict[str, Any]:
    """Check a receipt; return what it proves, or raise VerificationError."""
    if not isinstance(receipt, dict) or not isinstance(receipt.get("ledger"), dict):
        raise VerificationError("receipt: not a ledger receipt (no 'ledger' object)")
    ev = receipt["ledger"]
    key = parse_verifier_key(pubkey if pubkey is not None else str(ev.get("publicKey")))  # (1)
    cp = parse_checkpoint(str(ev.get("checkpoint")))                                   # (2)
    if cp.origin != key.name:
        raise VerificationError(f"receipt: checkpoint origin {cp.origin!r} is not the key's")
    verify_checkpoint_signature(cp, key)
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
    expected = summary(entry, policy_entry)                                     # (5)
    given = {k: v for k, v in receipt.items() if k != "ledger"}
    if given != expected:
        wrong = sorted(k for k in expected.keys() | given.keys()
                       if expected.get(k) != given.get(k))
        raise VerificationError(f"receipt: summary fields differ from the entry: "
                                f"{', '.join(wrong)}")
    return {"ok": True, "seq": entry["seq"], "event_id": entry["event_id"],
            "type": entry["type"], "hash": stored, "tree_size": cp.size,
            "root": cp.root.hex(), "key": str(key),
            "key_from": "given (--pubkey)" if pubkey is not None else
            "read from the receipt (trust it only if it matches a key obtained elsewhere)"}
