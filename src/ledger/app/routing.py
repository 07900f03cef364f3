"""Opening the ledgers of a routing file (``ledgers.toml``, :mod:`ledger.domain.routing`).

Found by ``--ledgers FILE`` or ``$LEDGER_LEDGERS``.  Each ledger keeps its own database
(or schema), chain, keys (``keys``: its key folder), signing key and checkpoints; the
service only routes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger.app.checking import open_checked_store
from ledger.domain.routing import Route, parse_routing
from ledger.errors import ConfigError, LedgerError
from ledger.trust.chain import GENESIS_HASH

__all__ = ["Route", "env_of", "ledgers_in", "list_ledgers", "load_routing", "pick_route"]


def load_routing(path: str) -> dict[str, Route]:
    """The routes of the file ``path`` (a ConfigError names the file and what is wrong)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"LEDGER_LEDGERS: cannot read {path} "
                          f"({type(exc).__name__})") from None
    return parse_routing(text, path)


def pick_route(routes: Mapping[str, Route], name: str | None, source: str) -> Route:
    """The route ``name`` selects; without a name, the file's only ledger (or ``main``)."""
    if name is None:
        if len(routes) == 1:
            return next(iter(routes.values()))
        name = "main"
    route = routes.get(name)
    if route is None:
        raise ConfigError(f"--ledger: {source} has no ledger named {name!r} "
                          f"(it has: {', '.join(sorted(routes))})")
    return route


def env_of(route: Route, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings a route's ledger opens with: its key folder, if the file names one."""
    out = dict(os.environ if env is None else env)
    if route.keys is not None:
        out["LEDGER_KEY_DIR"] = route.keys
    return out


def list_ledgers(routes: Mapping[str, Route]) -> list[dict[str, Any]]:
    """Each ledger: where it lives (no password) and its head, or why it cannot be read."""
    out = []
    for route in routes.values():
        row = route.as_dict()
        try:
            store, _ = open_checked_store(route.url, route.ledger)
            try:
                head = store.read(lambda tx: tx.head())
            finally:
                store.close()
            row["head_seq"] = 0 if head is None else int(head.seq)
            row["head_hash"] = GENESIS_HASH if head is None else head.hash
            row["error"] = None
        except LedgerError as exc:
            row["head_seq"], row["head_hash"], row["error"] = None, None, str(exc)
        out.append(row)
    return out


def ledgers_in(path: str) -> list[dict[str, Any]]:
    """``ledger ledgers``: :func:`list_ledgers` of the routing file ``path``."""
    return list_ledgers(load_routing(path))
