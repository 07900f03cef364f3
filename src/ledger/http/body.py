"""Reading a JSON request body: media type, size limit (before parsing), syntax.

The limit is checked against ``Content-Length`` before anything is read, and
again while reading (a chunked body has no length): past it, 413 and nothing
parsed.  Syntax errors give the position only, never the text around it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from .problems import URN, Problem

__all__ = ["read_json"]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


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
        return json.loads(bytes(body), parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        rule = f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    except UnicodeDecodeError:
        rule = "is not valid JSON (it must be UTF-8 text)"
    except ValueError:
        rule = "is not valid JSON (NaN and Infinity are not JSON)"
    except RecursionError:
        rule = "is nested too deeply"
    raise Problem(400, f"body: {rule}", type_=URN + "invalid-json", title="Invalid JSON",
                  field="body", rule=rule)
