"""What makes a retry the same event: the content compared when an ``event_id`` is reused.

An append whose ``event_id`` is already stored is a *retry*.  It is answered
with the stored receipt when it has the same content, and refused
(:class:`~ledger.errors.ConflictError`: exit 2, HTTP 409) when it has not.
The content is what the caller gives, compared field by field in this order:

1. ``type``, ``subject`` (its pseudonym), ``occurred_at`` as an instant
   (``2026-03-01T10:00:00+01:00`` and ``2026-03-01T09:00:00Z`` are the same),
   ``actor`` (as given, or as defaulted by the CLI or the token);
2. each ``data`` field of the type, in the catalogue's order: present in one
   and absent in the other is a difference; ``values`` objects key by key,
   ``guardian`` member by member.  Fields the ledger fills in when the caller
   leaves them out (``policy_version``, ``discovered_at``) are not compared
   when the retry leaves them out; members the ledger derives
   (``outside_eea``, ``recipient_in_policy``) are never compared.  A policy is
   compared in its normalised form.

Personal values are stored sealed: the stored value is opened with the
subject's data key (inside the append transaction) and compared in memory;
nothing else (no hash, no digest) is kept for the comparison.  When the key is
gone (the subject erased, the category anonymised) the value cannot be opened
and is not compared: only the non-personal fields (and which personal fields
are present) decide.  The answer then never depends on a personal value, so a
retry cannot be used to confirm a guess about an erased person.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.domain.events import CATALOGUE, FieldSpec
from ledger.domain.policy import Policy
from ledger.domain.sealed import is_sealed
from ledger.errors import PolicyError
from ledger.trust.canonical import canonical_bytes

__all__ = ["FILLED_IN", "UNREADABLE", "first_difference"]

FILLED_IN = frozenset({"policy_version", "discovered_at"})
UNREADABLE = object()  # what an opener returns for a value whose key is destroyed

Opener = Callable[[str, str], Any]  # (sealed value, path) -> plain value or UNREADABLE


def first_difference(new: dict[str, Any], old: dict[str, Any], opener: Opener) -> str | None:
    """The path of the first field where ``new`` (a retry) differs from ``old`` (stored).

    Both are entries in stored form (``type``, ``subject``, ``occurred_at``,
    ``actor``, ``payload``); ``new``'s payload is not sealed, ``old``'s may be.
    ``None``: the same content.
    """
    for name in ("type", "subject", "occurred_at", "actor"):
        if new.get(name) != old.get(name):
            return name
    cls = CATALOGUE[new["type"]]
    new_data, old_data = new["payload"], old["payload"]
    for name, fs in cls.specs():
        path = f"data.{name}"
        a, b = new_data.get(name), old_data.get(name)
        if a is None and (b is None or name in FILLED_IN):
            continue
        if (a is None) != (b is None):
            return path
        found = _field_difference(fs, a, b, path, opener)
        if found is not None:
            return found
    return None


def _field_difference(fs: FieldSpec, a: Any, b: Any, path: str, opener: Opener) -> str | None:
    if fs.kind == "values":
        if not isinstance(b, dict):
            return path
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in a or key not in b:
                return f"{path}.{key}"
            if not _same(a[key], b[key], f"{path}.{key}", opener):
                return f"{path}.{key}"
        return None
    if fs.kind == "object":
        if not isinstance(b, dict):
            return path
        for sub, _ in fs.sub:
            where = f"{path}.{sub}"
            if (sub in a) != (sub in b):
                return where
            if sub in a and not _same(a[sub], b[sub], where, opener):
                return where
        return None
    if fs.kind == "object_any" and path == "data.policy":
        return None if _normal_policy(a) == _normal_policy(b) else path
    return None if _same(a, b, path, opener) else path


def _same(a: Any, b: Any, path: str, opener: Opener) -> bool:
    if is_sealed(b):
        b = opener(b, path)
        if b is UNREADABLE:
            return True  # the key is destroyed: a personal value is never compared
    return canonical_bytes(a) == canonical_bytes(b)


def _normal_policy(doc: Any) -> Any:
    try:
        return canonical_bytes(Policy.from_json(doc).to_json())
    except (PolicyError, KeyError, TypeError, ValueError):
        return canonical_bytes(doc)
