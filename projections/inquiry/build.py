"""Building an inquiry pack: ``ledger inquiry -o DIR`` and ``POST /v1/inquiries``.

The pack (docs/FORMAT.md §17)::

    rapport.html (report.html)   the report: 8 sections, charts, evidence index
    rapport.pdf (report.pdf)     the same, printed by headless Chromium (when installed)
    registres.xlsx, registres-<register>.csv (registers.*)   the registers of the scope
    figures.json                 every figure and the rule that recounts it; cited entries
    evidence/                    audit bundle, checkpoint.txt, proofs.jsonl, VERIFY.md
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.app.accesses import AccessBy
from ledger.app.evidence import write_evidence
from ledger.errors import InputError
from ledger.trust.canonical import format_time

from ..queries import Reader
from .pdf import print_pdf
from .render import render_report, show_time
from .scope import Scope
from .sections import Gathered, gather
from .spreadsheets import write_spreadsheets

__all__ = ["NAMES", "build_pack"]

NAMES = {"fr": ("rapport", "registres"), "en": ("report", "registers")}

VERIFY = """\
# Checking this inquiry pack

Offline, with no database and no key of the controller, with the ledger's verifier
(`pip install` the ledger's source, or write your own from its docs/FORMAT.md §12 and §17):

    ledger verify --inquiry {folder} --pubkey '{key}'

It checks the chain of evidence/entries.jsonl (entries {first}..{last}), the Ed25519
signatures of the checkpoints, that evidence/checkpoint.txt (tree size {size}) is the
bundle's last one, every inclusion proof of evidence/proofs.jsonl ({proofs} entries cited by
the report), and recounts each of the {figures} figures of figures.json from the entries.
Obtain the key from the controller by another channel: the pubkey file in this folder can
be replaced together with the signatures. The bundle alone:

    ledger verify --bundle {folder}/evidence --pubkey '{key}'
"""


def _check_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError("-o", "must be a new or empty folder")


def build_pack(reader: Reader, scope: Scope, out: Path, *, by: AccessBy | None = None,
               pdf: bool = True) -> dict[str, Any]:
    """Write the pack for ``scope`` into ``out`` (new or empty); ``by``: who builds it
    (with ``--reveal`` the read of the subjects' values is recorded in their name, the
    inquiry's reference as the reason).

    The pack is written into a hidden folder beside ``out`` and renamed to ``out`` when
    complete: a build that fails or is killed leaves no half pack under ``out``."""
    _check_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        done = _build(reader, scope, work, by=by, pdf=pdf, final=out)
        _check_folder(out)
        if out.exists():
            out.rmdir()
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return {**done, "folder": str(out)}


def _build(reader: Reader, scope: Scope, out: Path, *, by: AccessBy | None,
           pdf: bool, final: Path) -> dict[str, Any]:
    zone = reader.time_zone()
    pseudonyms = {ref: reader.pseudonym(ref) for ref in scope.subjects}
    g = gather(scope, reader, pseudonyms)
    if scope.reveal:
        _reveal(g, reader, by)
    evidence = write_evidence(reader.url, reader.name, out / "evidence", since=scope.start,
                              cited=g.cited, env=_env(reader))
    entries = _proven(out / "evidence" / "proofs.jsonl")
    for seq in list(g.cited):
        g.cited[seq] = entries[seq]["hash"] if seq in entries else g.cited[seq]
    figures = g.figures.as_json(g.cited)
    (out / "figures.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")
    report, sheets = NAMES[scope.lang]
    generated = format_time(datetime.now(UTC))
    html = render_report(g, zone=zone, evidence=evidence, entries=entries,
                         generated_at=generated)
    (out / f"{report}.html").write_text(html, encoding="utf-8")
    files = [f"{report}.html", "figures.json", *write_spreadsheets(
        out, g.sheets, lambda t: show_time(t, zone, scope.lang), sheets)]
    bundle = evidence["bundle"]
    (out / "evidence" / "VERIFY.md").write_text(VERIFY.format(
        folder=final, key=bundle["pubkey"], first=bundle["first_seq"], last=bundle["last_seq"],
        size=evidence["tree_size"], proofs=len(entries), figures=len(figures["figures"])),
        encoding="utf-8")
    missing = print_pdf(out / f"{report}.html", out / f"{report}.pdf") if pdf else "not asked"
    if missing is None:
        files.insert(1, f"{report}.pdf")
    return {"folder": str(out), "files": files, "pdf": None if missing else f"{report}.pdf",
            "pdf_missing": missing, "figures": len(figures["figures"]),
            "cited": len(entries), "evidence": {
                "first_seq": bundle["first_seq"], "last_seq": bundle["last_seq"],
                "entries": bundle["entries"], "tree_size": evidence["tree_size"],
                "verified": evidence["verified"]["ok"], "pubkey": bundle["pubkey"]},
            "subjects_in_scope": len(pseudonyms), "revealed": scope.reveal}


def _env(reader: Reader) -> Any:
    """Where the signing key is: the reader's settings, else its open ledger's."""
    if reader.env is not None:
        return reader.env
    return getattr(reader.ledger, "env", None)


def _proven(path: Path) -> dict[int, dict[str, Any]]:
    """The cited entries, from the proofs just written (seq -> entry, hash, line)."""
    out: dict[int, dict[str, Any]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        proof = json.loads(line)
        entry = json.loads(proof["entry"])
        out[proof["seq"]] = {**entry, "hash": proof["hash"], "line": n}
    return out


def _reveal(g: Gathered, reader: Reader, by: AccessBy | None) -> None:
    """The values of the subjects in scope, their reads recorded first (export)."""
    reason = f"inquiry {g.scope.reference}"
    who = AccessBy(by.actor if by else "cli:inquiry", by.channel if by else "cli",
                   reason=reason, reason_field="--reference")
    for subject in g.sections["consent"]["subjects"]:
        doc = reader.export(subject["ref"], as_of=g.scope.at, known_at=g.scope.known_at,
                            by=who)
        subject["revealed"] = [
            {"seq": e["seq"], "type": e["type"],
             "data": json.dumps(e.get("data"), ensure_ascii=False, sort_keys=True)}
            for e in doc["events"] if g.inside(e["occurred_at"])]
