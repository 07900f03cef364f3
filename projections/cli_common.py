"""What the read commands share (projections/cli_*.py): a Reader per command, the time
options and their parsing, the policy's time zone for people's times, short subjects,
table cells, writing a document out, database errors as the ledger's StorageError."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.cli.main import database_url, ledger_name
from ledger.domain.text_rules import escape_for_display

__all__ = ["JSON_HELP", "TIMES", "UNKNOWN", "Command", "as_of_text", "cell", "frame_of",
           "frame_options", "guarded", "json_option", "local_time", "open_reader",
           "say_unknown", "short", "time_of", "wall", "write_out", "zone_of"]

Command = Callable[[argparse.Namespace], int]


def open_reader(args: argparse.Namespace, *, with_key: bool = False) -> Any:
    from .queries import Reader

    return Reader(database_url(args), ledger_name(args), with_key=with_key)


def time_of(args: argparse.Namespace, attr: str, flag: str, *,
            start_of_day: bool = False) -> str | None:
    """An option's time as UTC text: a bare date is that day in the policy's time zone."""
    from .queries import parse_when

    return parse_when(getattr(args, attr, None), flag, start_of_day=start_of_day,
                      zone=lambda: zone_of(args))


def frame_of(args: argparse.Namespace) -> dict[str, str | None]:
    """``as_of``, ``known_at`` and the old ``at`` of a register command, parsed."""
    return {"as_of": time_of(args, "as_of", "--as-of"),
            "known_at": time_of(args, "known_at", "--known-at"),
            "at": time_of(args, "at", "--at")}


# How people give times (the help of every time option).
TIMES = ("times (T, K): RFC 3339 with an offset, exact (2026-03-03T10:00:00+01:00),\n"
         "or a date YYYY-MM-DD: that day in the policy's time zone (its start for\n"
         "--from, its end for the other options)")
JSON_HELP = "one JSON document (times in UTC) instead of the text for people"


def frame_options(sp: argparse.ArgumentParser, what: str) -> None:
    sp.add_argument("--as-of", metavar="T", help=f"{what} as they stood at T, from the "
                    "events that occurred by T (default: now); a date: the end of that day")
    sp.add_argument("--known-at", metavar="K", help="only from events recorded by K "
                    "(with --as-of: what was known at K about T)")
    sp.add_argument("--at", metavar="T", help="deprecated: the old name of --as-of")


def json_option(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true", help=JSON_HELP)


def as_of_text(doc: dict[str, Any], zone: str) -> str:
    known = f" as known at {local_time(doc['known_at'], zone)}" if doc.get("known_at") else ""
    return f"{local_time(doc['at'], zone)}{known}"


UNKNOWN = "no entry for this subject in the ledger"


def say_unknown(doc: dict[str, Any], what: str) -> bool:
    """Says so when the subject asked about has no entry in the ledger (exit code 0: the
    answer is that there is nothing; docs/DECISIONS.md 41)."""
    if doc.get("known", True):
        return False
    subject = f" of subject {short(doc['subject'])}" if doc.get("subject") else ""
    print(f"{what}{subject}: {UNKNOWN}")
    return True


def guarded(fn: Command) -> Command:
    """Database errors from SQLAlchemy become the ledger's StorageError (exit code 3)."""
    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return fn(args)
        except SQLAlchemyError as exc:
            from ledger.errors import StorageError

            raise StorageError(f"database error in the projections: "
                               f"{type(getattr(exc, 'orig', None) or exc).__name__}") from exc
    return run


def short(subject: str | None) -> str:
    return f"{subject[:12]}…" if subject else "-"


def zone_of(args: argparse.Namespace) -> str:
    """The time zone of the policy in force now: human output shows times there (read
    once per command)."""
    cached = getattr(args, "_policy_zone", None)
    if cached is None:
        cached = args._policy_zone = _policy_zone(args)
    return str(cached)


def _policy_zone(args: argparse.Namespace) -> str:
    from ledger.app.checking import open_checked_store
    from ledger.app.policies import load_policies

    from .queries import now_text

    store, _ = open_checked_store(database_url(args), ledger_name(args))
    try:
        return load_policies(store).time_zone(now_text())
    finally:
        store.close()


def local_time(text: str | None, zone: str, *, seconds: bool = False) -> str:
    """A ledger time (UTC) for people, in ``zone`` with its offset; ``-`` for none."""
    from ledger.domain.periods import human_time

    return human_time(text, zone, seconds=seconds) if text else "-"


def wall(text: str | None, zone: str) -> str:
    """A ledger time as the wall clock in ``zone`` (``2026-03-03 10:12``) for a table
    whose title names the zone; ``-`` for none."""
    return local_time(text, zone)[:16] if text else "-"


def cell(text: object) -> str:
    """Stored text for a table cell: bidi and format characters shown escaped."""
    return escape_for_display(str(text)) if text is not None else "-"


def write_out(data: bytes, path: str | None) -> None:
    if path is None or path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        from ledger.errors import InputError

        raise InputError("-o", f"cannot be written ({exc.strerror})") from None
