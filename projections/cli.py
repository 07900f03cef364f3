"""The read commands: registered into ``ledger`` through the ``ledger.commands`` entry point.

``register(sub, add, common)`` adds: ``projections status|rebuild``, ``consent``,
``retention``, ``requests``, ``breaches``, ``export``, ``ropa``, ``replay``.
Each command is a thin layer over :class:`projections.queries.Reader`: human
text by default, the same dict as one JSON document with ``--json``.
Nothing heavy is imported until a command runs (``ledger --help`` stays fast).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.cli import database_url, ledger_name, print_json
from ledger.text_rules import escape_for_display

__all__ = ["register"]

Command = Callable[[argparse.Namespace], int]


def _reader(args: argparse.Namespace, *, with_key: bool = False) -> Any:
    from .queries import Reader

    return Reader(database_url(args), ledger_name(args), with_key=with_key)


def _when(args: argparse.Namespace, attr: str, flag: str, *,
          start_of_day: bool = False) -> str | None:
    from .queries import parse_when

    return parse_when(getattr(args, attr, None), flag, start_of_day=start_of_day)


def _guarded(fn: Command) -> Command:
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


def _short(subject: str | None) -> str:
    return f"{subject[:12]}…" if subject else "-"


# -- projections ----------------------------------------------------------------------
def cmd_status(args: argparse.Namespace) -> int:
    with _reader(args) as r:
        rows = r.status()
    if args.json:
        print_json({"projections": rows})
        return 0
    print(f"{'projection':12} {'position':>10} {'head':>10} {'lag':>10}  state")
    for s in rows:
        state = "stale (code changed: rebuilt on next read)" if s["stale"] else (
            "up to date" if s["lag"] == 0 else "behind")
        print(f"{s['projection']:12} {s['position']:>10,} {s['head']:>10,} {s['lag']:>10,}  "
              f"{state}")
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    import time

    progress: Callable[[int, int], None] | None = None
    if sys.stderr.isatty() and not args.json:
        def progress(done: int, head: int) -> None:
            width = 30
            filled = width * done // head if head else width
            sys.stderr.write(f"\rrebuilding [{'#' * filled}{'.' * (width - filled)}] "
                             f"{done:,}/{head:,} entries")
            sys.stderr.flush()
    names = [args.name] if args.name else None
    with _reader(args) as r:
        t0 = time.perf_counter()
        from ledger.checking import guard

        applied = guard(lambda: r.projector.rebuild(names, on_progress=progress))
        took = time.perf_counter() - t0
        rows = r.status()
    if progress is not None:
        sys.stderr.write("\r\033[K")
    chosen = [s for s in rows if names is None or s["projection"] in names]
    if args.json:
        print_json({"rebuilt": [s["projection"] for s in chosen], "entries": applied,
               "seconds": round(took, 3), "projections": chosen})
    else:
        print(f"rebuilt {', '.join(s['projection'] for s in chosen)} from {applied:,} "
              f"entries in {took:.2f} s")
    return 0


# -- consent --------------------------------------------------------------------------
def cmd_consent(args: argparse.Namespace) -> int:
    as_of, known_at = _when(args, "as_of", "--as-of"), _when(args, "known_at", "--known-at")
    with _reader(args, with_key=not args.subject.startswith("pseudonym:")) as r:
        doc = r.consent(args.subject, as_of=as_of, known_at=known_at)
    if args.json:
        print_json(doc)
        return 0
    when = []
    if as_of:
        when.append(f"as of {as_of}")
    if known_at:
        when.append(f"as known at {known_at}")
    print(f"consent of subject {_short(doc['subject'])} {' '.join(when) or 'now'} "
          f"(policy {doc['policy_version'] or 'none known then'})")
    for p in doc["purposes"]:
        if p["status"] == "none":
            print(f"  {p['purpose']:28} none")
        else:
            print(f"  {p['purpose']:28} {p['status']:9} since {p['since']} "
                  f"(policy {p['policy_version']}, #{p['seq']}, recorded {p['recorded_at']})")
    return 0


# -- retention, requests, breaches ------------------------------------------------------------
def cmd_retention(args: argparse.Namespace) -> int:
    with _reader(args, with_key=bool(args.subject)) as r:
        doc = r.retention(at=_when(args, "at", "--at"),
                          due_before=_when(args, "due_before", "--due-before"),
                          status=args.status, subject=args.subject)
    if args.json:
        print_json(doc)
        return 0
    print(f"retention at {doc['at']}: " + ", ".join(f"{n} {s}" for s, n in
                                                    doc["counts"].items()))
    for i in doc["items"]:
        print(f"  #{i['seq']:<8} {_short(i['subject']):14} {i['category']:28} "
              f"{i['purpose']:22} collected {i['collected_at'][:10]} "
              f"deadline {(i['deadline'] or 'none')[:10]:10} {i['status']}")
    return 0


def cmd_requests(args: argparse.Namespace) -> int:
    with _reader(args) as r:
        doc = r.requests(at=_when(args, "at", "--at"), open_only=args.open,
                         overdue_only=args.overdue)
    if args.json:
        print_json(doc)
        return 0
    print(f"rights requests at {doc['at']}: {len(doc['requests'])}")
    for q in doc["requests"]:
        flag = " OVERDUE" if q["overdue"] else (" answered late" if q["answered_late"] else "")
        print(f"  {q['request_id']:20} {q['right']:14} {_short(q['subject']):14} received "
              f"{q['received_at'][:10]} due {q['due_at'][:10]} {q['status']}{flag}")
    return 0


def cmd_breaches(args: argparse.Namespace) -> int:
    with _reader(args) as r:
        doc = r.breaches(at=_when(args, "at", "--at"))
    if args.json:
        print_json(doc)
        return 0
    print(f"breach register at {doc['at']}: {len(doc['breaches'])}")
    for b in doc["breaches"]:
        notified = b["notified_at"] or "not notified"
        missing = ", ".join(b["missing"]) or "none"
        print(escape_for_display(  # stored text may hold bidi controls (issue 13)
            f"  {b['breach_id']:20} discovered {b['discovered_at']} notified {notified} "
            f"({b['hours_elapsed']} h) {b['status']}; Art. 33(3) missing: {missing}"))
    return 0


# -- export, ropa, replay ------------------------------------------------------------------
def _write(data: bytes, path: str | None) -> None:
    if path is None or path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        from ledger.errors import InputError

        raise InputError("-o", f"cannot be written ({exc.strerror})") from None


def cmd_export(args: argparse.Namespace) -> int:
    from .portability import export_zip

    if args.format == "csv" and (args.output is None or args.output == "-") \
            and sys.stdout.isatty():
        from ledger.errors import InputError

        raise InputError("-o", "is required for --format csv (a zip file) on a terminal")
    with _reader(args, with_key=True) as r:
        doc = r.export(args.subject)
    if args.format == "json":
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
        _write(text.encode("utf-8"), args.output)
    else:
        _write(export_zip(doc), args.output)
    if args.output not in (None, "-"):
        print(f"export of subject {_short(doc['subject'])} written to {args.output} "
              f"({len(doc['events'])} entries{', erased' if doc['erased'] else ''})",
              file=sys.stderr)
    return 0


def cmd_ropa(args: argparse.Namespace) -> int:
    from .ropa import ropa_markdown

    with _reader(args) as r:
        doc = r.ropa(at=_when(args, "at", "--at"))
    if args.format == "json":
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    else:
        text = ropa_markdown(doc)
    _write(text.encode("utf-8"), args.output)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    with _reader(args, with_key=True) as r:
        doc = r.replay(subject=args.subject,
                       start=_when(args, "start", "--from", start_of_day=True),
                       end=_when(args, "end", "--to"), types=args.type or ())
    if args.json:
        print_json(doc)
        return 0 if doc["verification"]["ok"] else 1
    for e in doc["entries"]:
        data = e["data"]
        if e["type"] == "PolicyPublished":
            data = {k: v for k, v in data.items() if k != "policy"}
        print(escape_for_display(
            f"#{e['seq']} {e['occurred_at']} {e['type']} subject={_short(e['subject'])} "
            f"actor={e['actor']}\n    {json.dumps(data, ensure_ascii=False)}\n"
            f"    recorded {e['recorded_at']} hash {e['hash']}"))
    v = doc["verification"]
    if v["ok"]:
        print(f"verified: entries 1..{v['checked'][-1] if v['checked'] else 0} "
              f"({v['entries']} entries) chain intact")
        return 0
    print(f"VERIFICATION FAILED at seq {v['first_bad_seq']}: {v['reason']}")
    return 1


# -- registration ---------------------------------------------------------------------------
def register(sub: Any, add: Callable[..., argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add the read commands to ``ledger`` (called by ``ledger.cli.build_parser``)."""
    names = ("consent", "retention", "requests", "breaches", "disclosures")
    proj = add("projections", lambda a: 2, "status and rebuild of the read models")
    psub = proj.add_subparsers(dest="projections_command", metavar="ACTION", required=True)
    sp = add("status", _guarded(cmd_status), "each projection's position and lag", psub)
    sp.add_argument("--json", action="store_true")
    sp = add("rebuild", _guarded(cmd_rebuild), "drop and rebuild projections from the ledger",
             psub)
    sp.add_argument("name", nargs="?", choices=names, metavar="NAME",
                    help=f"one of {', '.join(names)} (default: all)")
    sp.add_argument("--json", action="store_true")

    sp = add("consent", _guarded(cmd_consent), "a subject's consent per purpose, "
             "bitemporal (--as-of valid time, --known-at recording time)")
    sp.add_argument("subject", metavar="SUBJECT", help="identifier or pseudonym:<hex>")
    sp.add_argument("--as-of", metavar="T", help="state from events that occurred by T")
    sp.add_argument("--known-at", metavar="T", help="only events recorded by T")
    sp.add_argument("--json", action="store_true")

    sp = add("retention", _guarded(cmd_retention), "collected items and their retention "
             "deadlines")
    sp.add_argument("--due-before", metavar="T", help="deadline at or before T, not erased")
    sp.add_argument("--status", choices=("active", "due", "overdue", "held", "erased",
                                         "anonymised"))
    sp.add_argument("--subject", metavar="REF")
    sp.add_argument("--at", metavar="T", help="evaluate statuses at T (default: now)")
    sp.add_argument("--json", action="store_true")

    sp = add("requests", _guarded(cmd_requests), "rights requests, due dates and overdue ones")
    sp.add_argument("--open", action="store_true", help="not yet answered")
    sp.add_argument("--overdue", action="store_true", help="open past the due date")
    sp.add_argument("--at", metavar="T", help="evaluate at T (default: now)")
    sp.add_argument("--json", action="store_true")

    sp = add("breaches", _guarded(cmd_breaches), "the breach register (Art. 33(5))")
    sp.add_argument("--at", metavar="T", help="evaluate at T (default: now)")
    sp.add_argument("--json", action="store_true")

    sp = add("export", _guarded(cmd_export), "a subject's data export (Art. 15, 20)")
    sp.add_argument("subject", metavar="SUBJECT")
    sp.add_argument("--format", choices=("json", "csv"), default="json",
                    help="json (one document) or csv (a zip of one CSV per table)")
    sp.add_argument("-o", "--output", metavar="PATH", help="file to write (default: stdout)")

    sp = add("ropa", _guarded(cmd_ropa), "the record of processing activities (Art. 30)")
    sp.add_argument("--format", choices=("json", "md"), default="md")
    sp.add_argument("--at", metavar="T", help="policy in force at T (default: now)")
    sp.add_argument("-o", "--output", metavar="PATH")

    sp = add("replay", _guarded(cmd_replay), "history in order, decrypted, with the chain "
             "verified up to the last entry shown")
    sp.add_argument("--subject", metavar="REF")
    sp.add_argument("--from", dest="start", metavar="T", help="occurred at or after T")
    sp.add_argument("--to", dest="end", metavar="T", help="occurred at or before T")
    sp.add_argument("--type", nargs="+", action="extend", metavar="TYPE")
    sp.add_argument("--json", action="store_true")
    _ = common
