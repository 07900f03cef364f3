"""The read commands: registered into ``ledger`` through the ``ledger.commands`` entry point.

``register(sub, add, common)`` adds: ``projections status|rebuild``, ``consent``,
``retention``, ``requests``, ``breaches``, ``disclosures``, ``export``, ``ropa``,
``replay``, ``accesses``.  Every register takes ``--as-of T`` and ``--known-at K`` (the time
model of :mod:`projections.timeframe`); ``--at`` is the deprecated old name of
``--as-of``.
Each command is a thin layer over :class:`projections.queries.Reader`: human
text by default, the same dict as one JSON document with ``--json``.
Nothing heavy is imported until a command runs (``ledger --help`` stays fast).

This module holds the options and help of each command; the commands are in
:mod:`projections.cli_projections` (status, rebuild), :mod:`projections.cli_subject`
(consent, export, replay) and :mod:`projections.cli_registers` (retention, requests,
breaches, disclosures, ropa, accesses), what they share in :mod:`projections.cli_common`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ledger.cli.main import add_reader_options

from .cli_common import TIMES, frame_options, guarded, json_option
from .cli_inquiry import cmd_inquiry
from .cli_projections import cmd_rebuild, cmd_status
from .cli_registers import (
    cmd_accesses,
    cmd_breaches,
    cmd_disclosures,
    cmd_requests,
    cmd_retention,
    cmd_ropa,
)
from .cli_subject import cmd_consent, cmd_export, cmd_replay

__all__ = ["register"]


def register(sub: Any, add: Callable[..., argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add the read commands to ``ledger`` (called by ``ledger.cli.main.build_parser``)."""
    _register_projections(add)
    _register_consent(add)
    _register_registers(add)
    _register_documents(add)
    _register_replay(add)
    _register_accesses(add)
    _register_inquiry(add)
    _ = sub, common


def _register_projections(add: Callable[..., argparse.ArgumentParser]) -> None:
    """``ledger projections status|rebuild``."""
    names: tuple[str, ...] = ("consent", "retention", "requests", "breaches", "disclosures")
    names += ("accesses",)  # the register of reads (projections/accesses.py)
    proj = add("projections", lambda a: 2, "status and rebuild of the read models",
               examples=["ledger projections status", "ledger projections rebuild",
                         "ledger projections rebuild retention --json"])
    psub = proj.add_subparsers(dest="projections_command", metavar="ACTION", required=True)
    sp = add("status", guarded(cmd_status), "each projection's position and lag", psub,
             examples=["ledger projections status", "ledger projections status --json"])
    json_option(sp)
    sp = add("rebuild", guarded(cmd_rebuild), "drop and rebuild projections from the ledger",
             psub, examples=["ledger projections rebuild",
                             "ledger projections rebuild consent --json"])
    sp.add_argument("name", nargs="?", choices=names, metavar="NAME",
                    help=f"one of {', '.join(names)} (default: all)")
    json_option(sp)


def _register_consent(add: Callable[..., argparse.ArgumentParser]) -> None:
    """``ledger consent``: one subject's, or a purpose's campaign."""
    sp = add("consent", guarded(cmd_consent), "a subject's consent per purpose, "
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
    json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"


def _register_registers(add: Callable[..., argparse.ArgumentParser]) -> None:
    """``ledger retention|requests|breaches|disclosures``."""
    sp = add("retention", guarded(cmd_retention), "collected items and their retention "
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
    frame_options(sp, "statuses and deadlines")
    json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"

    sp = add("requests", guarded(cmd_requests), "rights requests, due dates and overdue "
             "ones", examples=["ledger requests --open", "ledger requests --overdue --json",
                               "ledger requests --as-of 2026-06-30"])
    sp.add_argument("--open", action="store_true", help="not yet answered")
    sp.add_argument("--overdue", action="store_true", help="open past the due date")
    frame_options(sp, "requests")
    json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"

    sp = add("breaches", guarded(cmd_breaches), "the breach register (Art. 33(5))",
             examples=["ledger breaches", "ledger breaches --as-of 2026-03-31 --json"])
    frame_options(sp, "breaches")
    json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"

    sp = add("disclosures", guarded(cmd_disclosures), "the disclosures register "
             "(recipients and transfers seen)", examples=[
                 "ledger disclosures", "ledger disclosures --as-of 2026-03-31 --json",
                 "ledger disclosures --subject camille.durand@example.fr"])
    sp.add_argument("--subject", metavar="REF", help="only this subject's disclosures: "
                    "identifier or pseudonym:<hex>")
    frame_options(sp, "disclosures")
    json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"


def _register_documents(add: Callable[..., argparse.ArgumentParser]) -> None:
    """``ledger export|ropa``: documents written to a file or stdout."""
    sp = add("export", guarded(cmd_export), "a subject's data export (Art. 15, 20)",
             examples=["ledger export camille.durand@example.fr --reason 'access request "
                       "R-12' -o export.json",
                       "ledger export camille.durand@example.fr --format csv -o export.zip",
                       "ledger export 'pseudonym:<hex>' --as-of 2026-03-31"])
    sp.add_argument("subject", metavar="SUBJECT", help="the subject: identifier or "
                    "pseudonym:<hex>")
    sp.add_argument("--format", choices=("json", "csv"), default="json",
                    help="json (one document) or csv (a zip of one CSV per table)")
    sp.add_argument("-o", "--output", metavar="PATH", help="file to write (default: stdout)")
    frame_options(sp, "the subject's data")
    add_reader_options(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"

    sp = add("ropa", guarded(cmd_ropa), "the record of processing activities (Art. 30)",
             examples=["ledger ropa", "ledger ropa --format json -o ropa.json",
                       "ledger ropa --as-of 2026-01-01 -o ropa-2025.md"])
    sp.add_argument("--format", choices=("json", "md"), default="md",
                    help="md (Markdown for people, times in the policy's time zone; the "
                    "default) or json (times in UTC)")
    frame_options(sp, "the policy in force and the events seen")
    sp.add_argument("-o", "--output", metavar="PATH", help="file to write (default: stdout)")
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"


def _register_replay(add: Callable[..., argparse.ArgumentParser]) -> None:
    """``ledger replay``: history in order, the chain verified."""
    sp = add("replay", guarded(cmd_replay), "history in order, decrypted, with the chain "
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
    json_option(sp)
    add_reader_options(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"


def _register_accesses(add: Callable[..., argparse.ArgumentParser]) -> None:
    """``ledger accesses``: the register of reads of personal data."""
    sp = add("accesses", guarded(cmd_accesses), "who was shown whose personal data, when "
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
    json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"


def _register_inquiry(add: Callable[..., argparse.ArgumentParser]) -> None:
    """``ledger inquiry``: the CNIL inquiry pack (projections/inquiry)."""
    sp = add("inquiry", guarded(cmd_inquiry), "the CNIL inquiry pack: a report (HTML and "
             "PDF), the registers as spreadsheets and verifiable evidence, for a period",
             examples=["ledger inquiry -o pack/ --from 2026-03-01 --to 2026-03-31 "
                       "--reference CNIL-2026-042",
                       "ledger inquiry -o pack/ --from 2026-03-03 --to 2026-03-03 --purpose "
                       "recruitment --subject camille.durand@example.fr --lang en",
                       "ledger verify --inquiry pack/ --pubkey KEY"])
    sp.add_argument("-o", "--output", metavar="DIR", required=True,
                    help="the pack's folder (new or empty)")
    sp.add_argument("--from", dest="start", metavar="T", required=True,
                    help="start of the period asked about (a date: its start)")
    sp.add_argument("--to", dest="end", metavar="T", required=True,
                    help="end of the period asked about (a date: its end)")
    sp.add_argument("--purpose", nargs="+", action="extend", metavar="P",
                    help="only these purposes (default: every purpose)")
    sp.add_argument("--subject", nargs="+", action="extend", metavar="REF",
                    help="subjects in scope: identifier or pseudonym:<hex>; others appear "
                    "as counts only")
    sp.add_argument("--subjects", metavar="FILE", help="subjects in scope, one a line")
    sp.add_argument("--breach", nargs="+", action="extend", metavar="ID",
                    help="only these breaches (default: those detected in the period)")
    sp.add_argument("--request", nargs="+", action="extend", metavar="ID",
                    help="only these rights requests (default: those received in the period)")
    sp.add_argument("--lang", choices=("fr", "en"), default="fr",
                    help="the report's language (default fr: the recipient is the CNIL)")
    sp.add_argument("--as-of", metavar="T", help="registers as they stood at T "
                    "(default: the end of the period; not earlier)")
    sp.add_argument("--known-at", metavar="K", help="only from entries recorded by K")
    sp.add_argument("--title", help="the report's title")
    sp.add_argument("--reference", help="the inquiry's reference number")
    sp.add_argument("--reveal", action="store_true", help="show the personal values of "
                    "the subjects in scope (the read is recorded, with the reference as "
                    "its reason)")
    sp.add_argument("--actor", help="who builds the pack (recorded with --reveal; "
                    "default: $LEDGER_ACTOR, else cli:<user>)")
    sp.add_argument("--no-pdf", action="store_true", help="write no PDF (HTML only)")
    json_option(sp)
    sp.epilog = f"{TIMES}.\n\n{sp.epilog}"
