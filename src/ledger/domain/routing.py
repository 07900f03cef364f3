"""The routing file, ``ledgers.toml``: which ledgers one service serves and where each lives.

::

    [ledgers.acme]                      # the ledger's name in the service (URL prefix,
    url = "postgresql://app@db1/ledgers?schema=acme"   #  --ledger NAME): writes go here
    read_urls = ["postgresql://app@db1-replica/ledgers?schema=acme"]  # optional: replicas
    keys = "/srv/ledger/keys/acme"      # optional: its key folder (else $LEDGER_KEY_DIR)
    ledger = "main"                     # optional: its name within the database (default:
                                        #   the entry's name)

Pure: :func:`parse_routing` validates the text and names the file, the ledger and the
field of the first thing wrong (``ledgers.toml: ledgers.acme.read_urls: …``); opening is
:mod:`ledger.app.routing`'s.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ledger.errors import ConfigError

__all__ = ["NAME_RULE", "Route", "parse_routing", "without_password"]

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
NAME_RULE = "must be 1-63 characters: lowercase letters, digits, '_' or '-', starting " \
            "with a letter or digit"
FIELDS = ("url", "read_urls", "keys", "ledger")


@dataclass(frozen=True, slots=True)
class Route:
    """One ledger of the routing file."""

    name: str                       # in the service: URL prefix, --ledger
    url: str                        # the primary: every write
    read_urls: tuple[str, ...] = ()  # hot-standby replicas: reads (ledger.app.replicas)
    keys: str | None = None         # its key folder
    ledger: str = "main"            # its name within the database

    def as_dict(self) -> dict[str, Any]:
        """Where it lives, for people: URLs without their password."""
        return {"name": self.name, "ledger": self.ledger, "url": without_password(self.url),
                "read_urls": [without_password(u) for u in self.read_urls],
                "keys": self.keys}


def without_password(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}{port}", parts.path, parts.query, ""))


def parse_routing(text: str, source: str) -> dict[str, Route]:
    """The routes of a ``ledgers.toml`` text; ``source`` names it in errors."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    extra = sorted(set(doc) - {"ledgers"})
    if extra:
        raise ConfigError(f"{source}: {extra[0]}: is not a table of a routing file (only "
                          "[ledgers.NAME] tables)")
    ledgers = doc.get("ledgers")
    if not isinstance(ledgers, dict) or not ledgers:
        raise ConfigError(f"{source}: ledgers: must hold at least one [ledgers.NAME] table")
    return {name: _route(name, entry, source) for name, entry in ledgers.items()}


def _route(name: str, entry: Any, source: str) -> Route:
    where = f"{source}: ledgers.{name}"
    if not NAME.match(name):
        raise ConfigError(f"{where}: the name {NAME_RULE}")
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table ([ledgers.{name}])")
    for key in entry:
        if key not in FIELDS:
            raise ConfigError(f"{where}.{key}: is not a field of a ledger "
                              f"({', '.join(FIELDS)})")
    url = _url(entry.get("url"), f"{where}.url", sqlite=True)
    reads = entry.get("read_urls", [])
    if not isinstance(reads, list):
        raise ConfigError(f"{where}.read_urls: must be a list of postgresql:// URLs")
    read_urls = tuple(_url(u, f"{where}.read_urls[{i}]", sqlite=False)
                      for i, u in enumerate(reads))
    if read_urls and not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"{where}.read_urls: replicas are PostgreSQL's: the url must be a "
                          "postgresql:// URL too")
    keys = entry.get("keys")
    if keys is not None and (not isinstance(keys, str) or not keys.strip()):
        raise ConfigError(f"{where}.keys: must be a folder path (text)")
    inner = entry.get("ledger", name)
    if not isinstance(inner, str) or not inner.strip() or len(inner) > 200:
        raise ConfigError(f"{where}.ledger: must be the ledger's name within the database "
                          "(1-200 characters)")
    return Route(name, url, read_urls, keys, inner)


def _url(value: Any, where: str, *, sqlite: bool) -> str:
    kinds = "sqlite:///… or postgresql://…" if sqlite else "postgresql://…"
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: is required: a database URL ({kinds})")
    prefixes = ("postgresql://", "postgres://", *(("sqlite:///",) if sqlite else ()))
    if not value.startswith(prefixes):
        raise ConfigError(f"{where}: must be a database URL ({kinds})")
    return value
