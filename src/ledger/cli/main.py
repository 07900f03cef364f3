# Over 400 lines (see wc -l): issue 15 splits it by layer (domain/, keys/, app/, cli/); it is kept
# whole this session so that issue 10 lands without moving files (docs/DECISIONS.md 44-45).
"""``ledger``: a thin command line over :class:`ledger.app.application.Ledger`.

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

from ledger import __version__
from ledger.cli.format import WIDTH, Column, Table, plural, shorten
from ledger.errors import (
    ConfigError,
    InputError,
    KeyError_,
    LedgerError,
    PolicyError,
    StorageError,
    VerificationError,
)

if TYPE_CHECKING:
    from ledger.app.application import Ledger
    from ledger.app.erasure_preview import ErasurePreview

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
    from ledger.app.application import Ledger

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
        from ledger.domain.events import CATALOGUE, ERASURE_GROUNDS

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
    with _open(args) as ledger:
        try:
            receipts = ledger.append(raws, default_actor=_actor(args))
        except InputError as exc:
            raise exc.at_line(numbers[exc.line - 1]) if exc.line else exc from None
    for r in receipts:
        print_json(r.as_dict())
    new = sum(r.new for r in receipts)
    print(f"ledger: {new:,} stored, {len(receipts) - new:,} already present (same event_id)",
          file=sys.stderr)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from ledger.cli.proofs import verify_offline, wants_offline_verify

    if wants_offline_verify(args):
        return verify_offline(args)
    progress: Callable[[int], None] | None = None
    if sys.stderr.isatty() and not args.json:
        def progress(n: int) -> None:
            sys.stderr.write(f"\rverified {plural(n, 'entry', 'entries')}…")
            sys.stderr.flush()
    from ledger.app.checking import open_checked_store, verify_store

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
        print(f"OK: {plural(result.entries, 'entry', 'entries')}, head {result.head}")
    else:
        print(f"FAILED at seq {result.first_bad_seq}: {result.reason} "
              f"({plural(result.entries, 'entry', 'entries')} verified before it)")
    return EXIT_OK if result else EXIT_FAILED


def _human(e: dict[str, Any], zone: str) -> str:
    """An entry for people: times in the policy's time zone, with the offset."""
    from ledger.domain.periods import human_time
    from ledger.domain.text_rules import escape_for_display

    subject = f" subject={e['subject'][:12]}…" if e["subject"] else ""
    data = _data_text(e)
    occurred = human_time(e["occurred_at"], zone, seconds=True)
    recorded = human_time(e["recorded_at"], zone, seconds=True)
    return escape_for_display(  # stored text may hold bidi controls (issue 13)
        f"#{e['seq']} {occurred} {e['type']}{subject} actor={e['actor']}\n"
        f"    {data}\n    recorded {recorded} hash {e['hash']}")


def reader_of(args: argparse.Namespace) -> Any:
    """Who reads personal data (``--actor``, ``--reason``): ledger.app.accesses.AccessBy,
    refused before anything is read when a required reason is missing."""
    from ledger.app.accesses import AccessBy, require_reason

    by = AccessBy(actor=_actor(args), channel="cli", reason=getattr(args, "reason", None))
    require_reason(by)
    return by


def cmd_show(args: argparse.Namespace) -> int:
    from ledger.app.accesses import record_reads, subjects_shown

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


# `ledger log`: one row per entry and its data below it, shortened to fit 100 columns
_LOG = Table([Column("SEQ", 7, right=True), Column("OCCURRED", 23), Column("TYPE", 22),
              Column("SUBJECT", 13), Column("ACTOR")])
_DATA_INDENT = 9


def _data_text(e: dict[str, Any]) -> str:
    shown = e["data"]
    if e["type"] == "PolicyPublished":  # the whole document is in --json
        shown = {k: v for k, v in shown.items() if k != "policy"}
    return json.dumps(shown, ensure_ascii=False, separators=(", ", ": "))


def cmd_log(args: argparse.Namespace) -> int:
    from ledger.app.accesses import record_reads, scan_subjects_shown
    from ledger.domain.periods import human_time
    from ledger.domain.text_rules import escape_for_display

    by = reader_of(args)
    printed = 0
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
                continue
            if printed == 0:
                print(_LOG.header())
            subject = f"{entry['subject'][:12]}…" if entry["subject"] else "-"
            print(escape_for_display(_LOG.row([
                entry["seq"], human_time(entry["occurred_at"], zone), entry["type"], subject,
                entry["actor"]])))
            pad = " " * _DATA_INDENT
            if args.full:
                recorded = human_time(entry["recorded_at"], zone, seconds=True)
                print(escape_for_display(f"{pad}{_data_text(entry)}\n{pad}recorded "
                                         f"{recorded} hash {entry['hash']}"))
            else:
                print(escape_for_display(pad + shorten(_data_text(entry),
                                                       WIDTH - _DATA_INDENT)))
            printed += 1
    if not args.json and printed == 0:
        print("ledger: no entry matches", file=sys.stderr)
    return EXIT_OK


def cmd_erase(args: argparse.Namespace) -> int:
    if args.json and not args.dry_run:
        raise InputError("--json", "goes with --dry-run (an erasure prints its receipt as "
                         "JSON)")
    with _open(args) as ledger:
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
                         actor=_actor(args))
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


def cmd_policy_publish(args: argparse.Namespace) -> int:
    from ledger.domain.policy import bundled_policy, load_policy

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
        prog="ledger", parents=[common], formatter_class=ExamplesHelpFormatter,
        description="Hash-chained, crypto-shredded ledger of personal-data processing.",
        epilog="exit codes: 0 ok, 1 verification failed, 2 bad input or usage, "
               "3 database error\ndocs: README.md, docs/\n\n" + _examples(
                   "ledger init && ledger policy publish bundled",
                   "ledger append events.jsonl",
                   "ledger COMMAND --help                # each command's options"))
    parser.add_argument("--version", action="version", version=f"ledger {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str,
            p: Any = sub, examples: Sequence[str] = ()) -> argparse.ArgumentParser:
        sp: argparse.ArgumentParser = p.add_parser(
            name, parents=[sub_common], help=help_, description=help_,
            epilog=_examples(*examples) if examples else None,
            formatter_class=ExamplesHelpFormatter)
        sp.set_defaults(fn=fn)
        return sp

    add("init", cmd_init, "create the schema and the master key (idempotent)",
        examples=["ledger init",
                  "LEDGER_DATABASE_URL=postgresql://me@db:5432/gdpr ledger init"])
    sp = add("append", cmd_append, "append events from JSON Lines, all or nothing",
             examples=["ledger append day.jsonl",
                       "ledger append - --actor crm:import < day.jsonl   # from stdin"])
    sp.add_argument("file", nargs="?", default="-", metavar="FILE|-",
                    help="JSON Lines, one event a line, UTF-8 (- or absent: stdin)")
    sp.add_argument("--actor", help="who appends, when an event names none (default: "
                    "$LEDGER_ACTOR, else cli:<login>)")
    sp = add("verify", cmd_verify, "verify the whole chain",
             examples=["ledger verify", "ledger verify --json --workers 4",
                       "ledger verify --checkpoint kept.txt --incremental",
                       "ledger verify --bundle bundle/ --pubkey ledger.pub"])
    sp.add_argument("--json", action="store_true", help="print one JSON object: ok, "
                    "entries, head, first_bad_seq, reason")
    sp.add_argument("--workers", type=positive, metavar="N",
                    help="processes that share the work (default: one per CPU, "
                    "up to 8, past 50,000 entries)")
    from ledger.cli.proofs import add_verify_options

    add_verify_options(sp)
    sp = add("show", cmd_show, "show one entry whole, decrypted where keys allow",
             examples=["ledger show 2", "ledger show 2 --json"])
    sp.add_argument("seq", type=int, metavar="SEQ", help="the entry's sequence number")
    sp.add_argument("--json", action="store_true", help="print the entry as one JSON object")
    add_reader_options(sp)
    sp = add("log", cmd_log, "list entries, decrypted where keys allow: a table "
             "(data shortened to 100 columns; whole with --json or `ledger show SEQ`)",
             examples=["ledger log --from-seq 2",
                       "ledger log --subject camille.durand@example.fr --full",
                       "ledger log --type BreachDetected --type BreachNotified --json"])
    sp.add_argument("--subject", metavar="REF", help="only this subject's entries: their "
                    "identifier (or pseudonym:<hex>)")
    sp.add_argument("--type", action="append", metavar="TYPE", type=_one_of("type"),
                    help="only this type (repeatable; the types: docs/events.md)")
    sp.add_argument("--from-seq", dest="start", type=positive, default=1, metavar="SEQ",
                    help="start at entry SEQ (default 1); a sequence number, not a time")
    sp.add_argument("--from", dest="start", type=int, action=DeprecatedAlias,
                    new="--from-seq")
    sp.add_argument("--full", action="store_true", help="each entry's data whole, with its "
                    "recording time and hash (lines may pass 100 columns)")
    sp.add_argument("--json", action="store_true", help="one JSON object per entry, whole "
                    "(JSON Lines)")
    add_reader_options(sp)
    sp = add("erase", cmd_erase, "erase a subject: record SubjectErased, destroy their "
             "keys (shows what it destroys and asks first on a terminal)",
             examples=["ledger erase julien.moreau@example.com --dry-run",
                       "ledger erase julien.moreau@example.com --ground objection",
                       "ledger erase julien.moreau@example.com --ground objection "
                       "--request-id REQ-7 --yes   # scripts"])
    sp.add_argument("subject", metavar="SUBJECT", help="the subject's identifier")
    sp.add_argument("--ground", default="no_longer_necessary", type=_one_of("ground"),
                    help="the Art. 17(1) ground (default no_longer_necessary; the "
                    "grounds: docs/events.md, SubjectErased)")
    sp.add_argument("--request-id", metavar="REF", help="the rights request this erasure "
                    "answers (its request_id)")
    sp.add_argument("--actor", help="who erases (default: $LEDGER_ACTOR, else cli:<login>)")
    sp.add_argument("--dry-run", action="store_true", help="show what would be destroyed "
                    "and change nothing (exit 2 if the erasure would be refused)")
    sp.add_argument("--yes", action="store_true", help="do not ask for confirmation "
                    "(required when stdin is not a terminal)")
    sp.add_argument("--json", action="store_true", help="with --dry-run: print what would "
                    "be destroyed as one JSON object")
    policy = add("policy", lambda a: EXIT_USAGE, "show or publish the privacy policy",
                 examples=["ledger policy show", "ledger policy publish bundled"])
    psub = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    sp = add("show", cmd_policy_show, "show a policy (default: the bundled XP² cloud one)",
             psub, examples=["ledger policy show", "ledger policy show my-policy.toml --json"])
    sp.add_argument("file", nargs="?", metavar="FILE", help="a TOML policy (docs/POLICY.md; "
                    "default: the bundled one)")
    sp.add_argument("--json", action="store_true", help="print the policy as JSON, whole")
    sp = add("publish", cmd_policy_publish, "record PolicyPublished for a TOML policy "
             "('bundled' for the bundled one)", psub,
             examples=["ledger policy publish bundled",
                       "ledger policy publish my-policy.toml --actor dpo:jane"])
    sp.add_argument("file", metavar="FILE", help="a TOML policy, or 'bundled'")
    sp.add_argument("--actor", help="who publishes (default: $LEDGER_ACTOR, else "
                    "cli:<login>)")
    for register in _core_plugins():
        register(sub, add, sub_common)
    # The entry points (another package's commands) are looked up only when the
    # command is not one of ours: `ledger verify` does not pay for the scan.
    if argv is None or _command_word(argv) not in sub.choices:
        for register in _entry_point_plugins():
            register(sub, add, sub_common)
    return parser


def _examples(*lines: str) -> str:
    """An epilog: the examples of a command, one a line."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


class ExamplesHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the lines of a text that has several (the examples) as written, and wraps a
    one-line text (a description) to the terminal as argparse does by default."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" not in text:
            return argparse.HelpFormatter._fill_text(self, text, width, indent)
        return super()._fill_text(text, width, indent)


class DeprecatedAlias(argparse.Action):
    """A hidden old spelling of an option: it still works, and says on stderr which
    option replaces it (``new``)."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, new: str,
                 **kwargs: Any) -> None:
        kwargs.setdefault("default", argparse.SUPPRESS)
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)
        self.new = new

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        print(f"ledger: note: {option_string} is deprecated here: use {self.new} "
              "(the same value)", file=sys.stderr)
        setattr(namespace, self.dest, values)


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
CORE_COMMAND_MODULES: tuple[str, ...] = ("ledger.cli.proofs", "ledger.cli.serve",
                                         "ledger.cli.state")
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
