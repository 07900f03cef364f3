"""``ledger inquiry -o DIR``: the CNIL inquiry pack (projections/inquiry)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ledger.cli.main import print_json

from .cli_common import open_reader, zone_of

__all__ = ["cmd_inquiry"]


def cmd_inquiry(args: argparse.Namespace) -> int:
    from ledger.app.actors import cli_reader

    from .inquiry.build import build_pack
    from .inquiry.scope import Scope, read_subjects_file

    subjects = list(args.subject or [])
    if args.subjects:
        subjects += read_subjects_file(args.subjects)
    scope = Scope.parse(start=args.start, end=args.end, zone=lambda: zone_of(args),
                        purposes=args.purpose or (), subjects=subjects,
                        breaches=args.breach or (), requests=args.request or (),
                        lang=args.lang, as_of=args.as_of, known_at=args.known_at,
                        title=args.title, reference=args.reference, reveal=args.reveal)
    by = cli_reader(args.actor, f"inquiry {scope.reference}") if scope.reveal else None
    with open_reader(args, with_key=bool(subjects)) as r:
        out = build_pack(r, scope, Path(args.output), by=by, pdf=not args.no_pdf)
    if out["pdf_missing"] and not args.no_pdf:
        print(f"ledger: the PDF was not made: {out['pdf_missing']}; the HTML report is "
              "written (to make PDFs: apt-get install chromium)", file=sys.stderr)
    if args.json:
        print_json(out)
        return 0
    ev = out["evidence"]
    print(f"inquiry pack written to {out['folder']}/")
    for name in out["files"]:
        print(f"  {name}")
    if out["pdf_missing"]:
        print(f"  (PDF missing: {out['pdf_missing']})")
    print(f"  evidence/: entries {ev['first_seq']}..{ev['last_seq']}, checkpoint of size "
          f"{ev['tree_size']}, {out['cited']} inclusion proofs, {out['figures']} figures")
    print(f"check it: ledger verify --inquiry {out['folder']} --pubkey '{ev['pubkey']}'")
    return 0
