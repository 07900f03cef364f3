"""The read commands about subjects: ``consent`` (one subject, or a purpose's campaign),
``export`` (a subject's data, Art. 15 and 20) and ``replay`` (history in order, verified)."""

from __future__ import annotations

import argparse
import json
import sys

from ledger.cli.format import WIDTH, Column, Table, data_lines, plural, shorten, wrapped
from ledger.cli.main import print_json, reader_of
from ledger.domain.text_rules import escape_for_display

from .cli_common import (
    UNKNOWN,
    cell,
    frame_of,
    local_time,
    open_reader,
    say_unknown,
    short,
    time_of,
    wall,
    write_out,
    zone_of,
)

__all__ = ["cmd_consent", "cmd_export", "cmd_replay"]


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
    as_of, known_at = time_of(args, "as_of", "--as-of"), time_of(args, "known_at", "--known-at")
    with open_reader(args, with_key=not args.subject.startswith("pseudonym:")) as r:
        doc = r.consent(args.subject, as_of=as_of, known_at=known_at)
    if args.json:
        print_json(doc)
        return 0
    if say_unknown(doc, "consent"):
        return 0
    zone = zone_of(args)
    when = []
    if as_of:
        when.append(f"as of {local_time(as_of, zone)}")
    if known_at:
        when.append(f"as known at {local_time(known_at, zone)}")
    print(f"consent of subject {short(doc['subject'])} {' '.join(when) or 'now'}")
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
        print(table.row((p["purpose"], p["status"], wall(p["since"], zone),
                         p["policy_version"], p["seq"], wall(p["recorded_at"], zone))))
        if p["status"] == "expired":
            print(shorten(f"{detail}given {local_time(p['given_at'], zone)}, lapsed after the "
                          "policy's consent_validity: ask again", WIDTH))
        elif p["expires_at"]:
            print(f"{detail}expires {local_time(p['expires_at'], zone)}")
        if p["notice_id"]:
            print(shorten(f"{detail}saw notice {p['notice_id']} (sha256 "
                          f"{p['notice_digest']})", WIDTH))
    for notice_id, n in doc["notices"].items():
        first = n["text"].strip().splitlines()[0]
        print(shorten(f"notice {notice_id}: {n['kind']}, {n['language']}, published "
                      f"{local_time(n['occurred_at'], zone)} (#{n['seq']}; full text: ledger show "
                      f"{n['seq']})", WIDTH))
        print(f"  sha256 {n['digest']}")
        print(shorten(f"  \"{first}", WIDTH - 1) + "\"")
    return 0


def _consent_campaign(args: argparse.Namespace) -> int:
    start = time_of(args, "start", "--from", start_of_day=True)
    end, known_at = time_of(args, "end", "--to"), time_of(args, "known_at", "--known-at")
    with open_reader(args) as r:
        doc = r.consent_campaign(args.purpose, start=start, end=end, known_at=known_at,
                                 names=("--purpose", "--from", "--to"))
    if args.json:
        print_json(doc)
        return 0
    zone = zone_of(args)
    start_text = local_time(doc["from"], zone) if doc["from"] else "the start"
    span = f"from {start_text} to {local_time(doc['to'], zone) if doc['to'] else 'now'}"
    known = f", as known at {local_time(known_at, zone)}" if known_at else ""
    print(shorten(f"choices for purpose {doc['purpose']} {span}{known}", WIDTH))
    print(f"{plural(doc['total'], 'choice')} by {plural(doc['subjects'], 'subject')}; " +
          ", ".join(f"{n} {c}" for c, n in doc["counts"].items()) + f" (times in {zone})")
    table = Table([Column("SEQ", 6, right=True), Column("OCCURRED", 16), Column("CHOICE", 9),
                   Column("SUBJECT", 13), Column("METHOD", 8), Column("POLICY", 10),
                   Column("NOTICE", 18), Column("HASH")], indent=2, gap=1)
    for line in table.lines([
            (c["seq"], wall(c["occurred_at"], zone), c["choice"], short(c["subject"]),
             cell(c["method"]), c["policy_version"], cell(c["notice_id"] or "-"), c["hash"])
            for c in doc["choices"]]):
        print(line)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .portability import export_zip

    if args.format == "csv" and (args.output is None or args.output == "-") \
            and sys.stdout.isatty():
        from ledger.errors import InputError

        raise InputError("-o", "is required for --format csv (a zip file) on a terminal")
    by = reader_of(args)
    with open_reader(args, with_key=True) as r:
        doc = r.export(args.subject, by=by, **frame_of(args))
    if not doc["known"]:
        print(f"ledger: subject {short(doc['subject'])}: {UNKNOWN} (the export is empty)",
              file=sys.stderr)
    if args.format == "json":
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
        write_out(text.encode("utf-8"), args.output)
    else:
        write_out(export_zip(doc), args.output)
    if args.output not in (None, "-"):
        print(f"export of subject {short(doc['subject'])} written to {args.output} "
              f"({plural(len(doc['events']), 'entry', 'entries')}"
              f"{', erased' if doc['erased'] else ''})",
              file=sys.stderr)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    by = reader_of(args)
    with open_reader(args, with_key=True) as r:
        doc = r.replay(subject=args.subject,
                       start=time_of(args, "start", "--from", start_of_day=True),
                       end=time_of(args, "end", "--to"), types=args.type or (), by=by)
    if args.json:
        print_json(doc)
        return 0 if doc["verification"]["ok"] else 1
    if args.subject is not None and not doc["known"]:
        print(f"replay of subject {short(doc['subject'])}: {UNKNOWN}")
    zone = zone_of(args)
    for e in doc["entries"]:
        data = e["data"]
        if e["type"] == "PolicyPublished":
            data = {k: v for k, v in data.items() if k != "policy"}
        print(escape_for_display("\n".join([
            wrapped(f"#{e['seq']} {local_time(e['occurred_at'], zone, seconds=True)} "
                    f"{e['type']} subject={short(e['subject'])} actor={e['actor']}"),
            *data_lines(data, 4),
            f"    recorded {local_time(e['recorded_at'], zone, seconds=True)}",
            f"    hash {e['hash']}"])))
    v = doc["verification"]
    if v["ok"]:
        print(f"verified: entries 1..{v['checked'][-1] if v['checked'] else 0} "
              f"({plural(v['entries'], 'entry', 'entries')}) chain intact")
        return 0
    print(f"VERIFICATION FAILED at seq {v['first_bad_seq']}: {v['reason']}")
    return 1
