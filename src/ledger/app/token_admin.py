"""The HTTP API's tokens for the faces: administered from the command line over a
database without the master key (``ledger token …``), and checked by the API over its
open ledger."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ledger.app.checking import open_checked_store
from ledger.app.routing import load_routing, pick_route
from ledger.app.tokens import Tokens
from ledger.domain.routing import without_password
from ledger.errors import InputError

if TYPE_CHECKING:
    from ledger.app.application import Ledger

__all__ = ["create_token_for", "open_tokens", "tokens_of"]


@contextmanager
def open_tokens(url: str, name: str) -> Iterator[Tokens]:
    """The tokens of ledger ``name`` at ``url``, its store closed on leaving."""
    store, _ = open_checked_store(url, name)
    try:
        yield Tokens(store)
    finally:
        store.close()


def tokens_of(ledger: Ledger) -> Tokens:
    """The tokens of an open ledger, on its store and its clock (the API's)."""
    return Tokens(ledger.store, ledger.clock)


def create_token_for(path: str, ledgers: Sequence[str], name: str, role: str) -> str:
    """One token for several ledgers of the routing file ``path``: its hash goes into each
    one's token table (scoped to exactly those ledgers; ``ledger token create --also``).

    Two ledgers sharing one token table (one database and schema) cannot both hold it
    (the table's key is the token's hash): refused before anything is written, as is a
    name that already has a live token in one of them."""
    routes = load_routing(path)
    chosen = [pick_route(routes, n, path) for n in dict.fromkeys(ledgers)]
    tables: dict[str, str] = {}
    for route in chosen:
        where = without_password(route.url)
        if where in tables:
            raise InputError("--also", f"ledgers {tables[where]!r} and {route.name!r} share "
                             "one token table (same database and schema): give each its "
                             "own token")
        tables[where] = route.name
    for route in chosen:
        with open_tokens(route.url, route.ledger) as tokens:
            if any(t.name == name and t.revoked_at is None for t in tokens.list()):
                raise InputError("name", f"already has a live token in ledger "
                                 f"{route.name!r}: revoke it first, or choose another name")
    token: str | None = None
    for route in chosen:
        with open_tokens(route.url, route.ledger) as tokens:
            token = tokens.create(name, role, token=token)
    if token is None:
        raise InputError("--ledger", "must name at least one ledger")
    return token
