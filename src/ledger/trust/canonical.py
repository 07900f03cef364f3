"""Canonical JSON (RFC 8785, JCS) and the ledger's time format.

The ledger only ever writes values from a restricted JSON domain:

* objects whose keys are ASCII identifiers (``[a-z_][a-z0-9_]*``),
* strings without lone surrogates,
* integers with ``|n| <= 2**53 - 1``,
* ``true``, ``false``, ``null``, arrays — and never floats.

Inside that domain RFC 8785 reduces to "keys sorted, no whitespace, UTF-8,
minimal string escapes", which is exactly what Python's C JSON encoder
produces with ``sort_keys=True, separators=(",", ":"), ensure_ascii=False``:
ASCII keys sort the same by UTF-16 code unit and by code point, integers have
one spelling, and both escape only ``"``, ``\\`` and control characters
(``\\b \\t \\n \\f \\r`` short forms, others as lowercase ``\\u00xx``).
:func:`check_domain` guards the domain so that the shortcut stays exact.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "MAX_SAFE_INTEGER",
    "canonical_bytes",
    "canonical_text",
    "check_domain",
    "format_time",
    "parse_time",
]

MAX_SAFE_INTEGER = 2**53 - 1
_KEY = re.compile(r"[a-z_][a-z0-9_]*\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")

_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 bytes of ``value``, which must lie in the ledger's domain."""
    return _encode(value).encode("utf-8")


def canonical_text(value: Any) -> str:
    """The same as :func:`canonical_bytes`, before UTF-8 encoding."""
    return _encode(value)


def check_domain(value: Any, path: str = "") -> str | None:
    """Return why ``value`` falls outside the canonical domain, or ``None``.

    The answer names the path of the offending member, never its value.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            return f"{path or 'value'}: integers must lie within ±(2^53 - 1)"
        return None
    if isinstance(value, float):
        return f"{path or 'value'}: numbers must be integers (no fractions or exponents)"
    if isinstance(value, str):
        if _SURROGATE.search(value):
            return f"{path or 'value'}: strings must be valid Unicode (no lone surrogates)"
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            why = check_domain(item, f"{path}[{i}]")
            if why:
                return why
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not _KEY.match(key):
                return f"{path or 'value'}: keys must match [a-z_][a-z0-9_]*"
            why = check_domain(item, f"{path}.{key}" if path else key)
            if why:
                return why
        return None
    return f"{path or 'value'}: only JSON values are allowed"


def format_time(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC; ``moment`` must be timezone-aware."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime")
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S.%f}Z"  # %Y does not pad years before 1000


def parse_time(text: str) -> datetime:
    """Parse the ledger's own UTC format (strict: exactly the format above)."""
    if not _TIME.match(text):
        raise ValueError("time must be YYYY-MM-DDTHH:MM:SS.ffffffZ")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
