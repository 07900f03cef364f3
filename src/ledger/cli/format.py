"""Human output of the core commands: plural forms, shortened cells, tables that fit
100 columns.  ``--json`` output never goes through here: it stays whole.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.trust.text import plural

__all__ = ["WIDTH", "Column", "Table", "data_lines", "plural", "say", "short_time", "shorten",
           "wrapped"]

WIDTH = 100  # the widest line of a human table


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the last one ``…`` when something was cut."""
    if width < 1:
        return ""
    return text if len(text) <= width else text[:width - 1] + "…"


def wrapped(text: str, hang: int = 2) -> str:
    """A sentence for people in lines of at most :data:`WIDTH` columns, the following lines
    indented by ``hang`` more than the first; a word (a hash, a key) is never split, so
    a line is longer only when one word is."""
    lead = len(text) - len(text.lstrip(" "))
    return "\n".join(textwrap.wrap(text, WIDTH, subsequent_indent=" " * (lead + hang),
                                    break_long_words=False, break_on_hyphens=False)) or text


def say(text: str, hang: int = 2) -> None:
    """Print each line of ``text`` :func:`wrapped`."""
    print("\n".join(wrapped(line, hang) for line in text.split("\n")))


def data_lines(data: Mapping[str, Any], indent: int) -> list[str]:
    """A record's ``data`` for people: one ``name: value`` per member (the value as compact
    JSON), wrapped to :data:`WIDTH`; nothing is cut (``--json`` has the exact JSON)."""
    pad = " " * indent
    if not data:
        return [pad + "(no data)"]
    return [wrapped(pad + f"{name}: " + json.dumps(value, ensure_ascii=False,
                                                   separators=(", ", ": ")), hang=4)
            for name, value in data.items()]


def short_time(stamp: str | None) -> str:
    """``2024-06-01T12:00:00.123456Z`` as ``2024-06-01T12:00:00Z`` (a table's width)."""
    if not stamp:
        return "-"
    return stamp[:19] + "Z" if len(stamp) > 20 and stamp.endswith("Z") else stamp


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    width: int | None = None  # None: the rest of the line (the last column only)
    right: bool = False


class Table:
    """Fixed columns, so rows can be printed as they stream; cells that do not fit are
    shortened with ``…``; every line fits :data:`WIDTH` columns."""

    def __init__(self, columns: Sequence[Column], indent: int = 0, gap: int = 2) -> None:
        self.columns = list(columns)
        self.indent, self.gap = indent, gap

    def lines(self, rows: Sequence[Sequence[object]]) -> list[str]:
        """The header and the rows (just ``(none)`` under the header when there is none)."""
        return [self.header()] + ([self.row(r) for r in rows] if rows
                                  else [" " * self.indent + "(none)"])

    def header(self) -> str:
        return self.row([c.header for c in self.columns])

    def row(self, cells: Sequence[object]) -> str:
        parts: list[str] = []
        used = self.indent
        for i, (column, cell) in enumerate(zip(self.columns, cells, strict=True)):
            last = i == len(self.columns) - 1
            width = column.width if column.width is not None else WIDTH - used
            if last:
                width = min(width, WIDTH - used)
            text = shorten(str(cell), width)
            parts.append(text if last and not column.right
                         else text.rjust(width) if column.right else text.ljust(width))
            used += width + self.gap
        return (" " * self.indent + (" " * self.gap).join(parts)).rstrip()
