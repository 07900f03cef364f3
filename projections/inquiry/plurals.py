"""Words that agree with their count in the report's sentences.

A sentence of :mod:`projections.inquiry.strings` marks a plural ending ``(s)`` or
``(nt)``, or a pair ``[singular|plural]``; each agrees with the count written last
before it: ``"{n} ligne(s) concerne(nt)"`` is "1 ligne concerne" or "3 lignes
concernent".  French takes the singular for 0 and 1, English for 1 only (CLDR's plural
rules for the two languages).  A value counts when it reads as a number (``1``,
``1 234`` as formatted for people); other values (a zone, a key) leave the count as
it was.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["agree"]

_PARTS = re.compile(r"(\{\w+\}|\((?:s|nt)\)|\[[^|\]]*\|[^\]]*\])")
_NUMBER = re.compile(r"-?[\d\s\u00a0\u202f.,]+")


def _count(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    if not _NUMBER.fullmatch(text) or not any(c.isdigit() for c in text):
        return None
    digits = re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", ".")
    try:
        return float(digits)
    except ValueError:  # "1.234.5": not one number
        return None


def _singular(n: float, lang: str) -> bool:
    return n < 2 if lang == "fr" else n == 1


def agree(template: str, lang: str, **values: Any) -> str:
    """``template.format(**values)``, each ``(s)`` resolved by the count before it."""
    out: list[str] = []
    last: float | None = None
    for part in _PARTS.split(template):
        one = last is not None and _singular(last, lang)
        if part in ("(s)", "(nt)"):
            out.append("" if one else part[1:-1])
            continue
        if part.startswith("[") and part.endswith("]") and "|" in part:
            out.append(part[1:-1].split("|")[0 if one else 1])
            continue
        if part.startswith("{") and part.endswith("}") and part[1:-1] in values:
            counted = _count(values[part[1:-1]])
            last = counted if counted is not None else last
        out.append(part)
    return "".join(out).format(**values)
