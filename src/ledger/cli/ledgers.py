# ruff: noqa: PLC0415  (commands import their modules lazily: `ledger --help` stays fast)
"""``ledger ledgers``: the ledgers of the routing file, where they live, their heads.

A command plugin (``register(sub, add, common)``, named in
``ledger.cli.main.CORE_COMMAND_MODULES``).  The routing file: ``--ledgers FILE`` or
``$LEDGER_LEDGERS`` (:mod:`ledger.domain.routing`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ledger.cli.common import EXIT_OK, EXIT_STORAGE, print_json, routing_file
from ledger.cli.format import Column, Table

__all__ = ["register"]

_LEDGERS = Table([Column("NAME", 20), Column("LEDGER", 12), Column("HEAD", 9),
                  Column("REPLICAS", 8), Column("URL")])


def cmd_ledgers(args: argparse.Namespace) -> int:
    from ledger.app.routing import ledgers_in
    from ledger.errors import ConfigError

    path = routing_file(args)
    if path is None:
        raise ConfigError("--ledgers: no routing file: give --ledgers FILE or set "
                          "LEDGER_LEDGERS (docs/OPERATIONS.md, \"Scaling out\")")
    rows = ledgers_in(path)
    if args.json:
        for row in rows:
            print_json(row)
    else:
        for line in _LEDGERS.lines([
                (r["name"], r["ledger"], "?" if r["head_seq"] is None else str(r["head_seq"]),
                 str(len(r["read_urls"])), r["url"]) for r in rows]):
            print(line)
        for r in rows:
            if r["error"]:
                print(f"ledger: {r['name']}: {r['error']}")
    return EXIT_STORAGE if any(r["error"] for r in rows) else EXIT_OK


def register(sub: Any, add: Callable[..., argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    sp = add("ledgers", cmd_ledgers, "list the ledgers of the routing file (--ledgers FILE "
             "or $LEDGER_LEDGERS): name, name within the database, head, replicas, URL "
             "(without password)",
             examples=["ledger --ledgers ledgers.toml ledgers",
                       "ledger ledgers --json   # one object per ledger, with head_hash"])
    sp.add_argument("--json", action="store_true", help="one JSON object per ledger "
                    "(JSON Lines)")
