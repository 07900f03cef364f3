# ruff: noqa: PLC0415  (commands import their modules lazily: `ledger --help` stays fast)
"""Commands of the proofs (issue 4): ``prove``, ``checkpoint``, ``pubkey``, ``audit-bundle``,
``receipt``, and the offline modes of ``verify`` (``--bundle``, ``--checkpoint``,
``--receipt``).  Heavy modules are imported inside the commands (``ledger --help``
stays fast); none of these commands needs the master key.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.cli.format import Column, Table, plural, say, short_time
from ledger.cli.main import (
    EXIT_FAILED,
    EXIT_OK,
    DeprecatedAlias,
    database_url,
    ledger_name,
    print_json,
)
from ledger.errors import InputError, VerificationError

if TYPE_CHECKING:
    from ledger.app.proofs import Prover
    from ledger.trust.cosignature import Quorum

__all__ = ["register", "verify_offline", "wants_offline_verify"]

def _prover(args: argparse.Namespace) -> AbstractContextManager[Prover]:
    """The prover of the ledger the command names (no master key), closed on leaving."""
    from ledger.app.proving import open_prover

    return open_prover(database_url(args), ledger_name(args))


def _count(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None


# -- commands --------------------------------------------------------------------------
def cmd_prove(args: argparse.Namespace) -> int:
    try:
        return _prove(args)
    except VerificationError as exc:  # a missing or corrupt entry: exit 1, not 3
        return _failed(args, exc)


def _prove(args: argparse.Namespace) -> int:
    if args.consistency is not None:
        if args.seq is not None or args.size is not None:
            raise InputError("--consistency", "takes OLD NEW and no SEQ or --size")
        old, new = args.consistency
        with _prover(args) as p:
            out = p.consistency(old, new)
        if args.json:
            print_json(out)
        else:
            print(f"consistency {out['old_size']} -> {out['new_size']}\n"
                  f"old root {out['old_root']}\nnew root {out['new_root']}")
            print("\n".join(f"  {h}" for h in out["path"]))
        return EXIT_OK
    if args.seq is None:
        raise InputError("SEQ", "is required (or --consistency OLD NEW)")
    with _prover(args) as p:
        out = p.inclusion(args.seq, args.size)
    if args.json:
        print_json(out)
    else:
        print(f"entry {out['seq']} (leaf {out['leaf_index']}) in the tree of "
              f"{plural(out['tree_size'], 'entry', 'entries')}\nleaf hash {out['leaf_hash']}"
              f"\nroot {out['root']}")
        print("\n".join(f"  {h}" for h in out["path"]))
    return EXIT_OK


def cmd_checkpoint(args: argparse.Namespace) -> int:
    if args.cosigned:
        from ledger.cli.witness import print_cosigned

        return print_cosigned(args)
    with _prover(args) as p:
        if args.list:
            cps = p.checkpoints()
            if args.json:
                for c in cps:
                    print_json(c)
            else:
                for line in _CHECKPOINTS.lines([(c["tree_size"], c["root"],
                                                 short_time(c["created_at"])) for c in cps]):
                    print(line)
            return EXIT_OK
        if args.every is not None:
            if args.every < 0:
                raise InputError("--every", "must be a whole number ≥ 0 (0: no automatic "
                                 "checkpoints)")
            p.set_every(args.every)
        cp = p.checkpoint()
        if p.pinned_now:
            print(f"ledger: this ledger had no pinned signing key (initialised before "
                  f"pinning): pinned {p.pinned_now}; checkpoints are signed with it only",
                  file=sys.stderr)
    if args.json:
        print_json(cp)
    else:
        sys.stdout.write(cp["note"])
    return EXIT_OK


def cmd_pubkey(args: argparse.Namespace) -> int:
    import base64

    with _prover(args) as p:
        key = p.verifier_key()
    if args.json:
        print_json({"key": str(key), "name": key.name, "key_id": key.key_id.hex(),
                     "ed25519": base64.b64encode(key.public_key).decode()})
    else:
        print(key)
    return EXIT_OK


def cmd_audit_bundle(args: argparse.Namespace) -> int:
    from ledger.app.bundle import write_bundle

    with _prover(args) as p:
        out = write_bundle(p, Path(args.output), args.start)
    if args.json:
        print_json(out)
    else:
        say(f"wrote {out['folder']}: entries {out['first_seq']}..{out['last_seq']}, "
              f"{plural(out['checkpoints'], 'checkpoint')}; key {out['pubkey']}")
    return EXIT_OK


def cmd_receipt(args: argparse.Namespace) -> int:
    from ledger.app.receipts import make_receipt

    with _prover(args) as p:
        receipt = make_receipt(p, args.seq, args.format)
    text = json.dumps(receipt, ensure_ascii=False, indent=1) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError("-o", f"cannot be written ({exc.strerror})") from None
        kind = {"kantara": "Kantara Consent Receipt v1.1",
                "iso27560": "ISO/IEC TS 27560 consent record (DPV)"}[args.format]
        say(f"wrote {args.output}: entry {args.seq} as a {kind}, checkpoint of "
              f"{plural(receipt['ledger']['proof']['tree_size'], 'entry', 'entries')}")
    return EXIT_OK


# `ledger checkpoint --list`: the root whole (an auditor compares it), time to the second
_CHECKPOINTS = Table([Column("TREE SIZE", 10, right=True), Column("ROOT", 64),
                      Column("CREATED (UTC)")])


# -- verify --bundle / --checkpoint / --receipt -------------------------------------------
def wants_offline_verify(args: argparse.Namespace) -> bool:
    wanted = any(getattr(args, a, None) for a in ("bundle", "checkpoint", "receipt", "inquiry"))
    if not wanted and getattr(args, "pubkey", None) is not None:
        raise InputError("--pubkey", "goes with --bundle, --checkpoint, --receipt or --inquiry")
    if getattr(args, "incremental", False) and not getattr(args, "checkpoint", None):
        raise InputError("--incremental", "goes with --checkpoint")
    if not wanted and (getattr(args, "witness", None) or getattr(args, "quorum", None)):
        raise InputError("--witness", "goes with --bundle, --checkpoint, --receipt, --inquiry")
    return wanted


def _tsa(args: argparse.Namespace) -> list[Any]:
    from ledger.cli.witness import tsa_roots_of

    return tsa_roots_of(args)


def _quorum(args: argparse.Namespace) -> Quorum | None:
    from ledger.cli.witness import quorum_of

    return quorum_of(args)


def _pubkey(args: argparse.Namespace) -> str | None:
    if args.pubkey is None:
        return None
    text = str(args.pubkey)
    if "\n" not in text and Path(text).is_file():  # a file holding the key
        text = Path(text).read_text(encoding="utf-8").strip()
    return text


def _read_text(path: str, option: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(option, f"cannot be read ({exc})") from None


def _failed(args: argparse.Namespace, exc: VerificationError, **extra: Any) -> int:
    if args.json:
        print_json({"ok": False, "first_bad_seq": exc.seq, "reason": exc.reason, **extra})
    else:
        print(f"FAILED: {exc}")
    return EXIT_FAILED


def verify_offline(args: argparse.Namespace) -> int:
    """``ledger verify`` with --bundle, --checkpoint or --receipt."""
    if args.receipt and (args.bundle or args.checkpoint):
        raise InputError("--receipt", "goes alone (not with --bundle or --checkpoint)")
    key = _pubkey(args)
    if getattr(args, "inquiry", None):  # an inquiry pack (ledger inquiry): goes alone
        from ledger.cli.inquiry_verify import verify_inquiry
        return verify_inquiry(args, key)
    if args.bundle:
        return _verify_bundle(args, key)
    if args.receipt:
        return _verify_receipt(args, key)
    return _verify_checkpoint(args, key)


def _verify_bundle(args: argparse.Namespace, key: str | None) -> int:
    from ledger.app.bundle_verify import verify_bundle

    kept = []
    if args.checkpoint:  # offline: the bundle must extend the checkpoint the auditor kept
        from ledger.trust.notes import parse_checkpoints

        if args.incremental:
            raise InputError("--incremental", "goes with --checkpoint on a database, not "
                             "with --bundle")
        try:
            kept = parse_checkpoints(_read_text(args.checkpoint, "--checkpoint"))
        except VerificationError as exc:
            raise InputError("--checkpoint", f"is not a signed checkpoint ({exc.reason})") \
                from None
    # the command is an import-safe entry point: it may spawn worker processes
    report = verify_bundle(Path(args.bundle), key, workers=args.workers, spawn=True,
                           kept=kept, quorum=_quorum(args), tsa_roots=_tsa(args))
    if args.json:
        print_json(report.as_dict())
    elif report.ok:
        kept_text = f" (yours: {', '.join(map(str, report.kept))})" if report.kept else ""
        say(f"OK: bundle entries {report.first_seq}..{report.last_seq}, checkpoints "
              f"{', '.join(map(str, report.checkpoints)) or 'none'}{kept_text} verified; key "
              f"{report.key_from}")
        say("proves:\n" + "\n".join(f"  - {p}" for p in report.proves))
        say("does not prove:\n" + "\n".join(f"  - {p}" for p in report.does_not_prove))
    else:
        where = f"at seq {report.first_bad_seq}: " if report.first_bad_seq else ""
        say(f"FAILED {where}{report.reason}")
    return EXIT_OK if report.ok else EXIT_FAILED


def _verify_receipt(args: argparse.Namespace, key: str | None) -> int:
    from ledger.trust.receipt_check import verify_receipt

    try:
        receipt = json.loads(_read_text(args.receipt, "--receipt"))
    except ValueError:
        raise InputError("--receipt", "must be a JSON receipt written by `ledger receipt`") \
            from None
    try:
        out = verify_receipt(receipt, key, quorum=_quorum(args))
        if _tsa(args):
            from ledger.app.timestamps import check_receipt_timestamps

            out["timestamped"] = check_receipt_timestamps(receipt, _tsa(args))
    except VerificationError as exc:
        return _failed(args, exc)
    if args.json:
        print_json(out)
    else:
        say(f"OK: entry {out['seq']} ({out['type']}, event {out['event_id']}) is in the "
              f"signed tree of {plural(out['tree_size'], 'entry', 'entries')}; key "
              f"{out['key_from']}")
    return EXIT_OK


def _verify_checkpoint(args: argparse.Namespace, key_text: str | None) -> int:
    from ledger.app.extension import verify_extension
    from ledger.trust.notes import parse_checkpoint, parse_verifier_key

    text = _read_text(args.checkpoint, "--checkpoint")
    quorum = _quorum(args)
    local: list[str] = []
    with _prover(args) as p:
        try:
            cp = parse_checkpoint(text)
            key = parse_verifier_key(key_text) if key_text is not None else p.verifier_key()
            out = verify_extension(p, cp, key, incremental=args.incremental,
                                   workers=args.workers, spawn=True)
            if quorum is not None:
                from ledger.app.witnessing import local_times

                out["witnessed"] = quorum.check(cp)
                local = local_times(p, out["witnessed"])
            if _tsa(args):
                from ledger.app.timestamps import check_stored_timestamps

                out["timestamped"] = check_stored_timestamps(p, cp, _tsa(args))
        except VerificationError as exc:
            return _failed(args, exc)
    if args.json:
        print_json(out)
    else:
        say(f"OK: the ledger ({plural(out['new_size'], 'entry', 'entries')}, root "
              f"{out['new_root']}) extends the checkpoint of "
              f"{plural(out['old_size'], 'entry', 'entries')} ({out['mode']} check, "
              f"{plural(out['entries_checked'], 'entry', 'entries')} read)")
        for w, at in zip(out.get("witnessed", []), local, strict=False):
            print(f"  cosigned by witness {w['witness']} at {at}")
        for t in out.get("timestamped", []):
            print(f"  time-stamped (RFC 3161) by {t['tsa']} at {t['gen_time']} (UTC)")
    return EXIT_OK


# -- registration --------------------------------------------------------------------------
def add_verify_options(sp: argparse.ArgumentParser) -> None:
    """The offline options of ``ledger verify`` (added by cli.py's verify command)."""
    sp.add_argument("--bundle", metavar="DIR", help="verify an audit bundle offline")
    sp.add_argument("--checkpoint", metavar="FILE", help="prove the ledger (with "
                    "--bundle: the bundle, offline) extends this signed checkpoint you kept "
                    "(rollback and truncation detection)")
    sp.add_argument("--receipt", metavar="FILE", help="verify a receipt offline")
    sp.add_argument("--inquiry", metavar="DIR", help="verify an inquiry pack offline")
    sp.add_argument("--pubkey", metavar="KEY", help="the verifier key name+id+key (or a "
                    "file holding it); default: the one in the bundle or receipt, or the "
                    "ledger's own")
    sp.add_argument("--incremental", action="store_true", help="with --checkpoint: read "
                    "only the entries after it (docs/PROOFS.md)")
    sp.add_argument("--witness", nargs="+", metavar="KEY", help="witness keys (`ledger "
                    "witness pubkey`, or files of them): the checkpoint (the bundle's newest, "
                    "the receipt's) must carry their cosignatures (docs/PROOFS.md)")
    sp.add_argument("--quorum", type=_count, metavar="K", help="with --witness: how many "
                    "of the witnesses must have cosigned (default: all)")
    sp.add_argument("--tsa-cert", metavar="PEM", help="RFC 3161: the TSA root certificates;"
                    " the checkpoint (the bundle's newest) must have a time-stamp that verifies")


def register(sub: Any, add: Callable[..., argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    sp = add("prove", cmd_prove, "inclusion proof of an entry, or consistency proof "
             "between two tree sizes (RFC 9162)",
             examples=["ledger prove 5", "ledger prove 5 --size 40 --json",
                       "ledger prove --consistency 40 47 --json"])
    sp.add_argument("seq", nargs="?", type=_count, metavar="SEQ", help="the entry to prove "
                    "included (not with --consistency)")
    sp.add_argument("--size", type=_count, metavar="N", help="tree size (default: the head)")
    sp.add_argument("--consistency", nargs=2, type=_count, metavar=("OLD", "NEW"),
                    help="prove the tree of NEW entries extends the tree of OLD entries")
    sp.add_argument("--json", action="store_true", help="print the proof as one JSON object")
    sp = add("checkpoint", cmd_checkpoint, "sign and record a checkpoint of the tree head",
             examples=["ledger checkpoint > kept.txt     # a signed tree head to keep",
                       "ledger checkpoint --every 1000", "ledger checkpoint --list",
                       "ledger checkpoint --cosigned > kept.txt"])
    sp.add_argument("--every", type=_count, metavar="N", help="also checkpoint "
                    "automatically after appends that cross a multiple of N (0: off)")
    sp.add_argument("--list", action="store_true", help="list the recorded checkpoints "
                    "(a table; --json: one object per checkpoint, with its signed note)")
    sp.add_argument("--json", action="store_true", help="print the checkpoint (or, with "
                    "--list, each one) as JSON")
    sp.add_argument("--cosigned", action="store_true", help="print the newest checkpoint "
                    "that witnesses cosigned, with their cosignatures (signs nothing)")
    sp = add("pubkey", cmd_pubkey, "print the checkpoint verifier key",
             examples=["ledger pubkey > ledger.pub", "ledger pubkey --json"])
    sp.add_argument("--json", action="store_true", help="print the key, its name, id and "
                    "Ed25519 public key as one JSON object")
    sp = add("audit-bundle", cmd_audit_bundle, "write an offline audit bundle",
             examples=["ledger audit-bundle -o bundle/",
                       "ledger audit-bundle -o bundle/ --from-seq 1000 --json"])
    sp.add_argument("-o", "--output", required=True, metavar="DIR", help="the folder to "
                    "write (created; must be absent or empty)")
    sp.add_argument("--from-seq", dest="start", type=_count, default=1, metavar="SEQ",
                    help="first entry of the bundle (default 1); a sequence number, not a time")
    sp.add_argument("--from", dest="start", type=_count, action=DeprecatedAlias,
                    new="--from-seq")
    sp.add_argument("--json", action="store_true", help="print what was written as one "
                    "JSON object")
    sp = add("receipt", cmd_receipt, "write a self-contained receipt for one entry",
             examples=["ledger receipt 5 -o receipt-5.json",
                       "ledger receipt 5 -o - | jq .ledger.proof"])
    sp.add_argument("seq", type=_count, metavar="SEQ", help="the entry's sequence number")
    sp.add_argument("-o", "--output", required=True, metavar="FILE|-", help="the file to "
                    "write (-: stdout)")
    sp.add_argument("--format", choices=("kantara", "iso27560"), default="kantara",
                    help="kantara: a Kantara Consent Receipt v1.1 (any event about a data "
                    "subject); iso27560: an ISO/IEC TS 27560 consent record in W3C DPV terms "
                    "(consent events); default kantara (docs/FORMAT.md §13)")
    _ = common
