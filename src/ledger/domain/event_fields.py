"""The fields of an event's ``data``: how each kind is checked (:class:`FieldSpec`,
:func:`spec`) and stored, and the envelope's times (:func:`parse_rfc3339`).

Every refusal is an :class:`~ledger.errors.InputError` naming the field (a dotted
path such as ``data.guardian.name``) and the rule; a key the caller sent is only
repeated when it looks like a name (:func:`shown_key`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.domain.json_input import MAX_VALUE_DEPTH
from ledger.domain.policy_terms import is_country_code
from ledger.domain.text_rules import disguising_character
from ledger.errors import InputError
from ledger.trust.canonical import MAX_SAFE_INTEGER, check_domain, format_time

__all__ = ["ACTOR_PATTERN", "CODE_PATTERN", "LANGUAGE_PATTERN", "REF_PATTERN", "UUID_PATTERN",
           "FieldSpec", "check_text", "parse_fields", "parse_rfc3339",
           "parse_uuid", "shown_key", "spec", "stored_value"]

MAX_TEXT = 2000
MAX_NOTICE_TEXT = 50_000
MAX_VALUE = 10_000
MAX_DEPTH = MAX_VALUE_DEPTH  # levels of arrays/objects in a free-form value (docs/FORMAT.md)
MAX_SUBJECT = 256
CLOCK_SKEW = timedelta(minutes=5)
OUT_OF_RANGE = "must lie within the years 0001-9999 once converted to UTC"
# each rule's pattern as the OpenAPI schemas state it (ledger.http.params, event_schemas),
# compiled here for the parser: one definition of each
CODE_PATTERN = "^[a-z][a-z0-9_]{0,63}$"
REF_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"
ACTOR_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$"
LANGUAGE_PATTERN = "^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,4}$"
UUID_PATTERN = "^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"


def _compiled(pattern: str) -> re.Pattern[str]:
    """A schema's ``^…$`` pattern as the parser matches it (``$`` would take a final
    newline: ``\\Z`` does not)."""
    return re.compile(pattern[:-1] + r"\Z")


_CODE, _REF = _compiled(CODE_PATTERN), _compiled(REF_PATTERN)
_ACTOR, _LANGUAGE = _compiled(ACTOR_PATTERN), _compiled(LANGUAGE_PATTERN)
_UUID = _compiled(UUID_PATTERN)
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one ``data`` field is checked and stored."""

    kind: str  # code, codes, ref, text, long_text, language, int, bool, time, enum,
    # country, value, values, object
    required: bool = True
    personal: bool = False
    choices: tuple[str, ...] = ()
    lo: int | None = None
    hi: int | None = None
    sub: tuple[tuple[str, FieldSpec], ...] = ()
    doc: str = ""


def spec(kind: str, doc: str = "", *, required: bool = True, personal: bool = False,
         choices: tuple[str, ...] = (), lo: int | None = None, hi: int | None = None,
         sub: tuple[tuple[str, FieldSpec], ...] = ()) -> Any:
    """A dataclass field carrying its :class:`FieldSpec`."""
    return field(metadata={"spec": FieldSpec(kind, required, personal, choices, lo, hi,
                                             sub, doc)})


def parse_rfc3339(text: object, where: str) -> datetime:
    """RFC 3339 date-time with a mandatory offset, as an aware datetime."""
    if not isinstance(text, str) or not _RFC3339.match(text):
        raise InputError(where, "must be an RFC 3339 date-time with an offset, "
                                "e.g. 2024-03-01T09:30:00+01:00")
    norm = text.upper().replace("Z", "+00:00")
    m = re.match(r"(.*?)(\.\d+)?([+-]\d{2}:\d{2})\Z", norm)
    if m is None:  # pragma: no cover - _RFC3339 matched already
        raise InputError(where, "must be an RFC 3339 date-time with an offset")
    frac = (m.group(2) or ".0")[1:7].ljust(6, "0")
    try:
        moment = datetime.fromisoformat(f"{m.group(1)}.{frac}{m.group(3)}")
    except ValueError:
        raise InputError(where, "is not a valid calendar date and time") from None
    try:
        moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the year 1 in UTC
        raise InputError(where, OUT_OF_RANGE) from None
    return moment


def check_text(value: object, where: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InputError(where, "must be a string")
    if not value.strip():
        raise InputError(where, "must not be empty")
    if len(value) > limit:
        raise InputError(where, f"must be at most {limit} characters")
    if _CONTROL.search(value):
        raise InputError(where, "must not contain control characters")
    if _SURROGATE.search(value):
        raise InputError(where, "must be valid Unicode (no lone surrogates)")
    hidden = disguising_character(value)
    if hidden:
        raise InputError(where, f"must not contain bidirectional or invisible format "
                                f"characters (found {hidden}; docs/events.md)")
    return value


def _field(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    check = _KINDS.get(fs.kind)
    if check is None:  # pragma: no cover - the catalogue is fixed
        raise AssertionError(fs.kind)
    return check(name, fs, value, where)


def _code(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    if not isinstance(value, str) or not _CODE.match(value):
        raise InputError(where, "must be an identifier matching [a-z][a-z0-9_]*")
    return value


def _list(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    """``codes`` and ``enum_list``: a non-empty list of distinct codes (or choices)."""
    if not isinstance(value, list) or not value:
        raise InputError(where, "must be a non-empty list")
    item = FieldSpec("enum" if fs.kind == "enum_list" else "code", choices=fs.choices)
    out = [_field(name, item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if len(set(out)) != len(out):
        raise InputError(where, "must not repeat an item")
    return out


def _ref(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    if not isinstance(value, str) or not _REF.match(value):
        raise InputError(where, "must be a reference of 1-128 characters "
                                "[A-Za-z0-9._:/-] starting with a letter or digit")
    return value


def _uuid(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    return parse_uuid(value, where)


def parse_uuid(value: object, where: str) -> str:
    """A UUID in its RFC 9562 text form (8-4-4-4-12 hex digits, either case), lower-cased;
    the schemas' pattern is :data:`UUID_PATTERN`."""
    if not isinstance(value, str) or not _UUID.match(value):
        raise InputError(where, "must be a UUID (8-4-4-4-12 hexadecimal digits)")
    return str(uuid.UUID(value))


def _language(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    if not isinstance(value, str) or not _LANGUAGE.match(value):
        raise InputError(where, "must be a BCP 47 language tag such as fr or fr-FR")
    return value


def _int(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    if type(value) is float and value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
        value = int(value)  # 349.0 is the integer 349 in JSON's data model (and its schema)
    if type(value) is not int:
        raise InputError(where, "must be an integer")
    if abs(value) > MAX_SAFE_INTEGER:
        raise InputError(where, "must lie within ±(2^53 - 1)")
    if (fs.lo is not None and value < fs.lo) or (fs.hi is not None and value > fs.hi):
        raise InputError(where, f"must be between {fs.lo} and {fs.hi}")
    return value


def _bool(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    if type(value) is not bool:
        raise InputError(where, "must be true or false")
    return value


def _enum(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    if value not in fs.choices:
        raise InputError(where, "must be one of " + ", ".join(fs.choices))
    return value


def _country(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    if not is_country_code(value):
        raise InputError(where, "must be an ISO 3166-1 alpha-2 code such as FR")
    return value


def _values(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    if not isinstance(value, dict) or not value:
        raise InputError(where, "must be a non-empty object of field → value")
    for k in value:
        if not isinstance(k, str) or not _CODE.match(k):
            raise InputError(where, "field names must match [a-z][a-z0-9_]*")
    return {k: _json_value(v, f"{where}.{k}") for k, v in value.items()}


def _object(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise InputError(where, "must be an object")
    return parse_fields(fs.sub, value, where)


def _object_any(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise InputError(where, "must be an object")
    why = check_domain(value, where)
    if why:
        raise InputError(where, why)
    return value


_Check = Callable[[str, FieldSpec, Any, str], Any]
#: each kind of field and its check (FieldSpec.kind)
_KINDS: dict[str, _Check] = {
    "code": _code,
    "codes": _list,
    "enum_list": _list,
    "ref": _ref,
    "uuid": _uuid,
    "text": lambda name, fs, value, where: check_text(value, where, MAX_TEXT),
    "long_text": lambda name, fs, value, where: check_text(value, where, MAX_NOTICE_TEXT),
    "language": _language,
    "int": _int,
    "bool": _bool,
    "time": lambda name, fs, value, where: parse_rfc3339(value, where),
    "enum": _enum,
    "country": _country,
    "value": lambda name, fs, value, where: _json_value(value, where),
    "values": _values,
    "object": _object,
    "object_any": _object_any,
}


def _json_value(value: Any, where: str) -> Any:
    if value is None:
        raise InputError(where, "must not be null")
    if isinstance(value, str):
        check_text(value, where, MAX_VALUE)
    _check_nested(value, where)
    why = check_domain(value, where)
    if why:
        raise InputError(where, why.split(": ", 1)[1] if ": " in why else why)
    if len(str(value)) > MAX_VALUE:
        raise InputError(where, f"must be at most {MAX_VALUE} characters once encoded")
    return value


def _check_nested(value: Any, where: str) -> None:
    """Depth at most MAX_DEPTH, and the rules of text for every string inside, walked
    without recursion (a value nested 2,000 levels deep must not crash the check)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise InputError(where, f"must not be nested more than {MAX_DEPTH} levels "
                                        "deep (arrays and objects)")
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                  else item))
        elif isinstance(item, str) and item is not value and (
                _CONTROL.search(item) or disguising_character(item)):
                raise InputError(where, "its strings must not contain control characters "
                                        "or bidirectional or invisible format characters")


_KEY_SHOWN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}\Z")
UNKNOWN_KEY = "(unknown key)"


def shown_key(key: object) -> str:
    """A key the caller sent, as an error may repeat it: a name-like key as it is; any
    other (it could be an e-mail address or a name: personal data) as ``(unknown key)``."""
    return key if isinstance(key, str) and _KEY_SHOWN.match(key) else UNKNOWN_KEY


def parse_fields(specs: tuple[tuple[str, FieldSpec], ...], data: Mapping[str, Any],
                  where: str) -> dict[str, Any]:
    known = {n for n, _ in specs}
    for key in data:
        if key not in known:
            raise InputError(f"{where}.{shown_key(key)}", "is not a field of this event "
                             f"(fields: {', '.join(sorted(known))})")
    out: dict[str, Any] = {}
    for name, fs in specs:
        at = f"{where}.{name}"
        if name not in data or data[name] is None:
            if fs.required:
                raise InputError(at, "is required")
            out[name] = None
            continue
        out[name] = _field(name, fs, data[name], at)
    return out


def stored_value(fs: FieldSpec, value: Any) -> Any:
    if fs.kind == "time":
        return format_time(value)
    if fs.kind == "object":
        return {n: stored_value(s, value[n]) for n, s in fs.sub if value.get(n) is not None}
    return value
