"""``ledger``: a thin command line over :class:`ledger.application.Ledger`.

Exit codes: 0 success, 1 verification failed, 2 bad input or usage (and
settings), 3 the database failed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from . import __version__
from .errors import (
    ConfigError,
    InputError,
    KeyError_,
    LedgerError,
    PolicyError,
    StorageError,
    VerificationError,
)

if TYPE_CHECKING:
    from .application import Ledger

# The application (event catalogue, policy, cryptography) is imported by the
# commands that use it: `ledger verify` and `ledger --help` start without it.

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_STORAGE", "EXIT_USAGE", "add_reader_options",
           "database_url", "ledger_name", "main", "positive", "print_json", "reader_of"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STORAGE = 0, 1, 2, 3


def database_url(args: argparse.Namespace) -> str:
    return str(args.db or os.environ.get("LEDGER_DATABASE_URL") or "sqlite:///ledger.db")


def ledger_name(args: argparse.Namespace) -> str:
    return str(args.ledger or os.environ.get("LEDGER_NAME") or "main")


def _open(args: argparse.Namespace) -> Ledger:
    from .application import Ledger

    return Ledger.open(database_url(args), ledger_name(args))


def _actor(args: argparse.Namespace) -> str:
    if getattr(args, "actor", None):
        return str(args.actor)
    if os.environ.get("LEDGER_ACTOR"):
        return os.environ["LEDGER_ACTOR"]
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return n


def _one_of(what: str) -> Callable[[str], str]:
    """An argparse type accepting an event type or an erasure ground (checked lazily)."""
    def check(text: str) -> str:
        from .events import CATALOGUE, ERASURE_GROUNDS

        allowed = sorted(CATALOGUE) if what == "type" else list(ERASURE_GROUNDS)
        if text not in allowed:
            raise argparse.ArgumentTypeError(
                f"invalid choice: {text!r} (choose from {', '.join(allowed)})")
        return text

    check.__name__ = what
    return check


def print_json(obj: Any, out: TextIO | None = None) -> None:
    out = sys.stdout if out is None else out  # looked up now: redirected stdout is honoured
    out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")


# -- commands ----------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    from .application import Ledger

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
    (:mod:`ledger.json_input`); errors name the line and the field.  A UTF-8 byte
    order mark is ignored at the start of the file only."""
    from .json_input import JsonTextError, decode_utf8, parse_json_text

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
    with _open(args) as ledger:
        try:
            receipts = ledger.append(raws, default_actor=_actor(args))
        except InputError as exc:
            raise exc.at_line(numbers[exc.line - 1]) if exc.line else exc from None
    for r in receipts:
        print_json(r.as_dict())
    new = sum(r.new for r in receipts)
    print(f"ledger: {new} stored, {len(receipts) - new} already present (same event_id)",
          file=sys.stderr)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from .cli_proofs import verify_offline, wants_offline_verify

    if wants_offline_verify(args):
        return verify_offline(args)
    progress: Callable[[int], None] | None = None
    if sys.stderr.isatty() and not args.json:
        def progress(n: int) -> None:
            sys.stderr.write(f"\rverified {n:,} entries…")
            sys.stderr.flush()
    from .checking import open_checked_store, verify_store

    url = database_url(args)
    store, _ = open_checked_store(url, ledger_name(args))  # an auditor needs no master key
    try:
        # this entry point is import-safe, so it may use spawned processes too
        result = verify_store(store, url, ledger_name(args), workers=args.workers, spawn=True,
                              on_progress=progress)
    finally:
        store.close()
    if progress is not None:
        sys.stderr.write("\r\033[K")
    if args.json:
        print_json(result.as_dict())
    elif result:
        print(f"OK: {result.entries} entries, head {result.head}")
    else:
        print(f"FAILED at seq {result.first_bad_seq}: {result.reason} "
              f"({result.entries} entries verified before it)")
    return EXIT_OK if result else EXIT_FAILED


def _human(e: dict[str, Any], zone: str) -> str:
    """An entry for people: times in the policy's time zone, with the offset."""
    from .periods import human_time
    from .text_rules import escape_for_display

    subject = f" subject={e['subject'][:12]}…" if e["subject"] else ""
    shown = e["data"]
    if e["type"] == "PolicyPublished":  # the whole document is in --json
        shown = {k: v for k, v in shown.items() if k != "policy"}
    data = json.dumps(shown, ensure_ascii=False, separators=(", ", ": "))
    occurred = human_time(e["occurred_at"], zone, seconds=True)
    recorded = human_time(e["recorded_at"], zone, seconds=True)
    return escape_for_display(  # stored text may hold bidi controls (issue 13)
        f"#{e['seq']} {occurred} {e['type']}{subject} actor={e['actor']}\n"
        f"    {data}\n    recorded {recorded} hash {e['hash']}")


def reader_of(args: argparse.Namespace) -> Any:
    """Who reads personal data (``--actor``, ``--reason``): ledger.accesses.AccessBy,
    refused before anything is read when a required reason is missing."""
    from .accesses import AccessBy, require_reason

    by = AccessBy(actor=_actor(args), channel="cli", reason=getattr(args, "reason", None))
    require_reason(by)
    return by


def cmd_show(args: argparse.Namespace) -> int:
    from .accesses import record_reads, subjects_shown

    by = reader_of(args)
    with _open(args) as ledger:
        zone = ledger.time_zone()
        entry = ledger.show(args.seq)
        if entry is None:
            raise InputError("SEQ", f"no entry {args.seq} in this ledger")
        record_reads(ledger, by, "show", subjects_shown([entry]), scope=f"seq {args.seq}")
    if args.json:
        print_json(entry)
    else:
        print(_human(entry, zone))
    return EXIT_OK


def cmd_log(args: argparse.Namespace) -> int:
    from .accesses import record_reads, scan_subjects_shown

    by = reader_of(args)
    with _open(args) as ledger:
        zone = ledger.time_zone()
        # first every subject that will be shown is recorded (one append), then the entries
        # up to the head seen before it are shown: the access records are not among them
        until = ledger.head()[0]
        stream = ledger.pseudonym(args.subject) if args.subject is not None else None
        shown = scan_subjects_shown(ledger, start=args.start, stream=stream,
                                    types=args.type or (), until=until)
        scope = "; ".join([f"seq {args.start}..{until}",
                           *([f"types {','.join(args.type)}"] if args.type else [])])
        record_reads(ledger, by, "log", shown, scope=scope)
        for entry in ledger.log(args.subject, start=args.start, types=args.type or (),
                                until=until):
            if args.json:
                print_json(entry)
            else:
                print(_human(entry, zone))
    return EXIT_OK


def cmd_erase(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        r = ledger.erase(args.subject, ground=args.ground, request_id=args.request_id,
                         actor=_actor(args))
    print_json(r.as_dict())
    return EXIT_OK


def cmd_policy_show(args: argparse.Namespace) -> int:
    from .policy import bundled_policy, load_policy

    policy = load_policy(Path(args.file)) if args.file else bundled_policy()
    if args.json:
        print_json(policy.to_json())
        return EXIT_OK
    print(f"{policy.id} version {policy.version} (in force from "
          f"{policy.effective_at:%Y-%m-%d}), controller {policy.controller.name}")
    print(f"time zone {policy.time_zone} (periods counted on the local date there)")
    print(f"minimum age {policy.minimum_age}; breaches notified within "
          f"{policy.breach_notification_hours} h; rights answered within "
          f"{policy.rights_response_months} month(s) (+{policy.rights_extension_months})")
    print("purposes:")
    for p in policy.purposes:
        retention = f", kept {p.retention}" if p.retention else ""
        print(f"  {p.id:28} {p.legal_basis:20} {', '.join(p.categories)}{retention}")
    print("categories:")
    for c in policy.categories:
        retention = f", kept {c.retention}" if c.retention else ""
        print(f"  {c.id:28} {', '.join(c.fields)}{retention}")
    print("recipients:")
    for r in policy.recipients:
        print(f"  {r.id:28} {r.kind:12} {r.country}")
    print("transfers outside the EEA: " + (", ".join(f"{t.recipient} ({t.country})"
                                                    for t in policy.transfers) or "none"))
    return EXIT_OK


def cmd_policy_publish(args: argparse.Namespace) -> int:
    from .policy import bundled_policy, load_policy

    policy = load_policy(Path(args.file)) if args.file != "bundled" else bundled_policy()
    with _open(args) as ledger:
        r = ledger.publish_policy(policy, actor=_actor(args))
    print_json(r.as_dict())
    return EXIT_OK


# -- parser --------------------------------------------------------------------------
def add_reader_options(sp: argparse.ArgumentParser) -> None:
    """--actor and --reason of a command that shows personal values (recorded reads)."""
    sp.add_argument("--actor", help="who reads (default: $LEDGER_ACTOR, else cli:<user>); "
                    "recorded in a PersonalDataAccessed event")
    sp.add_argument("--reason", metavar="TEXT", help="why you read this personal data "
                    "(recorded; no personal data in it); required when "
                    "LEDGER_REQUIRE_ACCESS_REASON=1")


def _common(default: Any) -> argparse.ArgumentParser:
    """--db and --ledger, accepted before and after the command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL", default=default,
                        help="sqlite:///path or postgresql://… "
                        "(default: $LEDGER_DATABASE_URL, else sqlite:///ledger.db)")
    common.add_argument("--ledger", metavar="NAME", default=default,
                        help="ledger name within the database (default: $LEDGER_NAME or main)")
    return common


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given ``argv``, plugins that cannot serve it are not loaded."""
    common = _common(None)
    # After the command, an absent option must not overwrite one given before it.
    sub_common = _common(argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="ledger", parents=[common],
        description="Hash-chained, crypto-shredded ledger of personal-data processing.",
        epilog="Exit codes: 0 ok, 1 verification failed, 2 bad input or usage, "
               "3 database error. Docs: README.md, docs/.")
    parser.add_argument("--version", action="version", version=f"ledger {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str,
            p: Any = sub) -> argparse.ArgumentParser:
        sp: argparse.ArgumentParser = p.add_parser(name, parents=[sub_common], help=help_,
                                                   description=help_)
        sp.set_defaults(fn=fn)
        return sp

    add("init", cmd_init, "create the schema and the master key (idempotent)")
    sp = add("append", cmd_append, "append events from JSON Lines, all or nothing")
    sp.add_argument("file", nargs="?", default="-", metavar="FILE|-")
    sp.add_argument("--actor", help="who appends, when an event names none")
    sp = add("verify", cmd_verify, "verify the whole chain")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--workers", type=positive, metavar="N",
                    help="processes that share the work (default: one per CPU, "
                    "up to 8, past 50,000 entries)")
    from .cli_proofs import add_verify_options

    add_verify_options(sp)
    sp = add("show", cmd_show, "show one entry, decrypted where keys allow")
    sp.add_argument("seq", type=int, metavar="SEQ")
    sp.add_argument("--json", action="store_true")
    add_reader_options(sp)
    sp = add("log", cmd_log, "list entries, decrypted where keys allow")
    sp.add_argument("--subject", metavar="REF", help="a subject's identifier (or "
                    "pseudonym:<hex>)")
    sp.add_argument("--type", action="append", metavar="TYPE", type=_one_of("type"),
                    help="only this type (repeatable; the types: docs/events.md)")
    sp.add_argument("--from", dest="start", type=int, default=1, metavar="SEQ")
    sp.add_argument("--json", action="store_true")
    add_reader_options(sp)
    sp = add("erase", cmd_erase, "erase a subject: record SubjectErased, destroy their keys")
    sp.add_argument("subject", metavar="SUBJECT")
    sp.add_argument("--ground", default="no_longer_necessary", type=_one_of("ground"),
                    help="the Art. 17(1) ground (default no_longer_necessary; the "
                    "grounds: docs/events.md, SubjectErased)")
    sp.add_argument("--request-id", metavar="REF")
    sp.add_argument("--actor")
    policy = add("policy", lambda a: EXIT_USAGE, "show or publish the privacy policy")
    psub = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    sp = add("show", cmd_policy_show, "show a policy (default: the bundled XP² cloud one)",
             psub)
    sp.add_argument("file", nargs="?", metavar="FILE")
    sp.add_argument("--json", action="store_true")
    sp = add("publish", cmd_policy_publish, "record PolicyPublished for a TOML policy "
             "('bundled' for the bundled one)", psub)
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("--actor")
    for register in _core_plugins():
        register(sub, add, sub_common)
    # The entry points (another package's commands) are looked up only when the
    # command is not one of ours: `ledger verify` does not pay for the scan.
    if argv is None or _command_word(argv) not in sub.choices:
        for register in _entry_point_plugins():
            register(sub, add, sub_common)
    return parser


def _command_word(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (the first word that is no option or its value)."""
    args = iter(argv)
    for word in args:
        if word in ("--db", "--ledger"):
            next(args, None)
        elif not word.startswith("-"):
            return word
    return None


# Modules of src/ledger that add commands, each with ``register(sub, add, common)``.
CORE_COMMAND_MODULES: tuple[str, ...] = ("ledger.cli_proofs", "ledger.cli_http")
# Packages outside src/ledger (``projections``) add theirs through this entry-point
# group, so that the write side never imports them (docs/DECISIONS.md).
COMMAND_ENTRY_POINTS = "ledger.commands"

Registrar = Callable[[Any, Callable[..., argparse.ArgumentParser], argparse.ArgumentParser],
                     None]


def _core_plugins() -> list[Registrar]:
    import importlib

    return [importlib.import_module(m).register for m in CORE_COMMAND_MODULES]


def _entry_point_plugins() -> list[Registrar]:
    from importlib.metadata import entry_points

    return [ep.load() for ep in sorted(entry_points(group=COMMAND_ENTRY_POINTS),
                                       key=lambda e: e.name)]


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(words)
    args = parser.parse_args(argv)
    try:
        code: int = args.fn(args)
    except (InputError, PolicyError, ConfigError, KeyError_) as exc:
        print(f"ledger: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except VerificationError as exc:
        print(f"ledger: verification failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except StorageError as exc:
        print(f"ledger: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    except LedgerError as exc:  # pragma: no cover - every subclass is handled above
        print(f"ledger: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
