"""The evidence of an inquiry pack (``ledger inquiry``, projections/inquiry): an audit bundle
of a time range, the signed checkpoint it is anchored to, and an inclusion proof for
each cited entry (docs/FORMAT.md §17).

Which entries: the bundle starts one entry before the first one *recorded* at or after
``since`` − 5 minutes (``recorded_at`` never decreases along the chain, and no entry's
``occurred_at`` lies more than 5 minutes after its ``recorded_at``: the append refuses
it), so every entry that occurred at or after ``since`` is in the bundle, and its first
entry shows, by its own ``recorded_at``, that none before it can be.  Entries cited from
before the bundle (a policy published long ago) come with their canonical bytes and an
inclusion proof in ``proofs.jsonl``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ledger.app.bundle import write_bundle
from ledger.app.bundle_verify import verify_bundle
from ledger.app.checking import open_checked_store
from ledger.app.proofs import Prover
from ledger.app.witnessing import with_cosignatures
from ledger.domain.event_fields import CLOCK_SKEW
from ledger.storage.tree_store import TreeReader
from ledger.trust.canonical import format_time, parse_time
from ledger.trust.merkle import inclusion_path

__all__ = ["first_seq_recorded_since", "write_evidence"]


def _recorded_at(prover: Any, seq: int) -> str:
    row = next(iter(prover.store.iter_rows(seq, seq)))
    return str(json.loads(row[2])["recorded_at"])


def first_seq_recorded_since(prover: Any, since: str, head: int) -> int:
    """The first seq recorded at or after ``since`` (head + 1 if none): a binary search,
    ``recorded_at`` never decreasing along the chain."""
    lo, hi = 1, head + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if _recorded_at(prover, mid) >= since:
            hi = mid
        else:
            lo = mid + 1
    return lo


@contextmanager
def _prover(url: str, name: str, env: Mapping[str, str] | None) -> Iterator[Prover]:
    store, _ = open_checked_store(url, name)
    try:
        yield Prover(store, url, name, env=env)
    finally:
        store.close()


def write_evidence(url: str, name: str, folder: Path, *, since: str,
                   cited: Iterable[int], env: Mapping[str, str] | None = None,
                   ) -> dict[str, Any]:
    """Write ``folder`` (new or empty): the bundle from the entry before the first recorded
    since ``since`` − 5 min to the head, ``checkpoint.txt`` (the signed checkpoint at the
    head), ``proofs.jsonl`` (one line per cited seq: the entry and its inclusion proof
    in that checkpoint), and check the bundle.  Returns what the report states.
    ``env``: where the signing key is (LEDGER_KEY_DIR; default: the process's)."""
    try:
        margin = format_time(parse_time(since) - CLOCK_SKEW)
    except OverflowError:  # since the first day of year 1: from the first entry
        margin = since
    with _prover(url, name, env) as prover:
        head = prover.catch_up()
        start = max(first_seq_recorded_since(prover, margin, head) - 1, 1)
        bundle = write_bundle(prover, folder, min(start, max(head, 1)))
        size = bundle["last_seq"]
        # issue 16: the note with the cosignatures its witnesses returned, if any
        anchor = with_cosignatures(prover, prover.checkpoints(min_size=size, max_size=size))[0]
        (folder / "checkpoint.txt").write_text(anchor["note"], encoding="utf-8")
        proofs = _write_proofs(prover, folder / "proofs.jsonl", sorted(set(cited)), size)
        earlier = prover.checkpoints(max_size=size)
    report = verify_bundle(folder, bundle["pubkey"])
    return {"bundle": bundle, "checkpoint": anchor, "tree_size": size, "proofs": proofs,
            "verified": report.as_dict(), "margin": margin,
            "checkpoints_before": [c["tree_size"] for c in earlier if c["tree_size"] < size]}


def _write_proofs(prover: Prover, path: Path, seqs: list[int], size: int) -> int:
    """One line per cited seq; the proofs computed in one read, sharing the tree's nodes
    (``Prover.inclusion`` reads once per proof: 8 ms each at 1,000,000 entries)."""
    wanted = [s for s in seqs if 1 <= s <= size]

    def prove(tx: Any) -> list[list[str]]:
        tree = TreeReader(tx)
        return [[p.hex() for p in inclusion_path(s - 1, size, tree.subtree)] for s in wanted]
    paths: list[list[str]] = prover.store.read(prove)
    with path.open("w", encoding="utf-8") as f:
        for seq, nodes in zip(wanted, paths, strict=True):
            _, stored_hash, state = next(iter(prover.store.iter_rows(seq, seq)))
            f.write(json.dumps({"seq": seq, "hash": stored_hash,
                                "entry": bytes(state).decode("utf-8"),
                                "tree_size": size, "path": nodes},
                               ensure_ascii=False, separators=(",", ":")) + "\n")
    return len(wanted)
