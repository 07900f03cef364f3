"""Field paths that may be echoed in an error: the ledger's own names only.

The ledger names the offending field in every error.  Most paths are its own
vocabulary (``data.purpose``, ``data.guardian.name``), but an *unknown* key is
named as the client sent it — and a client could send anything as a key,
even an e-mail address.  Over HTTP a path is therefore echoed up to its first
segment that is not a name of the envelope, of the event catalogue or of the
bundled policy's data categories; that segment and the rest read
``(unknown key)``.  Inside ``data.policy`` (an organisation's document, never
personal data) every identifier-like key is echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from ledger.domain.events import CATALOGUE, ENVELOPE, UNKNOWN_KEY, FieldSpec
from ledger.domain.policy import bundled_policy

__all__ = ["UNKNOWN", "safe_field"]

UNKNOWN = UNKNOWN_KEY  # the same words as the core uses
# query parameters of the routes (core and plugins): named in their errors
QUERY_PARAMETERS = frozenset({"as_of", "known_at", "due_before", "status", "at", "format",
                              "open", "overdue", "old", "new", "seq", "size", "from", "to",
                              # the body of POST /v1/inquiries (projections/inquiry/http.py)
                              "lang", "title", "reference", "purposes", "subjects",
                              "breaches", "requests", "pdf"})
# request headers and range parameters named in errors (the recorded reads: ledger.app.accesses)
HEADERS_AND_RANGES = frozenset({"Ledger-Access-Reason", "from", "to"})
_INDEX = re.compile(r"\[\d+\]\Z")
_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,39}\Z")


@cache
def _vocabulary() -> frozenset[str]:
    names = set(ENVELOPE) | {"event", "body", "data"} | QUERY_PARAMETERS | HEADERS_AND_RANGES

    def walk(specs: Iterable[tuple[str, FieldSpec]]) -> None:
        for name, fs in specs:
            names.add(name)
            walk(fs.sub)

    for cls in CATALOGUE.values():
        walk(cls.specs())
    for category in bundled_policy().categories:
        names.update(category.fields)
    return frozenset(names)


def safe_field(field: str) -> str:
    known = _vocabulary()
    out: list[str] = []
    for segment in field.split("."):
        base = _INDEX.sub("", segment)
        in_policy = out[:2] == ["data", "policy"]
        if base in known or (in_policy and _IDENT.match(base)):
            out.append(segment)
        else:
            out.append(UNKNOWN)
            break
    return ".".join(out)
