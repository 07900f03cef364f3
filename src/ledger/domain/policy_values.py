"""The scalar readers of a policy document: each checks one value (a table's keys, a
text, an identifier, an e-mail address, a URL, a bounded integer, an array, a date-time)
and raises :class:`~ledger.errors.PolicyError` naming the field and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time

from ledger.domain.text_rules import disguising_character
from ledger.errors import PolicyError
from ledger.trust.canonical import parse_time

_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_URL = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_SHOWN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")

_MAX_TEXT = 4000
_MAX_ITEMS = 1000
_FIRST_YEAR = 1970


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(key: object) -> str:
    if isinstance(key, str) and _SHOWN_KEY.fullmatch(key):
        return key
    return repr(key)[:66]


def _table(
    value: object, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise PolicyError(path or "policy", "must be a table")
    allowed = frozenset(required) | frozenset(optional)
    for key in value:
        if key not in allowed:
            raise PolicyError(
                _at(path, _show(key)),
                f"unknown key (allowed: {', '.join(required + optional)})",
            )
    for key in required:
        if key not in value:
            raise PolicyError(_at(path, key), "is required")
    return value


def _text(value: object, field: str, *, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise PolicyError(field, "must be a string")
    if not value.strip():
        raise PolicyError(field, "must not be empty")
    if len(value) > _MAX_TEXT:
        raise PolicyError(field, f"must not be longer than {_MAX_TEXT} characters")
    if _SURROGATE.search(value):
        raise PolicyError(field, "must be valid Unicode (no lone surrogates)")
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(value):
        raise PolicyError(field, "must not contain control characters")
    hidden = disguising_character(value)
    if hidden:
        raise PolicyError(field, f"must not contain bidirectional or invisible format "
                                 f"characters (found {hidden})")
    return value


def _pattern(value: object, field: str, pattern: re.Pattern[str], rule: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise PolicyError(field, rule)
    return value


def _ident(value: object, field: str) -> str:
    return _pattern(value, field, _ID, "must match [a-z][a-z0-9_]* (at most 64 characters)")


def _email(value: object, field: str) -> str:
    _text(value, field)
    return _pattern(value, field, _EMAIL, "must be an e-mail address")


def _url(value: object, field: str) -> str:
    _text(value, field)
    return _pattern(value, field, _URL, "must be an http:// or https:// URL")


def _int(value: object, field: str, low: int, high: int, rule: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise PolicyError(field, "must be an integer")
    if not low <= value <= high:
        raise PolicyError(field, rule)
    return value


def _bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(field, "must be true or false")
    return value


def _array(value: object, field: str) -> list[object]:
    if not isinstance(value, list | tuple):
        raise PolicyError(field, "must be an array")
    if len(value) > _MAX_ITEMS:
        raise PolicyError(field, f"must not have more than {_MAX_ITEMS} items")
    return list(value)


def _strings(value: object, field: str, check: Callable[[object, str], str]) -> tuple[str, ...]:
    """A non-empty array of distinct strings, each passing ``check``."""
    items = _array(value, field)
    if not items:
        raise PolicyError(field, "must not be empty")
    out: list[str] = []
    for i, v in enumerate(items):
        s = check(v, f"{field}[{i}]")
        if s in out:
            raise PolicyError(f"{field}[{i}]", f"repeats {field}[{out.index(s)}]")
        out.append(s)
    return tuple(out)


def _ids(value: object, field: str) -> tuple[str, ...]:
    return _strings(value, field, _ident)


def _texts(value: object, field: str) -> tuple[str, ...]:
    return _strings(value, field, _text)


def _effective_at(value: object, field: str) -> datetime:
    rule = "must be a TOML offset date-time or a string YYYY-MM-DDTHH:MM:SS.ffffffZ"
    if isinstance(value, str):
        try:
            moment = parse_time(value)
        except ValueError as exc:
            raise PolicyError(field, rule) from exc
    elif isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise PolicyError(field, "must carry a time zone offset (e.g. 2022-05-14T00:00:00Z)")
        try:
            moment = value.astimezone(UTC)
        except OverflowError as exc:
            raise PolicyError(field, "must lie between 1970 and 9999") from exc
    elif isinstance(value, date | time):
        raise PolicyError(field, "must be a date and a time with an offset, not a date or a time")
    else:
        raise PolicyError(field, rule)
    if not _FIRST_YEAR <= moment.year <= datetime.max.year:
        raise PolicyError(field, "must lie between 1970 and 9999")
    return moment
