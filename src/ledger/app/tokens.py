"""Bearer tokens of the HTTP API: created, listed, revoked, checked.

A token is ``ldg_`` followed by 43 URL-safe characters (32 random bytes).  It
is shown once, when created; the database keeps its SHA-256 only (a random
256-bit secret needs no slow hash), and the comparison is constant-time.
Each token has a *name* — recorded as the ``actor`` of every event appended
with it — and one *role*: ``service``, ``auditor`` or ``dpo`` (what each may
do: :mod:`ledger.http.roles`).  At most one live token bears a name; revoked
tokens stay listed, so that an actor name found in the ledger can always be
traced to the token that was issued under it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.errors import ConfigError, InputError, LedgerError
from ledger.storage.tokens import (
    TokenRow,
    find_token,
    insert_token,
    list_tokens,
    revoke_tokens,
    token_table_ready,
)
from ledger.trust.canonical import format_time

__all__ = ["PREFIX", "ROLES", "Principal", "TokenInfo", "Tokens", "hash_token"]

ROLES = ("service", "auditor", "dpo")
PREFIX = "ldg_"
# A name becomes an event's actor (and the prefix of actors "name:part"), so it
# is a strict subset of the actor syntax of docs/events.md.
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")
_TOKEN = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_-]{43}\Z")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a live token's name and role."""

    name: str
    role: str


@dataclass(frozen=True, slots=True)
class TokenInfo:
    name: str
    role: str
    created_at: str
    revoked_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "created_at": self.created_at,
                "revoked": self.revoked_at is not None, "revoked_at": self.revoked_at}


class Tokens:
    """The tokens of one ledger, over its store (``Ledger.store``)."""

    def __init__(self, store: Any, clock: Callable[[], datetime] = _utcnow) -> None:
        self.store = store
        self.clock = clock

    def check_ready(self) -> None:
        """ConfigError when the database was initialised before tokens existed."""
        try:
            self.store.read(token_table_ready)
        except LedgerError:
            raise ConfigError("this database has no API token table: run `ledger init` "
                              "(it adds the table and changes nothing else)") from None

    def create(self, name: str, role: str, *, token: str | None = None) -> str:
        """Issue a token; return it (the only time it is ever available).  ``token``: the
        same token another ledger was given (one token for several ledgers,
        :func:`ledger.app.token_admin.create_token_for`)."""
        if not NAME.match(name):
            raise InputError("name", "must be 1-64 characters: lowercase letters, digits, "
                             "'.', '_' or '-', starting with a letter or digit")
        if role not in ROLES:
            raise InputError("role", f"must be one of {', '.join(ROLES)}")
        self.check_ready()
        if token is None:
            token = PREFIX + secrets.token_urlsafe(32)
        elif not _TOKEN.match(token):
            raise InputError("token", "must be a token made by `ledger token create`")
        row = TokenRow(hash_token(token), name, role, format_time(self.clock()), None)

        def create(tx: Any) -> None:
            if any(t.name == name and t.revoked_at is None for t in list_tokens(tx)):
                raise InputError("name", "already has a live token: revoke it first, or "
                                 "choose another name")
            insert_token(tx, row)

        self.store.append(create)
        return token

    def list(self) -> list[TokenInfo]:
        self.check_ready()
        rows: list[TokenRow] = self.store.read(list_tokens)
        return [TokenInfo(r.name, r.role, r.created_at, r.revoked_at) for r in rows]

    def revoke(self, name: str) -> None:
        self.check_ready()
        at = format_time(self.clock())
        n: int = self.store.append(lambda tx: revoke_tokens(tx, name, at))
        if n == 0:
            raise InputError("name", "has no live token")

    def authenticate(self, token: str) -> Principal | None:
        """The live token's principal, or None (unknown, malformed or revoked)."""
        if not _TOKEN.match(token):
            return None
        digest = hash_token(token)
        row: TokenRow | None = self.store.read(lambda tx: find_token(tx, digest))
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.token_hash, digest):
            return None
        return Principal(row.name, row.role)
