"""``ledger``: a thin command line over :class:`ledger.app.application.Ledger`.

This module is the parser and the dispatcher; the commands are in
:mod:`ledger.cli.writing` (init, append, erase, policy publish), :mod:`ledger.cli.reading`
(verify, show, log, policy show) and the command plugins (:data:`CORE_COMMAND_MODULES`),
what they share in :mod:`ledger.cli.common`.

Exit codes: 0 success, 1 verification failed, 2 bad input or usage (and
settings), 3 the database failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ledger import __version__
from ledger.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_STORAGE,
    EXIT_USAGE,
    actor_of,
    add_reader_options,
    database_url,
    ledger_name,
    open_ledger,
    positive,
    print_json,
    reader_of,
)
from ledger.cli.reading import cmd_log, cmd_policy_show, cmd_show, cmd_verify
from ledger.cli.writing import (
    cmd_append,
    cmd_erase,
    cmd_init,
    cmd_policy_publish,
    erasure_text,
)
from ledger.errors import (
    ConfigError,
    InputError,
    KeyError_,
    LedgerError,
    PolicyError,
    StorageError,
    VerificationError,
)

# The application (event catalogue, policy, cryptography) is imported by the
# commands that use it: `ledger verify` and `ledger --help` start without it.

# Every name this module had before the commands moved out is still importable from here.
__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_STORAGE", "EXIT_USAGE", "actor_of",
           "add_reader_options", "build_parser", "cmd_append", "cmd_erase", "cmd_init",
           "cmd_log", "cmd_policy_publish", "cmd_policy_show", "cmd_show", "cmd_verify",
           "database_url", "erasure_text", "ledger_name", "main", "open_ledger", "positive",
           "print_json", "reader_of"]


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


def _common(default: Any) -> argparse.ArgumentParser:
    """--db and --ledger, accepted before and after the command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL", default=default,
                        help="sqlite:///path or postgresql://… "
                        "(default: $LEDGER_DATABASE_URL, else sqlite:///ledger.db)")
    common.add_argument("--ledger", metavar="NAME", default=default,
                        help="ledger name within the database (default: $LEDGER_NAME or "
                        "main); with a routing file, the name of its entry")
    common.add_argument("--ledgers", metavar="FILE", default=default,
                        help="routing file ledgers.toml: ledger name -> database, replicas, "
                        "keys (default: $LEDGER_LEDGERS; docs/OPERATIONS.md)")
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

    _add_init_append_verify(add)
    _add_show_log(add)
    _add_erase(add)
    _add_policy(add)
    for register in _core_plugins():
        register(sub, add, sub_common)
    # The entry points (another package's commands) are looked up only when the
    # command is not one of ours: `ledger verify` does not pay for the scan.
    if argv is None or _command_word(argv) not in sub.choices:
        for register in _entry_point_plugins():
            register(sub, add, sub_common)
    return parser


Adder = Callable[..., argparse.ArgumentParser]  # build_parser's ``add``


def _add_init_append_verify(add: Adder) -> None:
    from ledger.cli.proofs import add_verify_options

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
    add_verify_options(sp)


def _add_show_log(add: Adder) -> None:
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


def _add_erase(add: Adder) -> None:
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


def _add_policy(add: Adder) -> None:
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
        if word in ("--db", "--ledger", "--ledgers"):
            next(args, None)
        elif not word.startswith("-"):
            return word
    return None


# Modules of src/ledger that add commands, each with ``register(sub, add, common)``.
CORE_COMMAND_MODULES: tuple[str, ...] = ("ledger.cli.proofs", "ledger.cli.serve",
                                         "ledger.cli.state", "ledger.cli.ledgers",
                                         "ledger.cli.witness")
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
