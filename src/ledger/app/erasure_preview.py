"""What erasing a subject would destroy: the keys, the categories of data, the events.

:meth:`ledger.app.application.Ledger.erasure_preview` calls :func:`read_erasure_preview`,
which reads a subject's stream and key rows in one read transaction and folds them here
(a read command: it reads the whole stream, to count what would become unreadable).
The preview holds counts, scope names (data categories of the policy, or ``subject``
for the personal fields of events) and legal-hold references — never a personal
value — so the CLI can show it before asking for confirmation, and
``ledger erase --dry-run`` can show it alone.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.app.append import policies
from ledger.app.stream_state import fold_rows
from ledger.domain.events import Draft, payload_of
from ledger.domain.rules import SubjectState, check_draft
from ledger.errors import InputError
from ledger.keys.sealing import is_sealed, parse_sealed
from ledger.storage import AppendTx, KeyRow, StoredRow

if TYPE_CHECKING:
    from ledger.app.application import Ledger

__all__ = ["ErasurePreview", "fold_erasure_preview", "read_erasure_preview"]


@dataclass(frozen=True, slots=True)
class ErasurePreview:
    """What ``SubjectErased`` for one subject would destroy (counts and names only)."""

    pseudonym: str
    events: int                      # entries of the subject's stream
    by_type: dict[str, int]          # how many of each event type
    unreadable_after: int            # entries whose personal values would read [erased]
    keys: int                        # live data keys that would be destroyed
    scopes: list[str]                # their scopes: data categories, or "subject"
    holds: list[str] = field(default_factory=list)  # active legal holds (references)
    blocked: str | None = None       # why the ledger would refuse the erasure, if it would

    @property
    def categories(self) -> list[str]:
        """The policy's data categories among the scopes (``subject`` is not one)."""
        return [s for s in self.scopes if s != "subject"]

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.pseudonym, "events": self.events, "by_type": self.by_type,
                "unreadable_after": self.unreadable_after, "keys": self.keys,
                "scopes": self.scopes, "categories": self.categories, "holds": self.holds,
                "blocked": self.blocked}


def _sealed_scopes(value: Any) -> Iterator[tuple[str, int]]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _sealed_scopes(v)
    elif is_sealed(value):
        ref = parse_sealed(value)
        yield ref.scope, ref.epoch


def fold_erasure_preview(pseudonym: str, rows: Sequence[StoredRow], keys: Sequence[KeyRow],
                         *, holds: Sequence[str], blocked: str | None) -> ErasurePreview:
    """The preview from the subject's stream ``rows`` and key rows ``keys``."""
    live = {(k.scope, k.epoch) for k in keys if k.wrapped is not None}
    by_type: Counter[str] = Counter()
    unreadable = 0
    for row in rows:
        by_type[row.type] += 1
        payload = json.loads(row.state)["payload"]
        if any(ref in live for ref in _sealed_scopes(payload)):
            unreadable += 1
    return ErasurePreview(
        pseudonym=pseudonym, events=len(rows), by_type=dict(sorted(by_type.items())),
        unreadable_after=unreadable, keys=len(live),
        scopes=sorted({scope for scope, _ in live}), holds=sorted(holds), blocked=blocked)


def read_erasure_preview(ledger: Ledger, pseudonym: str, draft: Draft) -> ErasurePreview:
    """The preview of ``draft`` (a SubjectErased of ``pseudonym``), read in one transaction:
    the stream folded from its start, the rules asked, nothing written."""
    def read(tx: AppendTx) -> ErasurePreview:
        rows = tx.streams([pseudonym])
        state = fold_rows(rows).subjects.get(pseudonym, SubjectState())
        blocked = None
        try:
            check_draft(draft, payload_of(draft.event), book=policies(ledger, tx),
                        subject=state, breach=None)
        except InputError as exc:
            blocked = exc.rule
        return fold_erasure_preview(pseudonym, rows, tx.keys([pseudonym]),
                                    holds=sorted(state.holds), blocked=blocked)

    preview: ErasurePreview = ledger.store.read(read)
    return preview
