# ruff: noqa: PLC0415  (commands import their modules lazily: `ledger --help` stays fast)
"""Commands of the folded stream state (issue 15): ``ledger state rebuild`` and
``ledger state check``.  Neither needs the master key: the state holds no personal
value (ledger.app.stream_state)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ledger.cli.format import plural
from ledger.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE, database_url, ledger_name, print_json

__all__ = ["register"]


def cmd_state_rebuild(args: argparse.Namespace) -> int:
    from ledger.app.stream_state import rebuild_state_at

    built = rebuild_state_at(database_url(args), ledger_name(args))
    if args.json:
        print_json({"streams": built})
    else:
        print(f"stream state rebuilt from the chain: {plural(built, 'stream')}")
    return EXIT_OK


def cmd_state_check(args: argparse.Namespace) -> int:
    from ledger.app.stream_state import check_state_at

    result = check_state_at(database_url(args), ledger_name(args))
    if args.json:
        print_json(result.as_dict())
    elif result.same:
        print(f"stream state: same as a replay of the chain "
              f"({plural(result.streams, 'stream')}, head {result.head})")
    else:
        print(f"stream state: differs from a replay of the chain "
              f"({plural(len(result.differences), 'difference')}); run "
              "`ledger state rebuild`")
        for line in result.differences:
            print(f"  {line}")
    return EXIT_OK if result.same else EXIT_FAILED


def register(sub: Any, add: Callable[..., argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    state = add("state", lambda a: EXIT_USAGE, "check or rebuild the folded stream state "
                "the rules read on append", examples=["ledger state check",
                                                      "ledger state rebuild"])
    ssub = state.add_subparsers(dest="state_command", metavar="ACTION", required=True)
    sp = add("check", cmd_state_check, "compare the stream state with a replay of the "
             "chain (exit 1 if they differ)", ssub,
             examples=["ledger state check", "ledger state check --json"])
    sp.add_argument("--json", action="store_true", help="print one JSON object: same, "
                    "head, built_seq, streams, choices, differences")
    sp = add("rebuild", cmd_state_rebuild, "build the stream state again from the chain",
             ssub, examples=["ledger state rebuild", "ledger state rebuild --json"])
    sp.add_argument("--json", action="store_true", help="print one JSON object: streams")
