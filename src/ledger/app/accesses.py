"""Reads of personal data, recorded: ``PersonalDataAccessed`` before anything is shown.

Every face that shows decrypted personal values to someone (``ledger show``,
``log``, ``export``, ``replay`` and the HTTP subject reads) calls
:func:`record_reads` after it has read and before it shows: if the events
cannot be appended, the command fails and nothing is shown.

Who counts as *shown*: a subject of whom at least one entry holding a personal
field (a field the catalogue marks personal: sealed, shown opened or as
``[erased]``) is shown; one event per such subject, all of one read in one
append (one transaction, however many subjects a ``log`` shows).  An export
is of one subject: it is recorded when the subject has any entry other than a
``PersonalDataAccessed``.  An erased subject's read is still recorded (who
looked is evidence too; the event holds no personal value).  Entries of
``PersonalDataAccessed`` themselves hold no personal field: listing them is
not a personal read.

The reason: ``--reason`` on the CLI, the ``Ledger-Access-Reason`` header over
HTTP; optional, unless the setting ``LEDGER_REQUIRE_ACCESS_REASON=1`` is in
the environment of the CLI or the server (then a read without one is refused
before anything is read, and nothing is recorded).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.domain.events import CATALOGUE, MAX_TEXT
from ledger.domain.events import _check_text as check_text
from ledger.errors import InputError
from ledger.trust.canonical import format_time

if TYPE_CHECKING:
    from ledger.app.application import Ledger
    from ledger.domain.events import Draft

__all__ = ["ACCESS", "REASON_SETTING", "AccessBy", "access_drafts", "check_text",
           "has_personal_field", "record_reads", "require_reason", "scan_subjects_shown",
           "subjects_shown"]

ACCESS = "PersonalDataAccessed"
REASON_SETTING = "LEDGER_REQUIRE_ACCESS_REASON"


@dataclass(frozen=True, slots=True)
class AccessBy:
    """Who reads, through which face, and why."""

    actor: str
    channel: str                 # cli or http
    reason: str | None = None
    reason_field: str = "--reason"  # how the face names the reason in its errors


def require_reason(by: AccessBy, env: Mapping[str, str] | None = None) -> None:
    """Refuse a read without a reason when the setting asks for one (before reading)."""
    settings = os.environ if env is None else env
    if by.reason is not None:
        check_text(by.reason, by.reason_field, MAX_TEXT)
    if by.reason is None and settings.get(REASON_SETTING, "") in ("1", "true", "yes"):
        raise InputError(by.reason_field, f"is required: {REASON_SETTING} asks every read "
                         "of personal data to say why")


def has_personal_field(type_: str, data: Mapping[str, Any]) -> bool:
    """Whether an entry's data holds a field the catalogue marks personal."""
    cls = CATALOGUE.get(type_)
    if cls is None:
        return False
    for name, fs in cls.specs():
        value = data.get(name)
        if value is None:
            continue
        if fs.personal:
            return True
        if fs.kind == "object" and isinstance(value, dict) and any(
                sfs.personal and value.get(sub) is not None for sub, sfs in fs.sub):
            return True
    return False


def subjects_shown(entries: Iterable[Mapping[str, Any]]) -> dict[str, list[int]]:
    """pseudonym → seqs of the entries shown that hold a personal field.

    Entries are readable ones (``data``) or stored ones (``payload``)."""
    shown: dict[str, list[int]] = {}
    for e in entries:
        subject = e.get("subject")
        data = e["data"] if "data" in e else e["payload"]
        if subject and has_personal_field(e["type"], data):
            shown.setdefault(subject, []).append(int(e["seq"]))
    return shown


def scan_subjects_shown(ledger: Ledger, *, start: int, stream: str | None,
                        types: Iterable[str], until: int) -> dict[str, list[int]]:
    """:func:`subjects_shown` for the stored entries ``ledger.log`` would show up to
    ``until``, without opening any sealed value (the first pass of ``ledger log``)."""
    shown: dict[str, list[int]] = {}
    for row in ledger.store.entries(start=start, stream=stream, types=tuple(types)):
        if row.seq > until:
            break
        if row.stream is None or row.stream.startswith("breach/") or row.type == ACCESS:
            continue
        e = json.loads(row.state)
        if e["subject"] and has_personal_field(e["type"], e["payload"]):
            shown.setdefault(e["subject"], []).append(row.seq)
    return shown


def access_drafts(ledger: Ledger, by: AccessBy, view: str, shown: Mapping[str, list[int]],
                  *, scope: str | None = None) -> list[Draft]:
    """One ``PersonalDataAccessed`` draft per subject shown (subject: ``pseudonym:<hex>``)."""
    raws: list[dict[str, Any]] = []
    at = format_time(ledger.clock())
    for pseudonym, seqs in shown.items():
        data: dict[str, Any] = {"view": view, "channel": by.channel}
        if by.reason is not None:
            data["reason"] = by.reason
        if scope:
            data["scope"] = scope
        if seqs:
            data |= {"first_seq": min(seqs), "last_seq": max(seqs), "entries": len(seqs)}
        raws.append({"type": ACCESS, "subject": f"pseudonym:{pseudonym}",
                     "occurred_at": at, "actor": by.actor, "data": data})
    return ledger.parse(raws)


def record_reads(ledger: Ledger, by: AccessBy, view: str, shown: Mapping[str, list[int]],
                 *, scope: str | None = None) -> None:
    """Append one ``PersonalDataAccessed`` per subject shown, in one transaction.

    A reason the policy requires and the reader did not give is named as the face
    calls it (``--reason``, the header), not as the event's ``data.reason``."""
    if shown:
        try:
            ledger.append_drafts(access_drafts(ledger, by, view, shown, scope=scope))
        except InputError as exc:
            if exc.field == "data.reason" and by.reason is None:
                raise type(exc)(by.reason_field, exc.rule) from None
            raise
