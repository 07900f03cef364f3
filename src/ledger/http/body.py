"""Reading a JSON request body: media type, size limit (before parsing), syntax.

The limit is checked against ``Content-Length`` before anything is read, and
again while reading (a chunked body has no length): past it, 413 and nothing
parsed.  Syntax errors give the position only, never the text around it.  UTF-8 only,
nesting, duplicate keys: :mod:`ledger.domain.json_input` (400, or 422 for a duplicate key).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ledger.domain.json_input import JsonTextError, decode_utf8, parse_json_text
from ledger.http.fields import safe_field
from ledger.http.problems import URN, Problem

__all__ = ["read_json"]


def _too_large(limit: int) -> Problem:
    return Problem(413, f"the body must be at most {limit} bytes", field="body",
                   rule=f"must be at most {limit} bytes")


async def read_json(request: Request, limit: int, *, empty: Any = ...) -> Any:
    """The parsed body; ``empty`` (when given) stands for an absent body."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise Problem(400, "Content-Length must be a whole number")
        if int(length) > limit:
            raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    if not body and empty is not ...:
        return empty
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise Problem(415, "send the body as application/json", field="Content-Type",
                      rule="must be application/json")
    try:
        return parse_json_text(decode_utf8(bytes(body)))
    except JsonTextError as exc:
        if not exc.syntax:  # a duplicate key, a member nested too deep: the event's fault
            where = f"event {exc.index}: " if exc.index is not None else ""
            cut = "…" if exc.path.endswith("…") else ""
            field = safe_field(exc.path.removesuffix("…")) + cut
            raise Problem(422, f"{where}{field}: {exc.rule}", type_=URN + "invalid-event",
                          title="Invalid event", field=field, rule=exc.rule,
                          index=exc.index) from None
        rule = exc.rule
    raise Problem(400, f"body: {rule}", type_=URN + "invalid-json", title="Invalid JSON",
                  field="body", rule=rule)
