"""One OpenAPI schema per event type, made from the catalogue itself (issue 13 item 12).

Each type's schema is its envelope (``type`` fixed to the type, ``subject`` required,
optional or absent as the type says) and its ``data``: every field with the check its
:class:`~ledger.domain.event_fields.FieldSpec` applies (patterns, enums, bounds,
lengths, the rules of a text), required or nullable as the parser treats it.  The
schemas are derived, not written by hand, so they cannot drift from the parser.

What a schema cannot say stays in the operation's description (docs/API.md): the
relation of a time to ``occurred_at``; inside a free-form value (``evidence``,
``values``), the depth, the size once encoded and the rules of the strings nested in
it; the rules of a policy document (docs/POLICY.md); and the rules of the policy, the
law and the ledger's state (a ``rule-violation`` problem).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from ledger.domain.event_fields import (
    CODE_PATTERN,
    LANGUAGE_PATTERN,
    UUID_PATTERN,
    FieldSpec,
)
from ledger.domain.events import CATALOGUE, MAX_NOTICE_TEXT, MAX_TEXT, MAX_VALUE
from ledger.domain.policy_terms import ISO_COUNTRIES
from ledger.http.params import ACTOR, DATE_TIME, REF, subject_schema, text_schema
from ledger.trust.canonical import MAX_SAFE_INTEGER

__all__ = ["event_schema", "event_schemas"]

CODE, LANGUAGE = CODE_PATTERN, LANGUAGE_PATTERN  # the parser's (domain.event_fields)
NULL: dict[str, Any] = {"type": "null"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional field: the parser takes ``null`` as absent."""
    return {"anyOf": [schema, NULL]}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": 1, "uniqueItems": True}


def _free_value() -> dict[str, Any]:
    """A free-form value: any JSON but null and fractions; its inner rules are described."""
    return {"anyOf": [text_schema(MAX_VALUE),
                      {"type": "integer", "minimum": -MAX_SAFE_INTEGER,
                       "maximum": MAX_SAFE_INTEGER},
                      {"type": "boolean"}, {"type": "array"}, {"type": "object"}],
            "description": "free-form JSON: at most 32 levels of arrays and objects, "
                           f"{MAX_VALUE} characters once encoded, integers only, keys "
                           "[a-z_][a-z0-9_]*, strings under the rules of a text"}


def _int(fs: FieldSpec) -> dict[str, Any]:
    return {"type": "integer",
            "minimum": -MAX_SAFE_INTEGER if fs.lo is None else fs.lo,
            "maximum": MAX_SAFE_INTEGER if fs.hi is None else fs.hi}


_KINDS: dict[str, Callable[[FieldSpec], dict[str, Any]]] = {
    "code": lambda fs: {"type": "string", "pattern": CODE},
    "codes": lambda fs: _list({"type": "string", "pattern": CODE}),
    "enum_list": lambda fs: _list({"type": "string", "enum": list(fs.choices)}),
    "ref": lambda fs: {"type": "string", "pattern": REF},
    "uuid": lambda fs: {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
    "text": lambda fs: text_schema(MAX_TEXT),
    "long_text": lambda fs: text_schema(MAX_NOTICE_TEXT),
    "language": lambda fs: {"type": "string", "pattern": LANGUAGE},
    "int": _int,
    "bool": lambda fs: {"type": "boolean"},
    "time": lambda fs: {"type": "string", "format": "date-time", "pattern": DATE_TIME},
    "enum": lambda fs: {"type": "string", "enum": list(fs.choices)},
    "country": lambda fs: {"type": "string", "enum": sorted(ISO_COUNTRIES)},
    "value": lambda fs: _free_value(),
    "values": lambda fs: {"type": "object", "minProperties": 1,
                          "propertyNames": {"pattern": CODE},
                          "additionalProperties": _free_value()},
    "object": lambda fs: _fields(fs.sub),
    "object_any": lambda fs: {"type": "object",
                              "description": "a policy document (docs/POLICY.md)"},
}


def _field(fs: FieldSpec) -> dict[str, Any]:
    schema = dict(_KINDS[fs.kind](fs))
    if fs.doc:
        schema["description"] = fs.doc
    return schema if fs.required else _nullable(schema)


def _fields(specs: tuple[tuple[str, FieldSpec], ...]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object",
                              "properties": {name: _field(fs) for name, fs in specs},
                              "additionalProperties": False}
    required = [name for name, fs in specs if fs.required]
    if required:
        schema["required"] = required
    return schema


# a rule between two fields that a schema can state
_EXACTLY_ONE: dict[str, tuple[str, ...]] = {"BreachCommunicated": ("method", "exemption")}


def event_schema(type_: str) -> dict[str, Any]:
    """The schema of one event of ``type_``, envelope and ``data``."""
    cls = CATALOGUE[type_]
    data = _fields(cls.specs())
    if type_ in _EXACTLY_ONE:
        data["oneOf"] = [{"required": [name], "properties": {name: {"type": "string"}}}
                         for name in _EXACTLY_ONE[type_]]
    properties: dict[str, Any] = {
        "event_id": _nullable({"type": "string", "format": "uuid", "pattern": UUID_PATTERN,
                               "description":
                               "idempotency key: a retry returns the stored receipt"}),
        "type": {"type": "string", "enum": [type_]},
        "occurred_at": {"type": "string", "format": "date-time", "pattern": DATE_TIME,
                        "description": "RFC 3339 with an offset; at most 5 minutes after "
                                       "the ledger's clock"},
        "actor": _nullable({"type": "string", "pattern": ACTOR}),
        "data": data,
    }
    required = ["type", "occurred_at"]
    if cls.SUBJECT == "forbidden":
        properties["subject"] = {**NULL, "description": "an organisation event: no subject"}
    else:
        subject = subject_schema(description="the data subject's identifier "
                                             "(pseudonymised by the ledger)")
        properties["subject"] = subject if cls.SUBJECT == "required" else _nullable(subject)
        if cls.SUBJECT == "required":
            required.append("subject")
    if "required" in data:
        required.append("data")
    return {"title": type_, "description": cls.DOC, "type": "object",
            "required": required, "properties": properties, "additionalProperties": False}


@cache
def event_schemas() -> tuple[dict[str, Any], ...]:
    """Every type's schema, in the catalogue's order of names."""
    return tuple(event_schema(t) for t in sorted(CATALOGUE))
