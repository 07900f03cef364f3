"""What the Person pages share: the identifiers a session typed, the person's view, the
choices of the forms, the XLSX export.

The console's URLs carry a person's pseudonym, never the identifier; yet an event is
appended under the identifier (the ledger derives the pseudonym from it with its
key).  So the identifier a DPO typed in the search form stays on the server, in
memory, with the session that typed it (:class:`Recall`, like the sessions
themselves): the forms of that person's pages use it, and ask for it again when it is
not there (another session, a restart) — checked against the page's pseudonym.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from ledger.domain.event_registry import CATALOGUE
from ledger.domain.periods import time_zone
from ledger.errors import InputError
from ledger.trust.canonical import format_time

from ..portability import export_tables
from .i18n import N_

__all__ = ["AGAIN", "ANSWERS", "CHANNELS", "GROUNDS", "LABELS", "NOT_THIS", "PSEUDONYM",
           "RIGHTS", "RULES", "TICK", "UNKNOWN", "Recall", "export_xlsx",
           "local_time", "one_of", "person_view"]

PSEUDONYM = re.compile(r"[0-9a-f]{64}\Z")
_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?\Z")




def _choices(event_type: str, name: str) -> tuple[str, ...]:
    return dict(CATALOGUE[event_type].specs())[name].choices


RIGHTS = _choices("RightsRequestReceived", "right")
CHANNELS = _choices("RightsRequestReceived", "channel")
GROUNDS = _choices("SubjectErased", "ground")
# the console's own rules (translated on the page; the ledger's rules are shown as written)
UNKNOWN = N_("is not known to this ledger")
AGAIN = N_("is required: type the person's identifier again")
NOT_THIS = N_("is not the identifier of the person of this page")
TICK = N_("must be ticked: erasure cannot be undone")
BAD_TIME = N_("is not a valid date and time")
RULES = frozenset({UNKNOWN, AGAIN, NOT_THIS, TICK, BAD_TIME})

ANSWERS = {"fulfilled": "RightsRequestFulfilled", "refused": "RightsRequestRefused",
           "extended": "RightsRequestExtended"}

# the codes of the catalogue and the registers, for people, by kind (a code with no label
# is shown as is)
LABELS = {
    "right": {
        "access": N_("access (Art. 15)"), "rectification": N_("rectification (Art. 16)"),
        "erasure": N_("erasure (Art. 17)"), "restriction": N_("restriction (Art. 18)"),
        "portability": N_("portability (Art. 20)"), "objection": N_("objection (Art. 21)"),
        "recipients_notification": N_("notification of recipients (Art. 19)"),
        "automated_decision": N_("automated decision (Art. 22)"),
        "consent_withdrawal": N_("withdrawal of consent (Art. 7(3))")},
    "channel": {
        "email": N_("by email"), "post": N_("by post"), "form": N_("by a web form"),
        "phone": N_("by phone"), "in_person": N_("in person, on site"),
        "api": N_("through the API")},
    "ground": {
        "no_longer_necessary": N_("no longer necessary (Art. 17(1)(a))"),
        "consent_withdrawn": N_("consent withdrawn (Art. 17(1)(b))"),
        "objection": N_("objection to the processing (Art. 17(1)(c))"),
        "unlawful": N_("unlawfully processed (Art. 17(1)(d))"),
        "legal_obligation": N_("a legal obligation to erase (Art. 17(1)(e))"),
        "child_data": N_("data of a child (Art. 17(1)(f))"),
        "retention_expired": N_("retention period expired")},
    "consent": {
        "granted": N_("consent given"), "refused": N_("consent refused"),
        "withdrawn": N_("consent withdrawn"), "expired": N_("consent expired"),
        "none": N_("no consent choice")},
    "request": {
        "open": N_("request open"), "extended": N_("request open, deadline extended"),
        "fulfilled": N_("request answered"), "refused": N_("request refused")},
    "answer": {
        "fulfilled": N_("answer the request (done)"),
        "refused": N_("refuse it, with reasons"),
        "extended": N_("extend the deadline by two months, with reasons")},
    "kept": {
        "active": N_("retention running"), "due": N_("retention ends soon"),
        "overdue": N_("retention over: to delete"), "held": N_("kept under a legal hold"),
        "erased": N_("deleted (key destroyed)"),
        "anonymised": N_("anonymised (key destroyed)")},
}


class Recall:
    """Per session, the identifiers typed in the search form and the reasons given, by
    pseudonym; in memory only, bounded (the oldest sessions and persons go first)."""

    def __init__(self, *, sessions: int = 256, persons: int = 32) -> None:
        self._max_sessions, self._max_persons = sessions, persons
        self._data: OrderedDict[str, OrderedDict[str, tuple[str | None, str | None]]] = \
            OrderedDict()
        self._lock = threading.Lock()

    def put(self, session_id: str, pseudonym: str, identifier: str | None,
            reason: str | None) -> None:
        with self._lock:
            persons = self._data.pop(session_id, OrderedDict())
            persons.pop(pseudonym, None)
            persons[pseudonym] = (identifier, reason)
            while len(persons) > self._max_persons:
                persons.popitem(last=False)
            self._data[session_id] = persons
            while len(self._data) > self._max_sessions:
                self._data.popitem(last=False)

    def get(self, session_id: str, pseudonym: str) -> tuple[str | None, str | None]:
        with self._lock:
            persons = self._data.get(session_id)
            return persons.get(pseudonym, (None, None)) if persons else (None, None)


def one_of(value: str, field: str, allowed: Any, rule: str | None = None) -> str:
    """``value`` when it is one of ``allowed``, else InputError naming ``field``."""
    if value not in allowed:
        raise InputError(field, rule or "must be one of " + ", ".join(allowed))
    return value


def local_time(text: str | None, field: str, zone: str, now: datetime) -> str:
    """A time typed in a ``datetime-local`` field (the policy's zone) as the ledger's UTC
    text; empty: ``now``."""
    text = (text or "").strip()
    if not text:
        return format_time(now)
    if not _LOCAL.match(text):
        raise InputError(field, f"must be a date and time YYYY-MM-DDTHH:MM ({zone})")
    try:
        local = datetime.fromisoformat(text).replace(tzinfo=time_zone(zone))
    except ValueError:
        raise InputError(field, BAD_TIME) from None
    return format_time(local)


def person_view(doc: dict[str, Any], consent: dict[str, Any], retention: dict[str, Any],
                requests: dict[str, Any], accesses: dict[str, Any]) -> dict[str, Any]:
    """The values of the person's page, from the reads (no value of an erased person)."""
    deadlines = {i["collection_id"]: i for i in retention["items"]}
    collections = [{**c, "retention": deadlines.get(c["collection_id"]),
                    "shown": {k: _shown(v) for k, v in (c["values"] or {}).items()}}
                   for c in doc["collections"]]
    timeline = [{**p, "history": list(reversed(p["history"]))}
                for p in consent["purposes"] if p["history"]]
    return {"doc": doc, "erased": doc["erased"], "collections": collections,
            "timeline": timeline, "notices": consent["notices"],
            "requests": requests["requests"], "disclosures": doc["disclosures"],
            "accesses": accesses["accesses"], "erasures": doc["erasures"],
            "other": doc["other_events"]}


def _shown(value: Any) -> str:
    """A collected value as text: a string as is, anything else as JSON (accents kept)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def export_xlsx(doc: dict[str, Any]) -> bytes:
    """The export as one workbook, one sheet per table of the CSV export (same cells: every
    cell is text, so a value that looks like a formula is never run)."""
    book = Workbook(write_only=True)
    for name, text in export_tables(doc).items():
        ws = book.create_sheet(name.removesuffix(".csv"))
        ws.freeze_panes = "A2"
        for n, row in enumerate(csv.reader(io.StringIO(text, newline=""))):
            cells = []
            for value in row:
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"
                if n == 0:
                    cell.font = Font(bold=True)
                cells.append(cell)
            ws.append(cells)
    book.properties.creator = "ledger console"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
