"""What a sealed value looks like (docs/FORMAT.md): ``sealed:v1:<scope>:<epoch>:<blob>``.

The rules only need to tell a sealed value from a value in clear; sealing and opening
one needs the keys (:mod:`ledger.keys.sealing`, which re-exports these names).
"""

from __future__ import annotations

__all__ = ["SEALED_PREFIX", "is_sealed"]

SEALED_PREFIX = "sealed:v1:"


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)
