"""The registers: ``retention``, ``requests``, ``breaches``, ``disclosures``, ``ropa``
(Art. 30) and ``accesses`` (who read personal data)."""

from __future__ import annotations

import argparse
import json

from ledger.cli.format import Column, Table, plural
from ledger.cli.main import print_json

from .cli_common import (
    as_of_text,
    cell,
    frame_of,
    open_reader,
    say_unknown,
    short,
    time_of,
    wall,
    write_out,
    zone_of,
)

__all__ = ["cmd_accesses", "cmd_breaches", "cmd_disclosures", "cmd_requests",
           "cmd_retention", "cmd_ropa"]


def cmd_retention(args: argparse.Namespace) -> int:
    with open_reader(args, with_key=bool(args.subject)) as r:
        doc = r.retention(**frame_of(args),
                          due_before=time_of(args, "due_before", "--due-before"),
                          status=args.status, subject=args.subject)
    if args.json:
        print_json(doc)
        return 0
    if args.subject is not None and say_unknown(doc, "retention"):
        return 0
    zone = zone_of(args)
    print(f"retention at {as_of_text(doc, zone)}")
    print(f"{plural(len(doc['items']), 'item')}: " + ", ".join(
        f"{n} {s}" for s, n in doc["counts"].items()) + f" (times in {zone})")
    table = Table([Column("SEQ", 6, right=True), Column("SUBJECT", 13),
                   Column("CATEGORY", 15), Column("PURPOSE", 15), Column("DEADLINE", 16),
                   Column("STATUS", 10), Column("WHY")], indent=2, gap=1)
    for line in table.lines([
            (i["seq"], short(i["subject"]), i["category"], i["purpose"],
             wall(i["deadline"], zone), i["status"],
             "period" if i["reason"] == "retention_period" else i["reason"])
            for i in doc["items"]]):
        print(line)
    return 0


def cmd_requests(args: argparse.Namespace) -> int:
    with open_reader(args) as r:
        doc = r.requests(**frame_of(args), open_only=args.open,
                         overdue_only=args.overdue)
    if args.json:
        print_json(doc)
        return 0
    zone = zone_of(args)
    print(f"rights requests at {as_of_text(doc, zone)}")
    print(f"{plural(len(doc['requests']), 'request')} (times in {zone})")
    table = Table([Column("REQUEST", 18), Column("RIGHT", 12), Column("SUBJECT", 13),
                   Column("RECEIVED", 16), Column("DUE", 16), Column("STATUS")],
                  indent=2, gap=1)
    for line in table.lines([
            (cell(q["request_id"]), q["right"], short(q["subject"]),
             wall(q["received_at"], zone), wall(q["due_at"], zone),
             q["status"] + (" OVERDUE" if q["overdue"] else
                            " answered late" if q["answered_late"] else ""))
            for q in doc["requests"]]):
        print(line)
    return 0


def cmd_breaches(args: argparse.Namespace) -> int:
    with open_reader(args) as r:
        doc = r.breaches(**frame_of(args))
    if args.json:
        print_json(doc)
        return 0
    zone = zone_of(args)
    print(f"breach register at {as_of_text(doc, zone)}")
    print(f"{plural(len(doc['breaches']), 'breach', 'breaches')} (times in {zone})")
    table = Table([Column("BREACH", 14), Column("DISCOVERED", 16), Column("NOTIFIED", 16),
                   Column("HOURS", 8, right=True), Column("STATUS", 16),
                   Column("ART. 33(3) MISSING")], indent=2, gap=1)
    for line in table.lines([  # stored text may hold bidi controls (issue 13): escaped
            (cell(b["breach_id"]), wall(b["discovered_at"], zone),
             wall(b["notified_at"], zone) if b["notified_at"] else "not notified",
             b["hours_elapsed"], b["status"], ", ".join(b["missing"]) or "none")
            for b in doc["breaches"]]):
        print(line)
    return 0


def cmd_disclosures(args: argparse.Namespace) -> int:
    with open_reader(args, with_key=bool(args.subject)) as r:
        doc = r.disclosures(**frame_of(args), subject=args.subject)
    if args.json:
        print_json(doc)
        return 0
    if args.subject is not None and say_unknown(doc, "disclosures"):
        return 0
    zone = zone_of(args)
    print(f"disclosures at {as_of_text(doc, zone)}")
    print(f"{plural(doc['count'], 'disclosure')}, {doc['outside_eea']} outside the EEA "
          f"(times in {zone})")
    table = Table([Column("SEQ", 6, right=True), Column("OCCURRED", 16),
                   Column("RECIPIENT", 18), Column("KIND", 10), Column("CTRY", 4),
                   Column("NON-EEA", 7), Column("PURPOSE", 16), Column("SUBJECT")],
                  indent=2, gap=1)
    for line in table.lines([
            (d["seq"], wall(d["occurred_at"], zone), cell(d["recipient"]),
             cell(d["recipient_kind"]), cell(d["country"]),
             "yes" if d["outside_eea"] else "no", d["purpose"], short(d["subject"]))
            for d in doc["disclosures"]]):
        print(line)
    return 0



def cmd_ropa(args: argparse.Namespace) -> int:
    from .ropa import ropa_markdown

    with open_reader(args) as r:
        doc = r.ropa(**frame_of(args))
    if args.format == "json":
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    else:
        text = ropa_markdown(doc)
    write_out(text.encode("utf-8"), args.output)
    return 0


def cmd_accesses(args: argparse.Namespace) -> int:
    filters = {"actor": args.actor, "as_of": time_of(args, "as_of", "--as-of"),
               "known_at": time_of(args, "known_at", "--known-at"),
               "start": time_of(args, "start", "--from", start_of_day=True),
               "end": time_of(args, "end", "--to")}
    subject = args.subject
    with open_reader(args, with_key=subject is not None and
                 not subject.startswith("pseudonym:")) as r:
        doc = r.accesses(subject=subject, **filters)
    if args.json:
        print_json(doc)
        return 0
    zone = zone_of(args)
    print(f"reads of personal data: {plural(doc['count'], 'read')} (times in {zone})")
    table = Table([Column("SEQ", 6, right=True), Column("OCCURRED", 16), Column("ACTOR", 16),
                   Column("VIA", 4), Column("VIEW", 7), Column("SUBJECT", 13),
                   Column("SEQS", 11), Column("REASON")], indent=2, gap=1)
    for line in table.lines([
            (a["seq"], wall(a["occurred_at"], zone), cell(a["actor"] or "-"),
             a["channel"], a["view"], short(a["subject"]),
             f"{a['first_seq']}..{a['last_seq']}" if a["first_seq"] else "-",
             cell(a["reason"] or "-"))
            for a in doc["accesses"]]):
        print(line)
    return 0
