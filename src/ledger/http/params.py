"""The constraints the server checks on parameters, as OpenAPI schema fragments.

Every pattern, enum and bound here is the one a validator applies
(ledger.domain.events, ledger.app.accesses, projections.queries ``parse_when``): a request
the schema calls valid is never refused for its form (docs/API.md, "What the
schema promises").  What a schema cannot say — a relation between two
parameters, the ledger's state — is said in the operation's description.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

from fastapi import Request

from ledger.domain.event_fields import ACTOR_PATTERN, REF_PATTERN
from ledger.domain.events import MAX_SUBJECT, MAX_TEXT
from ledger.domain.text_rules import ALLOWED_FORMAT
from ledger.http.fields import UNKNOWN
from ledger.http.problems import URN, Problem

__all__ = ["ACTOR", "DATE_TIME", "REF", "TIME", "refuse_unknown_query", "subject_schema",
           "text_schema"]

_YEAR = r"(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"  # 0001-9999
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][48]|[13579][26]|[2468]0)00)"
# a real calendar date: 30-day months, February 28 days, 29 in leap years
_DATE = (rf"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
         r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
         rf"|{_LEAP_YEAR}-02-29)")
_CLOCK = (r"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
          r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])")
# RFC 3339 with an offset (ledger.domain.events.parse_rfc3339): occurred_at and the like
DATE_TIME = f"^{_DATE}{_CLOCK}$"
# the query times: RFC 3339 with an offset, or a bare date (projections.queries.parse_when)
TIME = f"^{_DATE}(?:{_CLOCK})?$"
# the parser's own patterns (ledger.domain.event_fields)
ACTOR, REF = ACTOR_PATTERN, REF_PATTERN


def _escaped(cp: int) -> str:
    return f"\\u{cp:04x}" if cp <= 0xFFFF else chr(cp)  # astral: the character itself


@cache
def _forbidden() -> str:
    """The character class of what a text may not hold (ledger.domain.event_fields.check_text):
    C0 controls but tab and line feed, DEL, the format characters (Cf) but ZWNJ/ZWJ."""
    points = [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F]
    # Cf lies in these planes only (the tests check every code point)
    scanned = [*range(0x80, 0x20000), *range(0xE0000, 0xE1000)]
    points += [cp for cp in scanned
               if unicodedata.category(chr(cp)) == "Cf" and chr(cp) not in ALLOWED_FORMAT]
    ranges: list[list[int]] = []
    for cp in points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(_escaped(a) if a == b else f"{_escaped(a)}-{_escaped(b)}"
                   for a, b in ranges)


def text_schema(limit: int = MAX_TEXT, **extra: Any) -> dict[str, Any]:
    """A text of the ledger: not blank, at most ``limit`` characters, no control or
    disguising format character (docs/events.md)."""
    bad = _forbidden()
    return {"type": "string", "minLength": 1, "maxLength": limit,
            "pattern": f"^[^{bad}]*[^{bad}\\s][^{bad}]*$", **extra}


def subject_schema(**extra: Any) -> dict[str, Any]:
    """A data subject's identifier (the rules of a text, at most 256 characters), or
    ``pseudonym:<hex>`` (which is one)."""
    return text_schema(MAX_SUBJECT, **extra)


def _query_names(dependant: Any) -> set[str]:
    names = {q.alias for q in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def refuse_unknown_query(request: Request) -> None:
    """A router dependency: a query parameter the route does not declare is refused
    (422), as an unknown field of a body is — a misspelt ``as-of`` must not silently
    answer for now.  The name is not echoed (a client could send anything as a name)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    if any(name not in known for name in request.query_params):
        listed = ", ".join(sorted(known)) or "none"
        rule = f"is not a query parameter of this route (parameters: {listed})"
        raise Problem(422, f"{UNKNOWN}: {rule}", type_=URN + "invalid-input",
                      title="Invalid request", field=UNKNOWN, rule=rule)
