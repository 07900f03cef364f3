"""The read commands: registered into ``ledger`` through the ``ledger.commands`` entry point.

``register(sub, add, common)`` adds: ``projections status|rebuild``, ``consent``,
``retention``, ``requests``, ``breaches``, ``disclosures``, ``export``, ``ropa``,
``replay``, ``accesses``.  Every register takes ``--as-of T`` and ``--known-at K`` (the time
model of :mod:`projections.timeframe`); ``--at`` is the deprecated old name of
``--as-of``.
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

from ledger.cli.format import WIDTH, Column, Table, plural, shorten
from ledger.cli.main import add_reader_options, database_url, ledger_name, print_json, reader_of
from ledger.domain.text_rules import escape_for_display

__all__ = ["register"]

Command = Callable[[argparse.Namespace], int]


def _reader(args: argparse.Namespace, *, with_key: bool = False) -> Any:
    from .queries import Reader

    return Reader(database_url(args), ledger_name(args), with_key=with_key)


def _when(args: argparse.Namespace, attr: str, flag: str, *,
          start_of_day: bool = False) -> str | None:
    """An option's time as UTC text: a bare date is that day in the policy's time zone."""
    from .queries import parse_when

    return parse_when(getattr(args, attr, None), flag, start_of_day=start_of_day,
                      zone=lambda: _zone(args))


def _frame(args: argparse.Namespace) -> dict[str, str | None]:
    """``as_of``, ``known_at`` and the old ``at`` of a register command, parsed."""
    return {"as_of": _when(args, "as_of", "--as-of"),
            "known_at": _when(args, "known_at", "--known-at"),
            "at": _when(args, "at", "--at")}


# How people give times (the help of every time option).
TIMES = ("times (T, K): RFC 3339 with an offset, exact (2026-03-03T10:00:00+01:00),\n"
         "or a date YYYY-MM-DD: that day in the policy's time zone (its start for\n"
         "--from, its end for the other options)")
JSON_HELP = "one JSON document (times in UTC) instead of the text for people"


def _frame_options(sp: argparse.ArgumentParser, what: str) -> None:
    sp.add_argument("--as-of", metavar="T", help=f"{what} as they stood at T, from the "
                    "events that occurred by T (default: now); a date: the end of that day")
    sp.add_argument("--known-at", metavar="K", help="only from events recorded by K "
                    "(with --as-of: what was known at K about T)")
    sp.add_argument("--at", metavar="T", help="deprecated: the old name of --as-of")


def _json_option(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--json", action="store_true", help=JSON_HELP)


def _as_of_text(doc: dict[str, Any], zone: str) -> str:
    known = f" as known at {_local(doc['known_at'], zone)}" if doc.get("known_at") else ""
    return f"{_local(doc['at'], zone)}{known}"


UNKNOWN = "no entry for this subject in the ledger"


def _unknown(doc: dict[str, Any], what: str) -> bool:
    """Says so when the subject asked about has no entry in the ledger (exit code 0: the
    answer is that there is nothing; docs/DECISIONS.md 41)."""
    if doc.get("known", True):
        return False
    subject = f" of subject {_short(doc['subject'])}" if doc.get("subject") else ""
    print(f"{what}{subject}: {UNKNOWN}")
    return True


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


def _zone(args: argparse.Namespace) -> str:
    """The time zone of the policy in force now: human output shows times there (read
    once per command)."""
    cached = getattr(args, "_policy_zone", None)
    if cached is None:
        cached = args._policy_zone = _policy_zone(args)
    return str(cached)


def _policy_zone(args: argparse.Namespace) -> str:
    from ledger.app.checking import open_checked_store

    from .mechanism import PolicyLog
    from .queries import now_text

    store, _ = open_checked_store(database_url(args), ledger_name(args))
    try:
        return PolicyLog().load(store).time_zone(now_text())
    finally:
        store.close()


def _local(text: str | None, zone: str, *, seconds: bool = False) -> str:
    """A ledger time (UTC) for people, in ``zone`` with its offset; ``-`` for none."""
    from ledger.domain.periods import human_time

    return human_time(text, zone, seconds=seconds) if text else "-"


def _wall(text: str | None, zone: str) -> str:
    """A ledger time as the wall clock in ``zone`` (``2026-03-03 10:12``) for a table
    whose title names the zone; ``-`` for none."""
    return _local(text, zone)[:16] if text else "-"


def _cell(text: object) -> str:
    """Stored text for a table cell: bidi and format characters shown escaped."""
    return escape_for_display(str(text)) if text is not None else "-"


# -- projections ----------------------------------------------------------------------
def cmd_status(args: argparse.Namespace) -> int:
    with _reader(args) as r:
        rows = r.status()
    if args.json:
        print_json({"projections": rows})
        return 0
    table = Table([Column("PROJECTION", 12), Column("POSITION", 10, right=True),
                   Column("HEAD", 10, right=True), Column("LAG", 10, right=True),
                   Column("STATE")])
    for line in table.lines([
            (s["projection"], f"{s['position']:,}", f"{s['head']:,}", f"{s['lag']:,}",
             "stale (code changed: rebuilt on next read)" if s["stale"] else
             "up to date" if s["lag"] == 0 else "behind") for s in rows]):
        print(line)
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
        from ledger.app.checking import guard

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
        print(f"rebuilt {', '.join(s['projection'] for s in chosen)} from "
              f"{plural(applied, 'entry', 'entries')} in {took:.2f} s")
    return 0


# -- consent --------------------------------------------------------------------------
def _consent_form(args: argparse.Namespace) -> None:
    """Exactly one form: ``consent SUBJECT [--as-of] [--known-at]`` or ``consent --purpose P
    [--from T] [--to T] [--known-at]``; anything else is a usage error (exit 2)."""
    from ledger.errors import InputError

    if (args.subject is None) == (args.purpose is None):
        raise InputError("SUBJECT", "give exactly one of SUBJECT (one person's consent) or "
                                    "--purpose P (every choice for a purpose, a campaign)")
    if args.subject is not None and (args.start is not None or args.end is not None):
        raise InputError("--from" if args.start is not None else "--to",
                         "goes with --purpose (the campaign query), not with SUBJECT")
    if args.purpose is not None and args.as_of is not None:
        raise InputError("--as-of", "goes with SUBJECT; with --purpose give the range "
                                    "with --from and --to")


def cmd_consent(args: argparse.Namespace) -> int:
    _consent_form(args)
    if args.purpose is not None:
        return _consent_campaign(args)
    as_of, known_at = _when(args, "as_of", "--as-of"), _when(args, "known_at", "--known-at")
    with _reader(args, with_key=not args.subject.startswith("pseudonym:")) as r:
        doc = r.consent(args.subject, as_of=as_of, known_at=known_at)
    if args.json:
        print_json(doc)
        return 0
    if _unknown(doc, "consent"):
        return 0
    zone = _zone(args)
    when = []
    if as_of:
        when.append(f"as of {_local(as_of, zone)}")
    if known_at:
        when.append(f"as known at {_local(known_at, zone)}")
    print(f"consent of subject {_short(doc['subject'])} {' '.join(when) or 'now'}")
    print(f"policy {doc['policy_version'] or 'none known then'} (times in {zone})")
    table = Table([Column("PURPOSE", 24), Column("STATUS", 9), Column("SINCE", 16),
                   Column("POLICY", 10), Column("SEQ", 6, right=True), Column("RECORDED")],
                  indent=2, gap=1)
    print(table.header())
    detail = " " * 4
    for p in doc["purposes"]:
        if p["status"] == "none":
            print(table.row((p["purpose"], "none", "-", "-", "-", "-")))
            continue
        print(table.row((p["purpose"], p["status"], _wall(p["since"], zone),
                         p["policy_version"], p["seq"], _wall(p["recorded_at"], zone))))
        if p["status"] == "expired":
            print(shorten(f"{detail}given {_local(p['given_at'], zone)}, lapsed after the "
                          "policy's consent_validity: ask again", WIDTH))
        elif p["expires_at"]:
            print(f"{detail}expires {_local(p['expires_at'], zone)}")
        if p["notice_id"]:
            print(shorten(f"{detail}saw notice {p['notice_id']} (sha256 "
                          f"{p['notice_digest']})", WIDTH))
    for notice_id, n in doc["notices"].items():
        first = n["text"].strip().splitlines()[0]
        print(shorten(f"notice {notice_id}: {n['kind']}, {n['language']}, published "
                      f"{_local(n['occurred_at'], zone)} (#{n['seq']}; full text: ledger show "
                      f"{n['seq']})", WIDTH))
        print(f"  sha256 {n['digest']}")
        print(shorten(f"  \"{first}", WIDTH - 1) + "\"")
    return 0


def _consent_campaign(args: argparse.Namespace) -> int:
    start = _when(args, "start", "--from", start_of_day=True)
    end, known_at = _when(args, "end", "--to"), _when(args, "known_at", "--known-at")
    with _reader(args) as r:
        doc = r.consent_campaign(args.purpose, start=start, end=end, known_at=known_at,
                                 names=("--purpose", "--from", "--to"))
    if args.json:
        print_json(doc)
        return 0
    zone = _zone(args)
    start_text = _local(doc["from"], zone) if doc["from"] else "the start"
    span = f"from {start_text} to {_local(doc['to'], zone) if doc['to'] else 'now'}"
    known = f", as known at {_local(known_at, zone)}" if known_at else ""
    print(shorten(f"choices for purpose {doc['purpose']} {span}{known}", WIDTH))
    print(f"{plural(doc['total'], 'choice')} by {plural(doc['subjects'], 'subject')}; " +
          ", ".join(f"{n} {c}" for c, n in doc["counts"].items()) + f" (times in {zone})")
    table = Table([Column("SEQ", 6, right=True), Column("OCCURRED", 16), Column("CHOICE", 9),
                   Column("SUBJECT", 13), Column("METHOD", 8), Column("POLICY", 10),
                   Column("NOTICE", 18), Column("HASH")], indent=2, gap=1)
    for line in table.lines([
            (c["seq"], _wall(c["occurred_at"], zone), c["choice"], _short(c["subject"]),
             _cell(c["method"]), c["policy_version"], _cell(c["notice_id"] or "-"), c["hash"])
            for c in doc["choices"]]):
        print(line)
    return 0


# -- retention, requests, breaches ------------------------------------------------------------
def cmd_retention(args: argparse.Namespace) -> int:
    with _reader(args, with_key=bool(args.subject)) as r:
        doc = r.retention(**_frame(args),
                          due_before=_when(args, "due_before", "--due-before"),
                          status=args.status, subject=args.subject)
    if args.json:
        print_json(doc)
        return 0
    if args.subject is not None and _unknown(doc, "retention"):
        return 0
    zone = _zone(args)
    print(f"retention at {_as_of_text(doc, zone)}")
    print(f"{plural(len(doc['items']), 'item')}: " + ", ".join(
        f"{n} {s}" for s, n in doc["counts"].items()) + f" (times in {zone})")
    table = Table([Column("SEQ", 6, right=True), Column("SUBJECT", 13),
                   Column("CATEGORY", 15), Column("PURPOSE", 15), Column("DEADLINE", 16),
                   Column("STATUS", 10), Column("WHY")], indent=2, gap=1)
    for line in table.lines([
            (i["seq"], _short(i["subject"]), i["category"], i["purpose"],
             _wall(i["deadline"], zone), i["status"],
             "period" if i["reason"] == "retention_period" else i["reason"])
            for i in doc["items"]]):
        print(line)
    return 0


def cmd_requests(args: argparse.Namespace) -> int:
    with _reader(args) as r:
        doc = r.requests(**_frame(args), open_only=args.open,
                         overdue_only=args.overdue)
    if args.json:
        print_json(doc)
        return 0
    zone = _zone(args)
    print(f"rights requests at {_as_of_text(doc, zone)}")
    print(f"{plural(len(doc['requests']), 'request')} (times in {zone})")
    table = Table([Column("REQUEST", 18), Column("RIGHT", 12), Column("SUBJECT", 13),
                   Column("RECEIVED", 16), Column("DUE", 16), Column("STATUS")],
                  indent=2, gap=1)
    for line in table.lines([
            (_cell(q["request_id"]), q["right"], _short(q["subject"]),
             _wall(q["received_at"], zone), _wall(q["due_at"], zone),
             q["status"] + (" OVERDUE" if q["overdue"] else
                            " answered late" if q["answered_late"] else ""))
            for q in doc["requests"]]):
        print(line)
    return 0


def cmd_breaches(args: argparse.Namespace) -> int:
    with _reader(args) as r:
        doc = r.breaches(**_frame(args))
    if args.json:
        print_json(doc)
        return 0
    zone = _zone(args)
    print(f"breach register at {_as_of_text(doc, zone)}")
    print(f"{plural(len(doc['breaches']), 'breach', 'breaches')} (times in {zone})")
    table = Table([Column("BREACH", 14), Column("DISCOVERED", 16), Column("NOTIFIED", 16),
                   Column("HOURS", 8, right=True), Column("STATUS", 16),
                   Column("ART. 33(3) MISSING")], indent=2, gap=1)
    for line in table.lines([  # stored text may hold bidi controls (issue 13): escaped
            (_cell(b["breach_id"]), _wall(b["discovered_at"], zone),
             _wall(b["notified_at"], zone) if b["notified_at"] else "not notified",
             b["hours_elapsed"], b["status"], ", ".join(b["missing"]) or "none")
            for b in doc["breaches"]]):
        print(line)
    return 0


def cmd_disclosures(args: argparse.Namespace) -> int:
    with _reader(args, with_key=bool(args.subject)) as r:
        doc = r.disclosures(**_frame(args), subject=args.subject)
    if args.json:
        print_json(doc)
        return 0
    if args.subject is not None and _unknown(doc, "disclosures"):
        return 0
    zone = _zone(args)
    print(f"disclosures at {_as_of_text(doc, zone)}")
    print(f"{plural(doc['count'], 'disclosure')}, {doc['outside_eea']} outside the EEA "
          f"(times in {zone})")
    table = Table([Column("SEQ", 6, right=True), Column("OCCURRED", 16),
                   Column("RECIPIENT", 18), Column("KIND", 10), Column("CTRY", 4),
                   Column("NON-EEA", 7), Column("PURPOSE", 16), Column("SUBJECT")],
                  indent=2, gap=1)
    for line in table.lines([
            (d["seq"], _wall(d["occurred_at"], zone), _cell(d["recipient"]),
             _cell(d["recipient_kind"]), _cell(d["country"]),
             "yes" if d["outside_eea"] else "no", d["purpose"], _short(d["subject"]))
            for d in doc["disclosures"]]):
        print(line)
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
    by = reader_of(args)
    with _reader(args, with_key=True) as r:
        doc = r.export(args.subject, by=by, **_frame(args))
    if not doc["known"]:
        print(f"ledger: subject {_short(doc['subject'])}: {UNKNOWN} (the export is empty)",
              file=sys.stderr)
    if args.format == "json":
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
        _write(text.encode("utf-8"), args.output)
    else:
        _write(export_zip(doc), args.output)
    if args.output not in (None, "-"):
        print(f"export of subject {_short(doc['subject'])} written to {args.output} "
              f"({plural(len(doc['events']), 'entry', 'entries')}"
              f"{', erased' if doc['erased'] else ''})",
              file=sys.stderr)
    return 0


def cmd_ropa(args: argparse.Namespace) -> int:
    from .ropa import ropa_markdown

    with _reader(args) as r:
        doc = r.ropa(**_frame(args))
    if args.format == "json":
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    else:
        text = ropa_markdown(doc)
    _write(text.encode("utf-8"), args.output)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    by = reader_of(args)
    with _reader(args, with_key=True) as r:
        doc = r.replay(subject=args.subject,
                       start=_when(args, "start", "--from", start_of_day=True),
                       end=_when(args, "end", "--to"), types=args.type or (), by=by)
    if args.json:
        print_json(doc)
        return 0 if doc["verification"]["ok"] else 1
    if args.subject is not None and not doc["known"]:
        print(f"replay of subject {_short(doc['subject'])}: {UNKNOWN}")
    zone = _zone(args)
    for e in doc["entries"]:
        data = e["data"]
        if e["type"] == "PolicyPublished":
            data = {k: v for k, v in data.items() if k != "policy"}
        print(escape_for_display(
            f"#{e['seq']} {_local(e['occurred_at'], zone, seconds=True)} {e['type']} "
            f"subject={_short(e['subject'])} actor={e['actor']}\n"
            f"    {json.dumps(data, ensure_ascii=False)}\n"
            f"    recorded {_local(e['recorded_at'], zone, seconds=True)} hash {e['hash']}"))
    v = doc["verification"]
    if v["ok"]:
        print(f"verified: entries 1..{v['checked'][-1] if v['checked'] else 0} "
              f"({plural(v['entries'], 'entry', 'entries')}) chain intact")
        return 0
    print(f"VERIFICATION FAILED at seq {v['first_bad_seq']}: {v['reason']}")
    return 1


# -- accesses (who read personal data) -----------------------------------------------------
def cmd_accesses(args: argparse.Namespace) -> int:
    filters = {"actor": args.actor, "as_of": _when(args, "as_of", "--as-of"),
               "known_at": _when(args, "known_at", "--known-at"),
               "start": _when(args, "start", "--from", start_of_day=True),
               "end": _when(args, "end", "--to")}
    subject = args.subject
    with _reader(args, with_key=subject is not None and
                 not subject.startswith("pseudonym:")) as r:
        doc = r.accesses(subject=subject, **filters)
    if args.json:
        print_json(doc)
        return 0
    zone = _zone(args)
    print(f"reads of personal data: {plural(doc['count'], 'read')} (times in {zone})")
    table = Table([Column("SEQ", 6, right=True), Column("OCCURRED", 16), Column("ACTOR", 16),
                   Column("VIA", 4), Column("VIEW", 7), Column("SUBJECT", 13),
                   Column("SEQS", 11), Column("REASON")], indent=2, gap=1)
    for line in table.lines([
            (a["seq"], _wall(a["occurred_at"], zone), _cell(a["actor"] or "-"),
             a["channel"], a["view"], _short(a["subject"]),
             f"{a['first_seq']}..{a['last_seq']}" if a["first_seq"] else "-",
             _cell(a["reason"] or "-"))
            for a in doc["accesses"]]):
        print(line)
    return 0


def _register_accesses(add: Callable[..., argparse.ArgumentParser]) -> None:
    sp = add("accesses", _guarded(cmd_accesses), "who was shown whose personal data, when "
             "and why (PersonalDataAccessed)", examples=[
                 "ledger accesses",
                 "ledger accesses --subject camille.durand@example.fr --from 2026-03-01",
                 "ledger accesses --actor dpo@example.fr --as-of 2026-03-31 --json"])
    sp.add_argument("--subject", metavar="REF", help="only reads of this subject: "
                    "identifier or pseudonym:<hex>")
    sp.add_argument("--actor", metavar="A", help="only reads by this actor")
    sp.add_argument("--as-of", metavar="T", help="reads that occurred by T (a date: by "
                    "the end of that day)")
    sp.add_argument("--known-at", metavar="K", help="reads recorded by K")
    sp.add_argument("--from", dest="start", metavar="T", help="occurred at or after the "
                    "time T (a date: from the start of that day)")
    sp.add_argument("--to", dest="end", metavar="T", help="occurred at or before the time "
                    "T (a date: to the end of that day)")
    _json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"


# -- registration ---------------------------------------------------------------------------
def register(sub: Any, add: Callable[..., argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add the read commands to ``ledger`` (called by ``ledger.cli.main.build_parser``)."""
    names: tuple[str, ...] = ("consent", "retention", "requests", "breaches", "disclosures")
    names += ("accesses",)  # the register of reads (projections/accesses.py)
    proj = add("projections", lambda a: 2, "status and rebuild of the read models",
               examples=["ledger projections status", "ledger projections rebuild",
                         "ledger projections rebuild retention --json"])
    psub = proj.add_subparsers(dest="projections_command", metavar="ACTION", required=True)
    sp = add("status", _guarded(cmd_status), "each projection's position and lag", psub,
             examples=["ledger projections status", "ledger projections status --json"])
    _json_option(sp)
    sp = add("rebuild", _guarded(cmd_rebuild), "drop and rebuild projections from the ledger",
             psub, examples=["ledger projections rebuild",
                             "ledger projections rebuild consent --json"])
    sp.add_argument("name", nargs="?", choices=names, metavar="NAME",
                    help=f"one of {', '.join(names)} (default: all)")
    _json_option(sp)

    sp = add("consent", _guarded(cmd_consent), "a subject's consent per purpose, "
             "bitemporal (--as-of valid time, --known-at recording time); or, with --purpose, "
             "every choice made for a purpose in a time range (a campaign)", examples=[
                 "ledger consent camille.durand@example.fr",
                 "ledger consent camille.durand@example.fr --as-of 2026-03-03",
                 "ledger consent 'pseudonym:<hex>' --as-of 2026-03-03T10:00:00+01:00 "
                 "--known-at 2026-03-10 --json",
                 "ledger consent --purpose cookies_audience --from 2026-03-01 --to 2026-03-31"])
    sp.add_argument("subject", nargs="?", metavar="SUBJECT",
                    help="identifier or pseudonym:<hex> (not with --purpose)")
    sp.add_argument("--as-of", metavar="T", help="state from events that occurred by T "
                    "(a date: by the end of that day)")
    sp.add_argument("--known-at", metavar="T", help="only events recorded by T")
    sp.add_argument("--purpose", metavar="P", help="campaign: every choice (given, refused, "
                    "withdrawn) for purpose P, with counts (instead of SUBJECT)")
    sp.add_argument("--from", dest="start", metavar="T",
                    help="with --purpose: choices that occurred at or after the time T "
                    "(a date: from the start of that day)")
    sp.add_argument("--to", dest="end", metavar="T",
                    help="with --purpose: choices that occurred at or before the time T "
                    "(a date: to the end of that day)")
    _json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"

    sp = add("retention", _guarded(cmd_retention), "collected items and their retention "
             "deadlines", examples=[
                 "ledger retention", "ledger retention --status overdue",
                 "ledger retention --due-before 2027-04-04 --json",
                 "ledger retention --subject camille.durand@example.fr --as-of 2027-01-01"])
    sp.add_argument("--due-before", metavar="T", help="deadline at or before T, not erased "
                    "(a date: by the end of that day)")
    sp.add_argument("--status", choices=("active", "due", "overdue", "held", "erased",
                                         "anonymised"),
                    help="only items with this status: %(choices)s")
    sp.add_argument("--subject", metavar="REF", help="only this subject's items: "
                    "identifier or pseudonym:<hex>")
    _frame_options(sp, "statuses and deadlines")
    _json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"

    sp = add("requests", _guarded(cmd_requests), "rights requests, due dates and overdue "
             "ones", examples=["ledger requests --open", "ledger requests --overdue --json",
                               "ledger requests --as-of 2026-06-30"])
    sp.add_argument("--open", action="store_true", help="not yet answered")
    sp.add_argument("--overdue", action="store_true", help="open past the due date")
    _frame_options(sp, "requests")
    _json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"

    sp = add("breaches", _guarded(cmd_breaches), "the breach register (Art. 33(5))",
             examples=["ledger breaches", "ledger breaches --as-of 2026-03-31 --json"])
    _frame_options(sp, "breaches")
    _json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"

    sp = add("disclosures", _guarded(cmd_disclosures), "the disclosures register "
             "(recipients and transfers seen)", examples=[
                 "ledger disclosures", "ledger disclosures --as-of 2026-03-31 --json",
                 "ledger disclosures --subject camille.durand@example.fr"])
    sp.add_argument("--subject", metavar="REF", help="only this subject's disclosures: "
                    "identifier or pseudonym:<hex>")
    _frame_options(sp, "disclosures")
    _json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"

    sp = add("export", _guarded(cmd_export), "a subject's data export (Art. 15, 20)",
             examples=["ledger export camille.durand@example.fr --reason 'access request "
                       "R-12' -o export.json",
                       "ledger export camille.durand@example.fr --format csv -o export.zip",
                       "ledger export 'pseudonym:<hex>' --as-of 2026-03-31"])
    sp.add_argument("subject", metavar="SUBJECT", help="the subject: identifier or "
                    "pseudonym:<hex>")
    sp.add_argument("--format", choices=("json", "csv"), default="json",
                    help="json (one document) or csv (a zip of one CSV per table)")
    sp.add_argument("-o", "--output", metavar="PATH", help="file to write (default: stdout)")
    _frame_options(sp, "the subject's data")
    add_reader_options(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"

    sp = add("ropa", _guarded(cmd_ropa), "the record of processing activities (Art. 30)",
             examples=["ledger ropa", "ledger ropa --format json -o ropa.json",
                       "ledger ropa --as-of 2026-01-01 -o ropa-2025.md"])
    sp.add_argument("--format", choices=("json", "md"), default="md",
                    help="md (Markdown for people, times in the policy's time zone; the "
                    "default) or json (times in UTC)")
    _frame_options(sp, "the policy in force and the events seen")
    sp.add_argument("-o", "--output", metavar="PATH", help="file to write (default: stdout)")
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"

    sp = add("replay", _guarded(cmd_replay), "history in order, decrypted, with the chain "
             "verified up to the last entry shown", examples=[
                 "ledger replay --subject camille.durand@example.fr",
                 "ledger replay --from 2026-03-01 --to 2026-03-31 --type ConsentGiven "
                 "ConsentWithdrawn",
                 "ledger replay --from 2026-03-03T09:00:00+01:00 --json"])
    sp.add_argument("--subject", metavar="REF", help="only this subject's entries: "
                    "identifier or pseudonym:<hex>")
    sp.add_argument("--from", dest="start", metavar="T", help="entries that occurred at or "
                    "after the time T (a date: from the start of that day; a time, not a "
                    "seq: ledger log --from-seq takes seqs)")
    sp.add_argument("--to", dest="end", metavar="T", help="entries that occurred at or "
                    "before the time T (a date: to the end of that day)")
    sp.add_argument("--type", nargs="+", action="extend", metavar="TYPE",
                    help="only entries of these event types (docs/events.md)")
    _json_option(sp)
    add_reader_options(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"
    _register_accesses(add)
    _ = common
