# ruff: noqa: PLC0415  (commands import the application lazily: `ledger --help` stays fast)
"""The write commands of ``ledger``: ``init``, ``append``, ``erase`` and ``policy
publish``.  Each parses its input, calls one use case of the application
(:class:`ledger.app.application.Ledger`) and prints the receipts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ledger.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    actor_of,
    database_url,
    ledger_name,
    open_ledger,
    print_json,
)
from ledger.cli.format import WIDTH, plural
from ledger.errors import InputError

if TYPE_CHECKING:
    from ledger.app.erasure_preview import ErasurePreview

__all__ = ["cmd_append", "cmd_erase", "cmd_init", "cmd_policy_publish", "erasure_text"]


def cmd_init(args: argparse.Namespace) -> int:
    from ledger.app.application import Ledger

    ledger, what = Ledger.init(database_url(args), ledger_name(args))
    ledger.close()
    print(what)
    return EXIT_OK


def _read_lines(source: str) -> Iterator[tuple[int, bytes]]:
    """Non-blank lines of the batch as bytes (decoded per line: errors name the line)."""
    if source == "-":
        stream: BinaryIO = sys.stdin.buffer
    else:
        try:
            stream = Path(source).open("rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InputError("FILE", f"cannot be read ({exc.strerror})") from None
    try:
        for number, raw in enumerate(stream, start=1):
            if raw.strip():
                yield number, raw
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def _parse_line(raw: bytes, number: int) -> object:
    """One line of a batch: UTF-8 only, no duplicate keys, bounded nesting
    (:mod:`ledger.domain.json_input`); errors name the line and the field.  A UTF-8 byte
    order mark is ignored at the start of the file only."""
    from ledger.domain.json_input import JsonTextError, decode_utf8, parse_json_text

    if number > 1 and raw.startswith(b"\xef\xbb\xbf"):
        raise InputError("event", "must not start with a byte order mark (only the file's "
                         "first line may)", line=number)
    try:
        return parse_json_text(decode_utf8(raw))
    except JsonTextError as exc:
        raise InputError(exc.path or "event", exc.rule, line=number) from None


def cmd_append(args: argparse.Namespace) -> int:
    numbers: list[int] = []
    raws: list[object] = []
    for number, text in _read_lines(args.file):
        raws.append(_parse_line(text, number))
        numbers.append(number)
    with open_ledger(args) as ledger:
        try:
            receipts = ledger.append(raws, default_actor=actor_of(args))
        except InputError as exc:
            raise exc.at_line(numbers[exc.line - 1]) if exc.line else exc from None
    for r in receipts:
        print_json(r.as_dict())
    new = sum(r.new for r in receipts)
    print(f"ledger: {new:,} stored, {len(receipts) - new:,} already present (same event_id)",
          file=sys.stderr)
    return EXIT_OK


def cmd_erase(args: argparse.Namespace) -> int:
    if args.json and not args.dry_run:
        raise InputError("--json", "goes with --dry-run (an erasure prints its receipt as "
                         "JSON)")
    with open_ledger(args) as ledger:
        preview = ledger.erasure_preview(args.subject)
        if args.dry_run:
            if args.json:
                print_json(preview.as_dict())
            else:
                print(erasure_text(preview, "would"))
        if preview.blocked:
            raise InputError("SUBJECT", preview.blocked)
        if args.dry_run:
            return EXIT_OK
        if not args.yes and not _confirmed(preview):
            print("ledger: not erased (the answer was not 'yes')", file=sys.stderr)
            return EXIT_USAGE
        r = ledger.erase(args.subject, ground=args.ground, request_id=args.request_id,
                         actor=actor_of(args))
    print_json(r.as_dict())
    print(f"ledger: erased at seq {r.seq}: {plural(preview.keys, 'data key')} destroyed, "
          f"{plural(preview.unreadable_after, 'entry', 'entries')} now read [erased]",
          file=sys.stderr)
    return EXIT_OK


def _confirmed(preview: ErasurePreview) -> bool:
    """Ask on the terminal (stdout stays for the receipt); refuse without one."""
    if not sys.stdin.isatty():
        raise InputError("--yes", "is required when stdin is not a terminal: erasure "
                         "cannot be undone (--dry-run shows what it would destroy)")
    sys.stderr.write(erasure_text(preview, "will") + "\nThis cannot be undone. "
                     "Type yes to erase: ")
    sys.stderr.flush()
    try:
        return sys.stdin.readline().strip().lower() == "yes"
    except KeyboardInterrupt:  # Ctrl-C is a no
        sys.stderr.write("\n")
        return False


def erasure_text(preview: ErasurePreview, mood: str) -> str:
    """What an erasure destroys, for people: counts and names, no personal value."""
    import textwrap

    if preview.events == 0:
        return (f"Subject {preview.pseudonym[:12]}… (pseudonym) is unknown to this ledger: "
                "nothing to erase")
    lines = [f"Erasing subject {preview.pseudonym[:12]}… (pseudonym) {mood} destroy "
             f"{plural(preview.keys, 'data key')}:"]
    if preview.categories:
        lines.append("  categories of data: " + ", ".join(preview.categories))
    if "subject" in preview.scopes:
        lines.append("  and the personal fields of its events (evidence, guardian…)")
    by_type = ", ".join(f"{t} {n}" for t, n in preview.by_type.items())
    lines += textwrap.wrap(f"events of this subject: {preview.events} ({by_type or 'none'})",
                           WIDTH, initial_indent="  ", subsequent_indent="    ")
    lines.append(f"  {plural(preview.unreadable_after, 'entry', 'entries')} {mood} then "
                 "read [erased]; the chain and its hashes stay as they are")
    if preview.holds:
        lines.append("  active legal holds: " + ", ".join(preview.holds))
    if preview.blocked:
        lines.append(f"  refused: {preview.blocked}")
    return "\n".join(lines)


def cmd_policy_publish(args: argparse.Namespace) -> int:
    from ledger.domain.policy import bundled_policy, load_policy

    policy = load_policy(Path(args.file)) if args.file != "bundled" else bundled_policy()
    with open_ledger(args) as ledger:
        r = ledger.publish_policy(policy, actor=actor_of(args))
    print_json(r.as_dict())
    return EXIT_OK

