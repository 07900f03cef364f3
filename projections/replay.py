"""replay: the history in order, decrypted where keys allow, with the range verified.

Entries are read in ``seq`` order (one subject's through the per-subject
index), filtered by ``occurred_at`` (``start`` ≤ occurred_at ≤ ``end``) and
type.  ``verification`` checks the chain from entry 1 through the last entry
shown (hashes, links, canonical form, recording order): an entry shown is
then known to be the one the chain committed to.  Signed checkpoints held
outside the database are what rules out a rewrite of the whole chain (see
docs/FORMAT.md).
"""

from __future__ import annotations

from typing import Any

from ledger.domain.events import CATALOGUE
from ledger.errors import InputError
from ledger.trust.verify import verify_rows

__all__ = ["replay"]


def replay(ledger: Any, *, subject: str | None = None, start: str | None = None,
           end: str | None = None, types: list[str] | None = None) -> dict[str, Any]:
    for i, t in enumerate(types or []):
        if t not in CATALOGUE:
            raise InputError(f"--type[{i}]", f"is not an event type ({t!r}; see "
                                             "docs/events.md)")
    entries = []
    for e in list(ledger.log(subject, types=types or ())):
        if start is not None and e["occurred_at"] < start:
            continue
        if end is not None and e["occurred_at"] > end:
            continue
        entries.append(e)
    head_seq, _ = ledger.head()
    last = max((e["seq"] for e in entries), default=head_seq)
    result = verify_rows(ledger.store.iter_rows(1, last))
    verification = {**result.as_dict(), "checked": [1, last] if last else [],
                    "covers_shown": bool(result)}
    return {"subject": ledger.pseudonym(subject) if subject is not None else None,
            "from": start, "to": end, "types": types or [], "head": head_seq,
            "verification": verification, "entries": entries}
