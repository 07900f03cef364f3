"""The registers of the scope as spreadsheets a French DPO opens directly: one XLSX
workbook (openpyxl), one sheet per register, and one CSV per register (UTF-8 with a BOM,
``;`` between fields, as a French spreadsheet expects).

Times are in the policy's time zone with their offset (the report's format); the
``seq`` and ``hash`` of each row's entry are kept, so each row can be checked against
the evidence.  Rows about subjects outside the scope carry no subject reference.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

__all__ = ["SHEETS", "add_sheet", "write_spreadsheets"]

SHEETS = ("consent", "retention", "requests", "breaches", "disclosures", "accesses")
_TIME_KEYS = ("_at", "deadline")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def add_sheet(book: Workbook, name: str, cols: list[str], table: list[list[Any]]) -> None:
    """One sheet of a write-only workbook: a bold, frozen header row, then the rows."""
    ws = book.create_sheet(name)
    ws.freeze_panes = "A2"
    header = []
    for c in cols:
        cell = WriteOnlyCell(ws, value=c)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for line in table:
        ws.append(line)


def _cell(key: str, value: Any, show_time: Callable[[str | None], str]) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if (key.endswith(_TIME_KEYS)) and len(text) == 27 and text.endswith("Z"):
        return show_time(text)
    # a text starting like a formula is shown as text, never run (CSV injection)
    return "'" + text if text.startswith(_FORMULA) else text


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    cols: dict[str, None] = {}
    for r in rows:
        cols.update(dict.fromkeys(r))
    return list(cols)


def write_spreadsheets(folder: Path, sheets: dict[str, list[dict[str, Any]]],
                       show_time: Callable[[str | None], str], stem: str) -> list[str]:
    """Write ``<stem>.xlsx`` and ``<stem>-<register>.csv`` files; returns their names."""
    book = Workbook(write_only=True)  # streamed: a month of a big ledger is 50,000 rows
    written = []
    for name in SHEETS:
        rows = sheets.get(name, [])
        cols = _columns(rows) or ["seq"]
        table = [[_cell(c, r.get(c), show_time) for c in cols] for r in rows]
        add_sheet(book, name, cols, table)
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        writer.writerow(cols)
        writer.writerows(table)
        csv_name = f"{stem}-{name}.csv"
        (folder / csv_name).write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
        written.append(csv_name)
    book.properties.creator = "ledger inquiry"
    xlsx = f"{stem}.xlsx"
    book.save(folder / xlsx)
    return [xlsx, *written]
