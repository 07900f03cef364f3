"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error response of the API has ``type``, ``title``, ``status`` and
``detail``; input errors add ``field`` and ``rule`` (and ``index``, the
0-based position in a batch).  Plain HTTP errors use ``about:blank`` with the
status' reason phrase as title; the ledger's own kinds have a URN type:

    urn:problem:ledger:invalid-json     the body is not JSON            400
    urn:problem:ledger:invalid-event    a field breaks its format       422
    urn:problem:ledger:rule-violation   a rule of the policy or law     422
    urn:problem:ledger:invalid-input    a path or query parameter       422
    urn:problem:ledger:conflict         an event_id reused with other   409
                                        content (adds ``event_id``)
    urn:problem:ledger:integrity-failure  a stored entry is missing or  500
                                        corrupt (``first_bad_seq``); not 503: a
                                        monitor must raise tampering, not retry

No body ever repeats a value the client sent: only field names, rules,
sequence numbers and ids — as everywhere in the ledger (errors.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import (
    ConfigError,
    ConflictError,
    InputError,
    IntegrityError,
    KeyError_,
    LedgerError,
    PolicyError,
    RuleViolation,
    StorageError,
    VerificationError,
)
from ledger.http.fields import UNKNOWN, safe_field

__all__ = ["PROBLEM_JSON", "PROBLEM_SCHEMA", "Problem", "input_problem", "install_handlers",
           "problem_response"]

PROBLEM_JSON = "application/problem+json"
URN = "urn:problem:ledger:"
log = logging.getLogger("ledger.http")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string"},
        "rule": {"type": "string"},
        "index": {"type": "integer", "minimum": 0},
        "event_id": {"type": "string"},
        "first_bad_seq": {"type": "integer", "minimum": 1},
        "reason": {"type": "string"},
    },
}


class Problem(Exception):
    """Raised by routes; answered as problem details."""

    def __init__(self, status: int, detail: str, *, type_: str = "about:blank",
                 title: str | None = None, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = type_
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers
        self.extra = {k: v for k, v in extra.items() if v is not None}


def problem_response(p: Problem) -> JSONResponse:
    body = {"type": p.type, "title": p.title, "status": p.status, "detail": p.detail,
            **p.extra}
    return JSONResponse(body, status_code=p.status, headers=p.headers,
                        media_type=PROBLEM_JSON)


def input_problem(exc: InputError, *, batch: bool = False) -> Problem:
    """An InputError as a 422 (a ConflictError as a 409); ``batch``: its line is the
    1-based index in an array."""
    rule = isinstance(exc, RuleViolation)
    index = exc.line - 1 if batch and exc.line is not None else None
    where = f"event {index}: " if index is not None else ""
    field = safe_field(exc.field)
    if isinstance(exc, ConflictError):
        return Problem(409, f"{where}{field}: {exc.rule}", type_=URN + "conflict",
                       title="Conflicting retry", field=field, rule=exc.rule, index=index,
                       event_id=exc.event_id)
    return Problem(422, f"{where}{field}: {exc.rule}",
                   type_=URN + ("rule-violation" if rule else "invalid-event"),
                   title="Rule violation" if rule else "Invalid event",
                   field=field, rule=exc.rule, index=index)


def _from_ledger_error(exc: LedgerError) -> Problem:
    if isinstance(exc, InputError):
        return input_problem(exc)
    if isinstance(exc, PolicyError):
        return Problem(422, str(exc), type_=URN + "invalid-event", title="Invalid event",
                       field=f"policy.{exc.field}", rule=exc.rule)
    if isinstance(exc, IntegrityError):
        log.error("integrity failure: %s", exc)
        return Problem(500, f"the ledger does not verify: {exc} (run `ledger verify`)",
                       type_=URN + "integrity-failure", title="Ledger integrity failure",
                       first_bad_seq=exc.seq, reason=exc.reason)
    if isinstance(exc, StorageError):
        log.error("database error: %s", exc)
        return Problem(503, "the database is unavailable; retry later",
                       headers={"Retry-After": "1"})
    if isinstance(exc, ConfigError | KeyError_ | VerificationError):
        log.error("server configuration: %s", exc)
    return Problem(500, "the server could not complete the request")


def _location(loc: tuple[Any, ...]) -> str:
    """``("query", "old")`` → ``old``; ``("path", "seq")`` → ``seq``."""
    parts = [str(p) for p in loc[1:]] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts) or "request"


Rejected = Callable[[str, str | None], None]


def install_handlers(app: FastAPI, on_rejection: Rejected | None = None) -> None:
    """Answer every error as problem details; ``on_rejection(rule, field)`` is told of
    each 4xx answer that names a rule (the metrics: ledger.http.metrics)."""

    def answer(p: Problem) -> JSONResponse:
        rule = p.extra.get("rule")
        if on_rejection is not None and 400 <= p.status < 500 and isinstance(rule, str):
            field = p.extra.get("field")
            on_rejection(rule, field if isinstance(field, str) else None)
        return problem_response(p)

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)  # noqa: S101 - registered for Problem only
        return answer(exc)

    async def on_ledger_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LedgerError)  # noqa: S101
        return answer(_from_ledger_error(exc))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return answer(Problem(exc.status_code, detail,
                              headers=dict(exc.headers or {}) or None))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        first = exc.errors()[0] if exc.errors() else {}
        loc = tuple(first.get("loc", ()))
        if first.get("type") == "extra_forbidden" and loc:  # the key is the client's: any
            loc = (*loc[:-1], UNKNOWN)                      # text, even an e-mail address
        field = _location(loc)
        rule = str(first.get("msg", "is not valid"))  # pydantic's message has no input value
        return answer(Problem(422, f"{field}: {rule}", type_=URN + "invalid-input",
                              title="Invalid request", field=field, rule=rule))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(LedgerError, on_ledger_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    # anything else: ledger.http.logs.AccessLog answers 500 without re-raising
