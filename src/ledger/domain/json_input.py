"""Untrusted JSON text, as the command line and the HTTP API read it (issue 13).

One reading for both faces, stricter than :func:`json.loads`:

* **UTF-8 only.**  The text is decoded as strict UTF-8 (``json.loads`` would
  guess UTF-16 or UTF-32 from bytes).  A UTF-8 byte order mark at the very
  start is ignored (RFC 8259 §8.1 allows it; some editors write one); a UTF-16
  or UTF-32 one, or a NUL byte (never valid in JSON text), is refused.
* **Nesting** beyond :data:`MAX_JSON_DEPTH` levels is refused before parsing, by
  a scan that needs no recursion: the answer does not depend on the
  interpreter's recursion limit.  (Free-form values have their own, lower limit,
  :data:`MAX_VALUE_DEPTH`, checked by ``ledger.domain.events``.)
* **Duplicate keys**, at any level, are refused: a proxy that reads the first
  value would see another event than the ledger keeps (last value wins in
  ``json.loads``).  The error names the key's path; a key that does not look
  like a field name is shown as ``(unknown key)`` (it could be personal data).
* ``NaN`` and ``Infinity`` are not JSON.

Errors are :class:`JsonTextError` with ``path`` (``""`` for the whole text),
the 0-based ``index`` of the top-level array item it is in, and ``rule``; no
error repeats the text.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "MAX_VALUE_DEPTH", "TOO_DEEP_SHOWN", "JsonTextError",
           "decode_utf8", "json_depth", "parse_json_text"]

MAX_JSON_DEPTH = 64   # a whole request body or batch line
MAX_VALUE_DEPTH = 32  # one free-form value (evidence, details, values.<field>…)
#: what readers show instead of a value stored before the limit and nested deeper
TOO_DEEP_SHOWN = f"[not shown: nested more than {MAX_VALUE_DEPTH} levels deep]"
_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)
_KEY_SHOWN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}\Z")
_BOMS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"),
         (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16"))


class JsonTextError(ValueError):
    """Why a JSON text is refused: ``path`` of the member, ``rule``."""

    def __init__(self, path: str, rule: str, *, index: int | None = None,
                 syntax: bool = False) -> None:
        self.path = path
        self.rule = rule
        self.index = index
        self.syntax = syntax  # the text is not JSON at all (HTTP: 400, not 422)
        super().__init__(f"{path or 'text'}: {rule}")


def decode_utf8(raw: bytes) -> str:
    """Strict UTF-8, a leading UTF-8 BOM dropped; else JsonTextError saying which."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise JsonTextError("", f"must be UTF-8 text (found a {name} byte order mark)",
                                syntax=True)
    if b"\x00" in raw:
        raise JsonTextError("", "must be UTF-8 text (it holds NUL bytes: UTF-16 or UTF-32?)",
                            syntax=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonTextError("", f"must be UTF-8 text (invalid byte at offset {exc.start})",
                            syntax=True) from None
    return text[1:] if text.startswith("\ufeff") else text


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects outside strings (no recursion)."""
    steps = [1 if t in "[{" else -1 for t in _BRACKETS.findall(text) if t in "[]{}"]
    return max(accumulate(steps), default=0)


def _too_deep_at(text: str) -> list[str | int]:
    """The path (keys and indices) of the first container nested deeper than
    MAX_JSON_DEPTH; a slow scan, run only on a text known to be too deep."""
    stack: list[list[Any]] = []  # [is an object, its current key or index]
    last = ""
    for tok in _TOKENS.findall(text):
        if tok in "[{":
            stack.append([tok == "{", None if tok == "{" else 0])
            if len(stack) > MAX_JSON_DEPTH:
                return [f[1] if f[1] is not None else "?" for f in stack[:-1]]
        elif tok in "]}":
            if stack:
                stack.pop()
        elif tok == ",":
            if stack and not stack[-1][0]:
                stack[-1][1] += 1
        elif tok == ":":
            if stack and stack[-1][0]:
                stack[-1][1] = last
        else:
            last = tok[1:-1]
    return []


def _depth_error(text: str) -> JsonTextError:
    rule = (f"is nested more than {MAX_JSON_DEPTH} levels deep (a free-form value: at most "
            f"{MAX_VALUE_DEPTH})")
    path = _too_deep_at(text)
    index = path.pop(0) if path and isinstance(path[0], int) else None
    if not any(isinstance(p, str) for p in path):  # no member to name: not an event's fault
        return JsonTextError("", rule, syntax=True)
    named = path[:3]
    while isinstance(named[-1], int):  # name the member, not a position inside it
        named.pop()
    shown = ""
    for part in named:
        shown += f"[{part}]" if isinstance(part, int) else \
            (f".{_shown(part)}" if shown else _shown(part))
    return JsonTextError(shown + ("…" if len(path) > len(named) else ""), rule,
                         index=index if isinstance(index, int) else None)


class _Duplicated(dict[str, Any]):
    """An object in which ``duplicate`` appeared more than once."""

    duplicate: str


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    duplicate = None
    for key, value in pairs:
        if key in out and duplicate is None:
            duplicate = key
        out[key] = value
    if duplicate is None:
        return out
    marked = _Duplicated(out)
    marked.duplicate = duplicate
    return marked


def _shown(key: str) -> str:
    return key if _KEY_SHOWN.match(key) else "(unknown key)"


def _find_duplicate(value: Any) -> tuple[str, int | None] | None:
    """The path of the first duplicated key (depth first, no recursion), with the index
    of the top-level array item it is in."""
    stack: list[tuple[Any, str, int | None]] = [(value, "", None)]
    while stack:
        node, path, index = stack.pop()
        if isinstance(node, _Duplicated):
            key = _shown(node.duplicate)
            return (f"{path}.{key}" if path else key), index
        if isinstance(node, dict):
            stack.extend((v, f"{path}.{_shown(k)}" if path else _shown(k), index)
                         for k, v in reversed(node.items()))
        elif isinstance(node, list):
            top = node is value
            stack.extend((v, f"{path}[{i}]" if not top else "", i if top else index)
                         for i, v in reversed(list(enumerate(node))))
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json_text(text: str) -> Any:
    """The value of one JSON text, or JsonTextError (depth, syntax, duplicate keys)."""
    if json_depth(text) > MAX_JSON_DEPTH:
        raise _depth_error(text)
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise JsonTextError("", f"is not valid JSON ({exc.msg} at line {exc.lineno} "
                                f"column {exc.colno})", syntax=True) from None
    except ValueError:
        raise JsonTextError("", "is not valid JSON (NaN and Infinity are not JSON)",
                            syntax=True) from None
    found = _find_duplicate(value)
    if found is not None:
        path, index = found
        raise JsonTextError(path, "is given more than once (duplicate keys are refused)",
                            index=index)
    return value
