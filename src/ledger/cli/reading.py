# ruff: noqa: PLC0415  (commands import the application lazily: `ledger --help` stays fast)
"""The read commands of ``ledger``: ``verify`` (on a database), ``show``, ``log`` and
``policy show``.  Each parses its arguments, calls one use case of :mod:`ledger.app` (or
reads a policy file) and prints; reads of personal data are recorded by the use case
(:mod:`ledger.app.reading`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    database_url,
    ledger_name,
    open_ledger,
    print_json,
    reader_of,
    route_of,
)
from ledger.cli.format import WIDTH, Column, Table, data_lines, plural, say, shorten, wrapped

__all__ = ["cmd_log", "cmd_policy_show", "cmd_show", "cmd_verify"]


def cmd_verify(args: argparse.Namespace) -> int:
    from ledger.cli.proofs import verify_offline, wants_offline_verify

    if wants_offline_verify(args):
        return verify_offline(args)
    progress: Callable[[int], None] | None = None
    if sys.stderr.isatty() and not args.json:
        def progress(n: int) -> None:
            sys.stderr.write(f"\rverified {plural(n, 'entry', 'entries')}…")
            sys.stderr.flush()
    from ledger.app.verifying import verify_served
    from ledger.domain.routing import without_password

    route = route_of(args)  # with read_urls: a replica verifies, else the primary
    # this entry point is import-safe, so it may use spawned processes too
    result, by, url = verify_served(database_url(args), ledger_name(args),
                                    route.read_urls if route else (), workers=args.workers,
                                    spawn=True, on_progress=progress)
    if progress is not None:
        sys.stderr.write("\r\033[K")
    served = f" (verified on the {by}, {without_password(url)})" if route else ""
    if args.json:
        print_json({**result.as_dict(), **({"served_by": by} if route else {})})
    elif result:
        say(f"OK: {plural(result.entries, 'entry', 'entries')}, head {result.head}{served}")
    else:
        print(f"FAILED at seq {result.first_bad_seq}: {result.reason} "
              f"({plural(result.entries, 'entry', 'entries')} verified before it)")
    return EXIT_OK if result else EXIT_FAILED


def _human(e: dict[str, Any], zone: str) -> str:
    """An entry for people: times in the policy's time zone, with the offset."""
    from ledger.domain.periods import human_time
    from ledger.domain.text_rules import escape_for_display

    subject = f" subject={e['subject'][:12]}…" if e["subject"] else ""
    occurred = human_time(e["occurred_at"], zone, seconds=True)
    recorded = human_time(e["recorded_at"], zone, seconds=True)
    return escape_for_display(  # stored text may hold bidi controls (issue 13)
        "\n".join([wrapped(f"#{e['seq']} {occurred} {e['type']}{subject} actor={e['actor']}"),
                    *data_lines(_shown_data(e), 4),
                    f"    recorded {recorded}", f"    hash {e['hash']}"]))


def cmd_show(args: argparse.Namespace) -> int:
    from ledger.app.reading import read_entry

    by = reader_of(args)
    with open_ledger(args) as ledger:
        entry, zone = read_entry(ledger, by, args.seq)
    if args.json:
        print_json(entry)
    else:
        print(_human(entry, zone))
    return EXIT_OK


# `ledger log`: one row per entry and its data below it, shortened to fit 100 columns
_LOG = Table([Column("SEQ", 7, right=True), Column("OCCURRED", 23), Column("TYPE", 22),
              Column("SUBJECT", 13), Column("ACTOR")])
_DATA_INDENT = 9


def _shown_data(e: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = e["data"]
    if e["type"] == "PolicyPublished":  # the whole document is in --json
        shown = {k: v for k, v in shown.items() if k != "policy"}
    return shown


def _data_text(e: dict[str, Any]) -> str:
    return json.dumps(_shown_data(e), ensure_ascii=False, separators=(", ", ": "))


def cmd_log(args: argparse.Namespace) -> int:
    from ledger.app.reading import read_log

    by = reader_of(args)
    printed = 0
    with open_ledger(args) as ledger:
        entries, zone = read_log(ledger, by, subject=args.subject, start=args.start,
                                 types=args.type or ())
        for entry in entries:
            if args.json:
                print_json(entry)
                continue
            if printed == 0:
                print(_LOG.header())
            _print_log_entry(entry, zone, full=args.full)
            printed += 1
    if not args.json and printed == 0:
        print("ledger: no entry matches", file=sys.stderr)
    return EXIT_OK


def _print_log_entry(entry: dict[str, Any], zone: str, *, full: bool) -> None:
    """One row of ``ledger log`` and its data below it (whole with ``--full``)."""
    from ledger.domain.periods import human_time
    from ledger.domain.text_rules import escape_for_display

    subject = f"{entry['subject'][:12]}…" if entry["subject"] else "-"
    print(escape_for_display(_LOG.row([
        entry["seq"], human_time(entry["occurred_at"], zone), entry["type"], subject,
        entry["actor"]])))
    pad = " " * _DATA_INDENT
    if full:
        recorded = human_time(entry["recorded_at"], zone, seconds=True)
        print(escape_for_display("\n".join([*data_lines(_shown_data(entry), _DATA_INDENT),
                                            f"{pad}recorded {recorded}",
                                            f"{pad}hash {entry['hash']}"])))
    else:
        print(escape_for_display(pad + shorten(_data_text(entry), WIDTH - _DATA_INDENT)))


_POLICY_PURPOSES = Table([Column("PURPOSE", 28), Column("LEGAL BASIS", 20), Column("KEPT", 8),
                          Column("CATEGORIES")], indent=2)
_POLICY_CATEGORIES = Table([Column("CATEGORY", 28), Column("KEPT", 8), Column("FIELDS")],
                           indent=2)
_POLICY_RECIPIENTS = Table([Column("RECIPIENT", 28), Column("KIND", 12), Column("COUNTRY")],
                           indent=2)


def cmd_policy_show(args: argparse.Namespace) -> int:
    from ledger.domain.policy import bundled_policy, load_policy

    policy = load_policy(Path(args.file)) if args.file else bundled_policy()
    if args.json:
        print_json(policy.to_json())
        return EXIT_OK
    print(f"{policy.id} version {policy.version} (in force from "
          f"{policy.effective_at:%Y-%m-%d}), controller {policy.controller.name}")
    print(f"time zone {policy.time_zone} (periods counted on the local date there)")
    print(f"minimum age {policy.minimum_age}; breaches notified within "
          f"{policy.breach_notification_hours} h")
    print(f"rights requests answered within {plural(policy.rights_response_months, 'month')}"
          f", extensible by {plural(policy.rights_extension_months, 'month')}")
    print("purposes:")
    for line in _POLICY_PURPOSES.lines([(p.id, p.legal_basis, p.retention or "-",
                                         ", ".join(p.categories)) for p in policy.purposes]):
        print(line)
    print("categories:")
    for line in _POLICY_CATEGORIES.lines([(c.id, c.retention or "-", ", ".join(c.fields))
                                          for c in policy.categories]):
        print(line)
    print("recipients:")
    for line in _POLICY_RECIPIENTS.lines([(r.id, r.kind, r.country)
                                          for r in policy.recipients]):
        print(line)
    print("transfers outside the EEA: " + (", ".join(f"{t.recipient} ({t.country})"
                                                    for t in policy.transfers) or "none"))
    return EXIT_OK

