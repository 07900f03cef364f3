"""OpenAPI schemas of the core routes' bodies (the bodies are parsed by the ledger itself).

The routes read their JSON by hand, so that every error is the ledger's own
(field and rule) rather than a framework's; these schemas only document the
bodies in ``/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from ledger.domain.event_fields import UUID_PATTERN
from ledger.domain.events import ERASURE_GROUNDS
from ledger.http.event_schemas import event_schemas
from ledger.http.params import DATE_TIME, REF
from ledger.http.problems import PROBLEM_JSON, PROBLEM_SCHEMA

__all__ = ["ERASE_SCHEMA", "EVENTS_BODY", "RECEIPT", "VERIFICATION", "problems"]


def _events_body() -> dict[str, Any]:
    """One event of any type (one schema per type, from the catalogue), or a batch."""
    one = {"oneOf": list(event_schemas()),
           "description": "One event: every type, field and rule in docs/events.md. "
                          "`actor` is the token's name (or `name:part`) and may be left "
                          "out."}
    return {"required": True, "content": {"application/json": {"schema": {"oneOf": [
        one, {"type": "array", "items": one, "minItems": 1}]}}}}


EVENTS_BODY: dict[str, Any] = _events_body()

RECEIPT: dict[str, Any] = {
    "type": "object",
    "required": ["seq", "event_id", "hash", "new"],
    "properties": {
        "seq": {"type": "integer", "minimum": 1},
        "event_id": {"type": "string", "format": "uuid"},
        "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "new": {"type": "boolean", "description": "false: this event_id was already stored"},
    },
}

RECEIPTS: dict[str, Any] = {"oneOf": [RECEIPT, {"type": "array", "items": RECEIPT}]}

ERASE_SCHEMA: dict[str, Any] = {
    "required": False,
    "content": {"application/json": {"schema": {
        "type": "object",
        "properties": {
            "ground": {"type": "string", "enum": list(ERASURE_GROUNDS),
                       "default": "no_longer_necessary"},
            "request_id": {"type": "string", "pattern": REF},
            "event_id": {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
            "occurred_at": {"type": "string", "format": "date-time", "pattern": DATE_TIME,
                            "description": "RFC 3339 with an offset; at most 5 minutes "
                                           "after the ledger's clock"},
        },
        "additionalProperties": False,
    }}},
}

VERIFICATION: dict[str, Any] = {
    "type": "object",
    "required": ["ok", "entries", "head", "first_bad_seq", "reason"],
    "properties": {
        "ok": {"type": "boolean"},
        "entries": {"type": "integer", "minimum": 0},
        "head": {"type": "string"},
        "first_bad_seq": {"type": ["integer", "null"]},
        "reason": {"type": ["string", "null"]},
    },
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for error statuses, all problem details."""
    return {s: {"description": "problem details (RFC 9457)",
                "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}} for s in statuses}


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}
