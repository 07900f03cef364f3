"""Writing an audit bundle (``ledger audit-bundle``).

Checking one is :mod:`ledger.app.bundle_verify` (the pure check: :mod:`ledger.trust.bundle_check`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ledger.app.proofs import Prover
from ledger.app.timestamps import timestamps_of
from ledger.app.witnessing import with_cosignatures  # issue 16: cosigned notes
from ledger.errors import InputError
from ledger.storage.tree_store import TreeReader
from ledger.trust.merkle import inclusion_path

__all__ = ["frontier_pieces", "write_bundle"]

README = """\
Audit bundle of the ledger {origin}: entries {first}..{last}.

Files: entries.jsonl (one entry a line: its hash, a space, its canonical bytes),
checkpoints.txt (signed tree heads, C2SP signed notes), pubkey (the verifier key),
{prefix}README. The format is docs/FORMAT.md §12 of the ledger's source.

Verify it offline, without database or master key (the key obtained from the
ledger's operator by another channel, not from this folder):

    ledger verify --bundle {folder} --pubkey '{key}'
"""


def frontier_pieces(size: int) -> list[tuple[int, int]]:
    """The maximal complete subtrees [lo, hi) of a tree of ``size`` leaves, left to right."""
    pieces, lo = [], 0
    for bit in range(size.bit_length() - 1, -1, -1):
        if size >> bit & 1:
            pieces.append((lo, lo + (1 << bit)))
            lo += 1 << bit
    return pieces


def write_bundle(prover: Prover, folder: Path, from_seq: int = 1) -> dict[str, Any]:
    """Write entries from_seq..head, the checkpoints from from_seq − 1 on (one is signed
    at the head if none is there yet), the verifier key and a README."""
    head = prover.catch_up()
    if not 1 <= from_seq <= max(head, 1):
        raise InputError("--from-seq", f"must be between 1 and the ledger's size ({head})")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError("-o", "must be a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    cps = prover.checkpoints(max_size=head)
    if head and (not cps or cps[-1]["tree_size"] != head):
        prover.checkpoint()
    key = str(prover.verifier_key())
    with (folder / "entries.jsonl").open("wb") as f:
        for _, stored_hash, state in prover.store.iter_rows(from_seq, head):
            f.write(stored_hash.encode("ascii") + b" " + bytes(state) + b"\n")
    notes = [c["note"] for c in with_cosignatures(prover, prover.checkpoints(
        min_size=max(from_seq - 1, 1), max_size=head))]
    (folder / "checkpoints.txt").write_text("".join(n + "\n" for n in notes), encoding="utf-8")
    (folder / "pubkey").write_text(key + "\n", encoding="utf-8")
    stamps = timestamps_of(prover.store, min_size=max(from_seq - 1, 1), max_size=head)
    if stamps:  # issue 16: RFC 3161 time-stamps of the checkpoints, when a TSA gave some
        (folder / "timestamps.jsonl").write_text("".join(
            json.dumps({k: s[k] for k in ("tree_size", "tsa", "response")}) + "\n"
            for s in stamps), encoding="utf-8")
    if from_seq > 1:
        size = from_seq - 1

        def prefix(r: TreeReader) -> dict[str, Any]:
            return {"size": size,
                    "frontier": [r.subtree(lo, hi).hex() for lo, hi in frontier_pieces(size)],
                    "last_hash": "",
                    "last_leaf_path": [p.hex() for p in inclusion_path(size - 1, size,
                                                                       r.subtree)]}
        data: dict[str, Any] = prover.store.read(lambda tx: prefix(TreeReader(tx)))
        data["last_hash"] = next(iter(prover.store.iter_rows(size, size)))[1]
        (folder / "prefix.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    origin = key.split("+", 1)[0]
    (folder / "README").write_text(README.format(
        origin=origin, first=from_seq, last=head, folder=folder, key=key,
        prefix="prefix.json (the tree of the entries before the first one), "
        if from_seq > 1 else ""), encoding="utf-8")
    return {"folder": str(folder), "first_seq": from_seq, "last_seq": head,
            "entries": max(head - from_seq + 1, 0), "checkpoints": len(notes), "pubkey": key}
