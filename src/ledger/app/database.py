"""What the read side (projections) may know of the ledger's database URL.

Plug-ins build on :mod:`ledger.app`, never on :mod:`ledger.storage` (import-linter):
this is their door to the one URL rule of the store.
"""

from __future__ import annotations

__all__ = ["postgres_schema"]


def postgres_schema(url: str) -> str:
    """The schema a PostgreSQL URL names (``?schema=``, default ``public``), validated as
    the store validates it: a ConfigError names LEDGER_DATABASE_URL and the rule."""
    # PostgreSQL only: the driver is imported when such a URL is used
    from ledger.storage.postgres import parse_postgres_url  # noqa: PLC0415

    return str(parse_postgres_url(url)["schema"])
