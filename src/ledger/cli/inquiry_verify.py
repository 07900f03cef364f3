"""``ledger verify --inquiry DIR [--pubkey KEY]``: an inquiry pack, offline (no database,
no key), with the pure check of :mod:`ledger.trust.inquiry_check`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ledger.cli.format import say
from ledger.cli.main import EXIT_FAILED, EXIT_OK, print_json
from ledger.cli.witness import quorum_of
from ledger.errors import InputError
from ledger.trust.inquiry_check import check_inquiry

__all__ = ["verify_inquiry"]


def verify_inquiry(args: argparse.Namespace, key: str | None) -> int:
    for other in ("bundle", "checkpoint", "receipt"):
        if getattr(args, other, None):
            raise InputError("--inquiry", f"goes alone (not with --{other})")
    folder = Path(args.inquiry)
    if not folder.is_dir():
        raise InputError("--inquiry", "must be the folder of an inquiry pack")
    report = check_inquiry(folder, key, quorum_of(args))
    if args.json:
        print_json(report.as_dict())
    elif report.ok:
        say(f"OK: inquiry pack {folder}: evidence entries {report.first_seq}.."
              f"{report.last_seq} verified, {report.proofs} inclusion proofs of cited "
              f"entries verified against the signed checkpoint, {report.figures} figures "
              f"recounted from the entries; key {report.key_from}")
        for w in report.witnessed or ():
            print(f"  checkpoint cosigned by witness {w['witness']} at {w['at']}")
    else:
        where = f"at seq {report.first_bad_seq}: " if report.first_bad_seq else ""
        say(f"FAILED {where}{report.reason}")
    return EXIT_OK if report.ok else EXIT_FAILED
