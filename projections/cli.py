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

from ledger.cli import add_reader_options, database_url, ledger_name, print_json, reader_of
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


def _frame(args: argparse.Namespace) -> dict[str, str | None]:
    """``as_of``, ``known_at`` and the old ``at`` of a register command, parsed."""
    return {"as_of": _when(args, "as_of", "--as-of"),
            "known_at": _when(args, "known_at", "--known-at"),
            "at": _when(args, "at", "--at")}


def _frame_options(sp: argparse.ArgumentParser, what: str) -> None:
    sp.add_argument("--as-of", metavar="T", help=f"{what} as they stood at T, from the "
                    "events that occurred by T (default: now)")
    sp.add_argument("--known-at", metavar="K", help="only from events recorded by K "
                    "(with --as-of: what was known at K about T)")
    sp.add_argument("--at", metavar="T", help="deprecated: the old name of --as-of")


def _as_of_text(doc: dict[str, Any], zone: str) -> str:
    known = f" as known at {_local(doc['known_at'], zone)}" if doc.get("known_at") else ""
    return f"{_local(doc['at'], zone)}{known}"


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
    """The time zone of the policy in force now: human output shows times there."""
    from ledger.checking import open_checked_store
    from ledger.periods import DEFAULT_TIME_ZONE

    from .mechanism import PolicyLog
    from .queries import now_text

    store, _ = open_checked_store(database_url(args), ledger_name(args))
    try:
        log = PolicyLog().load(store)
    finally:
        store.close()
    policy = log.in_force(now_text()) or log.latest()
    return str(policy.time_zone) if policy is not None else DEFAULT_TIME_ZONE


def _local(text: str | None, zone: str, *, seconds: bool = False) -> str:
    """A ledger time (UTC) for people, in ``zone`` with its offset; ``-`` for none."""
    from ledger.periods import human_time

    return human_time(text, zone, seconds=seconds) if text else "-"


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
    zone = _zone(args)
    when = []
    if as_of:
        when.append(f"as of {_local(as_of, zone)}")
    if known_at:
        when.append(f"as known at {_local(known_at, zone)}")
    print(f"consent of subject {_short(doc['subject'])} {' '.join(when) or 'now'} "
          f"(policy {doc['policy_version'] or 'none known then'})")
    for p in doc["purposes"]:
        if p["status"] == "none":
            print(f"  {p['purpose']:28} none")
            continue
        print(f"  {p['purpose']:28} {p['status']:9} since {_local(p['since'], zone)} "
              f"(policy {p['policy_version']}, #{p['seq']}, recorded "
              f"{_local(p['recorded_at'], zone)})")
        if p["status"] == "expired":
            print(f"  {'':28} given {_local(p['given_at'], zone)}, lapsed after the policy's "
                  "consent_validity: ask again")
        elif p["expires_at"]:
            print(f"  {'':28} expires {_local(p['expires_at'], zone)}")
        if p["notice_id"]:
            print(f"  {'':28} saw notice {p['notice_id']} (sha256 {p['notice_digest']})")
    for notice_id, n in doc["notices"].items():
        first = n["text"].strip().splitlines()[0]
        shown = first if len(first) <= 100 else first[:99] + "…"
        print(f"notice {notice_id}: {n['kind']}, {n['language']}, published "
              f"{_local(n['occurred_at'], zone)}, sha256 {n['digest']} (#{n['seq']}; full text: "
              f"ledger show {n['seq']})\n  \"{shown}\"")
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
    print(f"choices for purpose {doc['purpose']} {span}{known}: {doc['total']} by "
          f"{doc['subjects']} subject(s); " +
          ", ".join(f"{n} {c}" for c, n in doc["counts"].items()))
    for c in doc["choices"]:
        notice = f" notice {c['notice_id']}" if c["notice_id"] else ""
        print(f"  #{c['seq']:<8} {_local(c['occurred_at'], zone)} {c['choice']:9} "
              f"{_short(c['subject']):14} {c['method']:8} policy {c['policy_version']}"
              f"{notice} {c['hash'][:16]}…")
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
    zone = _zone(args)
    print(f"retention at {_as_of_text(doc, zone)}: " + ", ".join(
        f"{n} {s}" for s, n in doc["counts"].items()))
    for i in doc["items"]:
        print(f"  #{i['seq']:<8} {_short(i['subject']):14} {i['category']:28} "
              f"{i['purpose']:22} collected {_local(i['collected_at'], zone)} "
              f"deadline {_local(i['deadline'], zone):23} {i['status']}"
              + ("" if i["reason"] == "retention_period" else f" ({i['reason']})"))
    return 0


def cmd_requests(args: argparse.Namespace) -> int:
    with _reader(args) as r:
        doc = r.requests(**_frame(args), open_only=args.open,
                         overdue_only=args.overdue)
    if args.json:
        print_json(doc)
        return 0
    zone = _zone(args)
    print(f"rights requests at {_as_of_text(doc, zone)}: {len(doc['requests'])}")
    for q in doc["requests"]:
        flag = " OVERDUE" if q["overdue"] else (" answered late" if q["answered_late"] else "")
        print(f"  {q['request_id']:20} {q['right']:14} {_short(q['subject']):14} received "
              f"{_local(q['received_at'], zone)} due {_local(q['due_at'], zone)} "
              f"{q['status']}{flag}")
    return 0


def cmd_breaches(args: argparse.Namespace) -> int:
    with _reader(args) as r:
        doc = r.breaches(**_frame(args))
    if args.json:
        print_json(doc)
        return 0
    zone = _zone(args)
    print(f"breach register at {_as_of_text(doc, zone)}: {len(doc['breaches'])}")
    for b in doc["breaches"]:
        notified = _local(b["notified_at"], zone) if b["notified_at"] else "not notified"
        missing = ", ".join(b["missing"]) or "none"
        print(escape_for_display(  # stored text may hold bidi controls (issue 13)
            f"  {b['breach_id']:20} discovered {_local(b['discovered_at'], zone)} "
            f"notified {notified} "
            f"({b['hours_elapsed']} h) {b['status']}; Art. 33(3) missing: {missing}"))
    return 0


def cmd_disclosures(args: argparse.Namespace) -> int:
    with _reader(args, with_key=bool(args.subject)) as r:
        doc = r.disclosures(**_frame(args), subject=args.subject)
    if args.json:
        print_json(doc)
        return 0
    zone = _zone(args)
    print(f"disclosures at {_as_of_text(doc, zone)}: {doc['count']} "
          f"({doc['outside_eea']} outside the EEA)")
    for d in doc["disclosures"]:
        flag = " OUTSIDE EEA" if d["outside_eea"] else ""
        print(f"  #{d['seq']:<8} {_local(d['occurred_at'], zone)} {d['recipient']:20} "
              f"{d['recipient_kind']:12} {d['country']} {d['purpose']:22} "
              f"{_short(d['subject'])}{flag}")
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
              f"({v['entries']} entries) chain intact")
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
    print(f"reads of personal data: {doc['count']}")
    for a in doc["accesses"]:
        seqs = f" seqs {a['first_seq']}..{a['last_seq']}" if a["first_seq"] else ""
        print(f"  #{a['seq']:<8} {a['occurred_at']} {a['actor'] or '-':20} {a['channel']:4} "
              f"{a['view']:7} subject {_short(a['subject'])}{seqs}"
              f"{' reason: ' + a['reason'] if a['reason'] else ''}")
    return 0


def _register_accesses(add: Callable[..., argparse.ArgumentParser]) -> None:
    sp = add("accesses", _guarded(cmd_accesses), "who was shown whose personal data, when "
             "and why (PersonalDataAccessed)")
    sp.add_argument("--subject", metavar="REF", help="identifier or pseudonym:<hex>")
    sp.add_argument("--actor", metavar="A", help="only reads by this actor")
    sp.add_argument("--as-of", metavar="T", help="reads that occurred by T")
    sp.add_argument("--known-at", metavar="K", help="reads recorded by K")
    sp.add_argument("--from", dest="start", metavar="T", help="occurred at or after T")
    sp.add_argument("--to", dest="end", metavar="T", help="occurred at or before T")
    sp.add_argument("--json", action="store_true")


# -- registration ---------------------------------------------------------------------------
def register(sub: Any, add: Callable[..., argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add the read commands to ``ledger`` (called by ``ledger.cli.build_parser``)."""
    names = ("consent", "retention", "requests", "breaches", "disclosures")
    names += ("accesses",)  # the register of reads (projections/accesses.py)
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
             "bitemporal (--as-of valid time, --known-at recording time); or, with --purpose, "
             "every choice made for a purpose in a time range (a campaign)")
    sp.add_argument("subject", nargs="?", metavar="SUBJECT",
                    help="identifier or pseudonym:<hex> (not with --purpose)")
    sp.add_argument("--as-of", metavar="T", help="state from events that occurred by T")
    sp.add_argument("--known-at", metavar="T", help="only events recorded by T")
    sp.add_argument("--purpose", metavar="P", help="campaign: every choice (given, refused, "
                    "withdrawn) for purpose P, with counts (instead of SUBJECT)")
    sp.add_argument("--from", dest="start", metavar="T",
                    help="with --purpose: choices that occurred at or after T")
    sp.add_argument("--to", dest="end", metavar="T",
                    help="with --purpose: choices that occurred at or before T")
    sp.add_argument("--json", action="store_true")

    sp = add("retention", _guarded(cmd_retention), "collected items and their retention "
             "deadlines")
    sp.add_argument("--due-before", metavar="T", help="deadline at or before T, not erased")
    sp.add_argument("--status", choices=("active", "due", "overdue", "held", "erased",
                                         "anonymised"))
    sp.add_argument("--subject", metavar="REF")
    _frame_options(sp, "statuses and deadlines")
    sp.add_argument("--json", action="store_true")

    sp = add("requests", _guarded(cmd_requests), "rights requests, due dates and overdue ones")
    sp.add_argument("--open", action="store_true", help="not yet answered")
    sp.add_argument("--overdue", action="store_true", help="open past the due date")
    _frame_options(sp, "requests")
    sp.add_argument("--json", action="store_true")

    sp = add("breaches", _guarded(cmd_breaches), "the breach register (Art. 33(5))")
    _frame_options(sp, "breaches")
    sp.add_argument("--json", action="store_true")

    sp = add("disclosures", _guarded(cmd_disclosures), "the disclosures register "
             "(recipients and transfers seen)")
    sp.add_argument("--subject", metavar="REF")
    _frame_options(sp, "disclosures")
    sp.add_argument("--json", action="store_true")

    sp = add("export", _guarded(cmd_export), "a subject's data export (Art. 15, 20)")
    sp.add_argument("subject", metavar="SUBJECT")
    sp.add_argument("--format", choices=("json", "csv"), default="json",
                    help="json (one document) or csv (a zip of one CSV per table)")
    sp.add_argument("-o", "--output", metavar="PATH", help="file to write (default: stdout)")
    _frame_options(sp, "the subject's data")
    add_reader_options(sp)

    sp = add("ropa", _guarded(cmd_ropa), "the record of processing activities (Art. 30)")
    sp.add_argument("--format", choices=("json", "md"), default="md")
    _frame_options(sp, "the policy in force and the events seen")
    sp.add_argument("-o", "--output", metavar="PATH")

    sp = add("replay", _guarded(cmd_replay), "history in order, decrypted, with the chain "
             "verified up to the last entry shown")
    sp.add_argument("--subject", metavar="REF")
    sp.add_argument("--from", dest="start", metavar="T", help="occurred at or after T")
    sp.add_argument("--to", dest="end", metavar="T", help="occurred at or before T")
    sp.add_argument("--type", nargs="+", action="extend", metavar="TYPE")
    sp.add_argument("--json", action="store_true")
    add_reader_options(sp)
    _register_accesses(add)
    _ = common
