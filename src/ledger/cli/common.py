# ruff: noqa: PLC0415  (the application is imported when a command runs: --help stays fast)
"""What every command of ``ledger`` shares: exit codes, the database and ledger it names,
who it acts as, JSON output, the options of a read of personal data.

Imported by the command modules (:mod:`ledger.cli.writing`, :mod:`ledger.cli.reading`,
the plugins) and re-exported by :mod:`ledger.cli.main`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ledger.app.accesses import AccessBy
    from ledger.app.application import Ledger
    from ledger.domain.routing import Route

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_STORAGE", "EXIT_USAGE", "actor_of",
           "add_reader_options", "database_url", "ledger_name", "open_ledger", "positive",
           "print_json", "reader_of", "route_of", "routing_file"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STORAGE = 0, 1, 2, 3


def routing_file(args: argparse.Namespace) -> str | None:
    """The routing file in use (``--ledgers FILE``, else ``$LEDGER_LEDGERS``), if any."""
    return getattr(args, "ledgers", None) or os.environ.get("LEDGER_LEDGERS") or None


def route_of(args: argparse.Namespace) -> Route | None:
    """With a routing file, the entry ``--ledger NAME`` (or ``$LEDGER_NAME``) selects (the
    file's only one without a name); None without a routing file (today's meaning)."""
    path = routing_file(args)
    if path is None:
        return None
    from ledger.app.routing import load_routing, pick_route
    from ledger.errors import ConfigError

    if getattr(args, "db", None):
        raise ConfigError("--db: cannot be used with a routing file (--ledgers or "
                          "LEDGER_LEDGERS): the file names each ledger's database")
    route = pick_route(load_routing(path), getattr(args, "ledger", None)
                       or os.environ.get("LEDGER_NAME"), path)
    if route.keys is not None:  # one command, one ledger: its key folder for this process
        os.environ["LEDGER_KEY_DIR"] = route.keys
    return route


def database_url(args: argparse.Namespace) -> str:
    route = route_of(args)
    if route is not None:
        return route.url
    return str(args.db or os.environ.get("LEDGER_DATABASE_URL") or "sqlite:///ledger.db")


def ledger_name(args: argparse.Namespace) -> str:
    route = route_of(args)
    if route is not None:
        return route.ledger
    return str(args.ledger or os.environ.get("LEDGER_NAME") or "main")


def open_ledger(args: argparse.Namespace) -> Ledger:
    """The ledger the command names (--db, --ledger), with its master key."""
    from ledger.app.application import Ledger

    return Ledger.open(database_url(args), ledger_name(args))


def actor_of(args: argparse.Namespace) -> str:
    """Who the command acts as (:func:`ledger.app.actors.cli_actor` of ``--actor``)."""
    from ledger.app.actors import cli_actor

    return cli_actor(getattr(args, "actor", None))


def reader_of(args: argparse.Namespace) -> AccessBy:
    """Who reads personal data (``--actor``, ``--reason``): ledger.app.accesses.AccessBy,
    refused before anything is read when a required reason is missing."""
    from ledger.app.actors import cli_reader

    return cli_reader(getattr(args, "actor", None), getattr(args, "reason", None))


def positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return n


def print_json(obj: Any, out: TextIO | None = None) -> None:
    out = sys.stdout if out is None else out  # looked up now: redirected stdout is honoured
    out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")


def add_reader_options(sp: argparse.ArgumentParser) -> None:
    """--actor and --reason of a command that shows personal values (recorded reads)."""
    sp.add_argument("--actor", help="who reads (default: $LEDGER_ACTOR, else cli:<user>); "
                    "recorded in a PersonalDataAccessed event")
    sp.add_argument("--reason", metavar="TEXT", help="why you read this personal data "
                    "(recorded; no personal data in it); required when "
                    "LEDGER_REQUIRE_ACCESS_REASON=1")
