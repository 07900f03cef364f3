"""Characters that can disguise text, and how human output shows them (issue 13).

Where the ledger promises "no control characters" (text fields, subjects, the
strings of free-form values, the policy's texts) it also refuses the Unicode
*format* characters (general category ``Cf``): the ``Bidi_Control`` ones
(U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which reorder what a
terminal shows, and the invisible ones (U+00AD soft hyphen, U+200B zero width
space, U+2060 word joiner, U+FEFF, the tag characters U+E0000–U+E007F…), which
make two different strings look alike.  Two are allowed: U+200C ZERO WIDTH
NON-JOINER and U+200D ZERO WIDTH JOINER, which Persian and Indic names need and
emoji sequences use; they reorder nothing.

Entries stored before this rule may hold such characters: :func:`escape_for_display`
shows them as ``\\uXXXX`` in human output (``ledger log``, ``show``, ``breaches``),
as it does C0 and C1 control characters (terminal escape sequences).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ALLOWED_FORMAT", "disguising_character", "escape_for_display"]

ALLOWED_FORMAT = frozenset("\u200c\u200d")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _disguising(ch: str) -> bool:
    return ch not in ALLOWED_FORMAT and unicodedata.category(ch) == "Cf"


def disguising_character(text: str) -> str | None:
    """``U+XXXX`` of the first format character ``text`` may not hold, or None."""
    if text.isascii():
        return None
    for ch in text:
        if _disguising(ch):
            return f"U+{ord(ch):04X}"
    return None


def escape_for_display(text: str) -> str:
    """``text`` with control and disguising format characters as ``\\uXXXX``
    (tab and newline kept)."""
    if text.isascii() and not _CONTROL.search(text):
        return text
    return "".join(_escaped(ch) if _CONTROL.match(ch) or _disguising(ch) else ch
                   for ch in text)


def _escaped(ch: str) -> str:
    n = ord(ch)
    return f"\\u{n:04x}" if n <= 0xFFFF else f"\\U{n:08x}"
