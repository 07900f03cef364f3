"""Reading entries for people, each read of personal data recorded first: ``ledger show``
and ``ledger log`` (the faces print what these return).

Every subject whose personal values will be shown is recorded in one
``PersonalDataAccessed`` append (:mod:`ledger.app.accesses`) before anything is shown.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ledger.app.accesses import AccessBy, record_reads, scan_subjects_shown, subjects_shown
from ledger.errors import InputError

if TYPE_CHECKING:
    from ledger.app.application import Ledger

__all__ = ["read_entry", "read_log"]


def read_entry(ledger: Ledger, by: AccessBy, seq: int, *, field: str = "SEQ") \
        -> tuple[dict[str, Any], str]:
    """Entry ``seq`` (decrypted where keys allow) and the time zone to show it in; the read
    is recorded.  No such entry: InputError on ``field``."""
    zone = ledger.time_zone()
    entry = ledger.show(seq)
    if entry is None:
        raise InputError(field, f"no entry {seq} in this ledger")
    record_reads(ledger, by, "show", subjects_shown([entry]), scope=f"seq {seq}")
    return entry, zone


def read_log(ledger: Ledger, by: AccessBy, *, subject: str | None, start: int,
             types: Sequence[str]) -> tuple[Iterator[dict[str, Any]], str]:
    """The entries from ``start`` (only ``subject``'s, only ``types`` when given) up to the
    head seen now, and the time zone to show them in.

    First every subject that will be shown is recorded (one append), then the entries up
    to the head seen before it are returned: the access records are not among them.
    """
    zone = ledger.time_zone()
    until = ledger.head()[0]
    stream = ledger.pseudonym(subject) if subject is not None else None
    shown = scan_subjects_shown(ledger, start=start, stream=stream, types=types, until=until)
    scope = "; ".join([f"seq {start}..{until}",
                       *([f"types {','.join(types)}"] if types else [])])
    record_reads(ledger, by, "log", shown, scope=scope)
    return ledger.log(subject, start=start, types=types, until=until), zone
