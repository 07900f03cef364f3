"""The registers' tables in the console: which columns each page shows, and the same rows
as CSV and XLSX files.

A register's rows are the Reader's (``projections.queries``), as the API answers them;
the page shows a chosen set of columns (:data:`COLUMNS`), the downloads every column of
the rows shown (their keys as headers, so a file reads the same in French and English).
Times in the files are the policy's zone with their offset (as in the inquiry pack's
spreadsheets); a text that starts like a formula is written as text (CSV injection).
Registers hold pseudonyms, never a decrypted value.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook

from ..inquiry.spreadsheets import add_sheet
from .i18n import N_

__all__ = ["COLUMNS", "REGISTERS", "ROWS", "VALUES", "Column", "csv_file", "duration",
           "ropa_rows", "xlsx_file"]




@dataclass(frozen=True, slots=True)
class Column:
    """A column of a page: the row's key, its heading (English, translated by the page)
    and how its cells are shown: text, time, pseudonym, list, bool, num, value (a code
    translated through :data:`VALUES`)."""

    key: str
    label: str
    kind: str = "text"


# the registers, in the tabs' order, and their headings
REGISTERS: dict[str, str] = {
    "retention": N_("Data retention"),
    "requests": N_("Rights requests received"),
    "breaches": N_("Personal data breaches"),
    "disclosures": N_("Disclosures"),
    "accesses": N_("Reads of personal data"),
    "ropa": N_("Record of processing (Art. 30)"),
}

# where the rows are in each register's document
ROWS = {"retention": "items", "requests": "requests", "breaches": "breaches",
        "disclosures": "disclosures", "accesses": "accesses", "ropa": "purposes"}

SEQ = Column("seq", N_("Entry"), "num")
COLUMNS: dict[str, tuple[Column, ...]] = {
    "retention": (
        SEQ, Column("subject", N_("Subject (pseudonym)"), "pseudonym"),
        Column("category", N_("Category of data")), Column("purpose", N_("Processing purpose")),
        Column("legal_basis", N_("Legal basis"), "value"),
        Column("collected_at", N_("Collected"), "time"),
        Column("deadline", N_("Retention deadline"), "time"),
        Column("reason", N_("Deadline from"), "value"),
        Column("status", N_("Retention status"), "value"),
        Column("ended_at", N_("Ended"), "time")),
    "requests": (
        SEQ, Column("request_id", N_("Request id")),
        Column("subject", N_("Subject (pseudonym)"), "pseudonym"),
        Column("right", N_("Right (GDPR article)"), "value"), Column("channel", N_("Channel")),
        Column("received_at", N_("Received"), "time"),
        Column("due_at", N_("Answer due by"), "time"), Column("closed_at", N_("Closed"), "time"),
        Column("status", N_("State of the request"), "value"),
        Column("overdue", N_("Overdue"), "bool"),
        Column("answered_late", N_("Answered late"), "bool")),
    "breaches": (
        SEQ, Column("breach_id", N_("Breach id")),
        Column("discovered_at", N_("Discovered at"), "time"),
        Column("deadline", N_("Notify the authority by"), "time"),
        Column("notified_at", N_("Notified"), "time"),
        Column("status", N_("Notification status"), "value"), Column("risk", N_("Risk"), "value"),
        Column("nature", N_("Nature"), "list"), Column("authority", N_("Authority")),
        Column("reference", N_("Reference")),
        Column("missing", N_("Art. 33(3) items missing"), "list")),
    "disclosures": (
        SEQ, Column("occurred_at", N_("Disclosed"), "time"),
        Column("subject", N_("Subject (pseudonym)"), "pseudonym"),
        Column("recipient", N_("Recipient")),
        Column("recipient_kind", N_("Kind of recipient"), "value"),
        Column("country", N_("Country")), Column("categories", N_("Categories"), "list"),
        Column("purpose", N_("Processing purpose")),
        Column("outside_eea", N_("Outside the EEA"), "bool"),
        Column("safeguard", N_("Safeguard"))),
    "accesses": (
        SEQ, Column("occurred_at", N_("Read"), "time"), Column("actor", N_("By")),
        Column("subject", N_("Subject (pseudonym)"), "pseudonym"),
        Column("view", N_("What was shown")), Column("channel", N_("Channel")),
        Column("reason", N_("Reason")), Column("scope", N_("Scope"))),
}

# codes of the registers shown in words (a code not listed is shown as it is)
VALUES: dict[str, str] = {
    "active": N_("Active"), "due": N_("Due soon"), "overdue": N_("Overdue"),
    "held": N_("On legal hold"), "erased": N_("Erased"), "anonymised": N_("Anonymised"),
    "retention_period": N_("Retention period"), "consent_withdrawn": N_("Consent withdrawn"),
    "objection": N_("Objection"), "erasure_request": N_("Erasure request"),
    "open": N_("Open"), "extended": N_("Extended"), "fulfilled": N_("Fulfilled"),
    "refused": N_("Refused (request)"), "on_time": N_("Notified on time"),
    "late": N_("Notified late"), "late_with_reason": N_("Notified late, reason given"),
    "not_required": N_("Notification not required"),
    "pending": N_("Clock running"), "high_risk": N_("High risk"), "risk": N_("Risk"),
    "unlikely": N_("Risk unlikely"), "access": N_("Access"),
    "rectification": N_("Rectification"), "erasure": N_("Erasure"),
    "restriction": N_("Restriction"), "portability": N_("Portability"),
    "consent": N_("Consent"),
    "contract": N_("Contract"), "legal_obligation": N_("Legal obligation"),
    "vital_interests": N_("Vital interests"), "public_task": N_("Public task"),
    "legitimate_interests": N_("Legitimate interests"), "internal": N_("Internal"),
    "processor": N_("Processor"), "third_party": N_("Third party"),
    "authority": N_("Authority (recipient)"), "confidentiality": N_("Loss of confidentiality"),
    "integrity": N_("Loss of integrity"), "availability": N_("Loss of availability"),
}

_TIME_KEYS = ("_at", "deadline")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_YES = {"fr": ("oui", "non"), "en": ("yes", "no")}


_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?\Z")


def duration(text: str) -> list[tuple[int, str]]:
    """An ISO 8601 period of years, months, days (``P13M``) as [(13, "M")] for the page
    to say in words; [] when it is another form (the page then shows it as it is)."""
    m = _DURATION.match(text)
    if m is None or not any(m.groups()):
        return []
    return [(int(n), unit) for n, unit in zip(m.groups(), "YMD", strict=True) if n]


def ropa_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The Art. 30 record's purposes as rows (one a purpose), for the downloads."""
    return [{"id": p["id"], "name": p["name"], "legal_basis": p["legal_basis"],
             "consent_required": p["consent_required"],
             "data_categories": [f"{c['id']} ({c['retention'] or '-'})"
                                 for c in p["data_categories"]],
             "recipients": p["recipients"], "description": p["description"]}
            for p in doc["purposes"]]


def _cell(key: str, value: Any, show_time: Callable[[str], str], lang: str) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _YES[lang][0 if value else 1]
    if isinstance(value, int | float):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = ", ".join(value)
    elif isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if key.endswith(_TIME_KEYS) and len(text) == 27 and text.endswith("Z"):
        return show_time(text)
    return "'" + text if text.startswith(_FORMULA) else text


def _table(rows: list[dict[str, Any]], show_time: Callable[[str], str],
           lang: str) -> tuple[list[str], list[list[Any]]]:
    keys: dict[str, None] = {}
    for r in rows:
        keys.update(dict.fromkeys(r))
    cols = list(keys) or ["seq"]
    return cols, [[_cell(c, r.get(c), show_time, lang) for c in cols] for r in rows]


def csv_file(rows: list[dict[str, Any]], show_time: Callable[[str], str],
             lang: str) -> bytes:
    """The rows as a CSV a French spreadsheet opens directly (UTF-8 BOM, ``;``)."""
    cols, table = _table(rows, show_time, lang)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(cols)
    writer.writerows(table)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_file(name: str, rows: list[dict[str, Any]], show_time: Callable[[str], str],
              lang: str) -> bytes:
    """The rows as a workbook of one sheet named after the register (openpyxl)."""
    cols, table = _table(rows, show_time, lang)
    book = Workbook(write_only=True)
    add_sheet(book, name, cols, table)
    book.properties.creator = "ledger console"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
