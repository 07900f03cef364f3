"""``ledger inquiry`` and ``ledger verify --inquiry`` on both databases: the pack's files,
the 8 sections, an independent recount of its figures, tampering named, markup shown as
text, data minimisation and --reveal, bad input refused."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from ledger.app.application import Ledger
from tests.inquiry_kit import CANDIDATE, entries, fill, run

PERIOD = ("--from", "2026-03-01", "--to", "2026-03-31")
# the period in UTC as the test reads it (Paris: +01:00 in winter, +02:00 from 29 March)
START, END = "2026-02-28T23:00:00.000000Z", "2026-03-31T21:59:59.999999Z"
SOPHIE = "sophie.bernard@example.fr"  # under a legal hold: her values are still there
CHOICE = {"given": "ConsentGiven", "refused": "ConsentRefused",
          "withdrawn": "ConsentWithdrawn"}


def build(env: dict[str, str], out: Path, *args: str) -> dict[str, Any]:
    done = run(env, "inquiry", "-o", str(out), *PERIOD, "--no-pdf", "--json", *args)
    return dict(json.loads(done.stdout))


def expected(fig_id: str, rows: list[dict[str, Any]]) -> int:
    """The test's own count for a figure id, from the entries (not from figures.json)."""
    inside = [e for e in rows if START <= e["occurred_at"] <= END]

    def count(kind: str, **payload: Any) -> int:
        return sum(1 for e in inside if e["type"] == kind and
                   all(e["payload"].get(k) == v for k, v in payload.items()))
    parts = fig_id.split(".")
    if parts[0] == "consent":
        return count(CHOICE[parts[1]], purpose=parts[2])
    if parts[0] == "collected":
        return count("DataCollected", purpose=parts[1], category=parts[2])
    if parts[0] == "disclosures":
        return count("DataDisclosed", purpose=parts[1])
    if parts[0] == "transfers":
        return count("DataDisclosed", purpose=parts[1], outside_eea=True)
    kinds = {"requests.received": "RightsRequestReceived",
             "breaches.detected": "BreachDetected", "accesses": "PersonalDataAccessed"}
    return count(kinds[fig_id])


def test_pack_sections_spreadsheets_and_independent_recount(
        ledger: Ledger, cli_env: dict[str, str], tmp_path: Path) -> None:
    fill(ledger, tmp_path / "day")
    pack = tmp_path / "pack"
    out = build(cli_env, pack, "--reference", "CNIL-2026-042")
    assert out["evidence"]["verified"] and out["pdf"] is None
    html = (pack / "rapport.html").read_text(encoding="utf-8")
    for n in range(1, 9):
        assert f'<section id="s{n}" data-section="{n}">' in html
    assert 'id="evidence"' in html and "CNIL-2026-042" in html
    assert "default-src 'none'" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing external
    assert "03/03/2026" in html and "(+01:00)" in html                  # French, offset
    figures = json.loads((pack / "figures.json").read_text(encoding="utf-8"))
    rows = entries(pack)
    ids = {f["id"]: f["value"] for f in figures["figures"]}
    assert ids["requests.received"] == 2 and ids["breaches.detected"] == 2
    assert ids["consent.given.recruitment"] == 1 and ids["consent.withdrawn.recruitment"] == 1
    for fig_id, value in ids.items():
        assert value == expected(fig_id, rows), fig_id
    assert "2 demandes reçues sur la période" in html
    cited = {c["seq"] for c in figures["cited"]}
    assert cited and all(f'id="e{s}"' in html for s in cited)
    book = load_workbook(pack / "registres.xlsx")
    assert book.sheetnames == ["consent", "retention", "requests", "breaches", "disclosures",
                               "accesses"]
    assert book["requests"].max_row == 3  # header and the two requests
    raw = (pack / "registres-requests.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert table[0][:2] == ["subject", "request_id"] and len(table) == 3
    done = run(cli_env, "verify", "--inquiry", str(pack), "--pubkey",
               out["evidence"]["pubkey"])
    assert done.stdout.startswith("OK: inquiry pack") and "figures recounted" in done.stdout


def _tampered(pack: Path, tmp: Path, name: str) -> Path:
    copy = tmp / name
    shutil.copytree(pack, copy)
    return copy


def test_verify_inquiry_names_what_was_tampered(
        ledger: Ledger, cli_env: dict[str, str], tmp_path: Path) -> None:
    fill(ledger, tmp_path / "day")
    pack = tmp_path / "pack"
    build(cli_env, pack)
    offline = {k: v for k, v in cli_env.items() if k != "LEDGER_DATABASE_URL"}
    run(offline, "verify", "--inquiry", str(pack))
    # one entry of the evidence: its purpose changed
    bad = _tampered(pack, tmp_path, "entry")
    path = bad / "evidence" / "entries.jsonl"
    lines = path.read_bytes().split(b"\n")
    i = next(n for n, line in enumerate(lines) if b'"type":"ConsentGiven"' in line)
    seq = json.loads(lines[i][65:])["seq"]
    lines[i] = lines[i].replace(b'"purpose":"', b'"purpose":"x', 1)
    path.write_bytes(b"\n".join(lines))
    done = run(offline, "verify", "--inquiry", str(bad), code=1)
    assert f"FAILED at seq {seq}:" in done.stdout
    # a figure of the report
    bad = _tampered(pack, tmp_path, "figure")
    doc = json.loads((bad / "figures.json").read_text(encoding="utf-8"))
    doc["figures"][0]["value"] += 1
    (bad / "figures.json").write_text(json.dumps(doc), encoding="utf-8")
    done = run(offline, "verify", "--inquiry", str(bad), "--json", code=1)
    report = json.loads(done.stdout)
    assert report["mismatches"][0]["id"] == doc["figures"][0]["id"]
    # a cited entry's proof
    bad = _tampered(pack, tmp_path, "proof")
    path = bad / "evidence" / "proofs.jsonl"
    proofs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    proofs[-1]["path"][0] = "00" * 32
    path.write_text("".join(json.dumps(p) + "\n" for p in proofs), encoding="utf-8")
    done = run(offline, "verify", "--inquiry", str(bad), code=1)
    assert f"FAILED at seq {proofs[-1]['seq']}:" in done.stdout


def test_markup_in_a_notice_or_breach_shows_as_text(
        ledger: Ledger, cli_env: dict[str, str], tmp_path: Path) -> None:
    fill(ledger, tmp_path / "day", markup=True)
    pack = tmp_path / "pack"
    build(cli_env, pack, "--lang", "en")
    html = (pack / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html and "<b>gras" not in html
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    assert html.count(escaped) == 2  # the notice's text and the breach's description
    assert "Contents" in html and "2026-03-04 09:00 +01:00" in html


def test_minimisation_subjects_in_scope_and_reveal(
        ledger: Ledger, cli_env: dict[str, str], tmp_path: Path) -> None:
    fill(ledger, tmp_path / "day")
    pseudonym = ledger.pseudonym(SOPHIE)
    everyone = {e["subject"] for e in entries(_build_into(cli_env, tmp_path / "a"))
                if e["subject"]}
    texts = _texts(tmp_path / "a")
    assert not any(s[:12] in texts for s in everyone)  # no subject named: counts only
    assert "hors périmètre" in texts and SOPHIE not in texts
    _build_into(cli_env, tmp_path / "b", "--subject", SOPHIE)
    texts = _texts(tmp_path / "b")
    assert pseudonym[:12] in texts and SOPHIE not in texts and "Bernard" not in texts
    assert not any(s[:12] in texts for s in everyone - {pseudonym})
    before = ledger.head()[0]
    _build_into(cli_env, tmp_path / "c", "--subject", SOPHIE, "--reveal",
                "--reference", "CNIL-2026-042")
    assert "Bernard" in (tmp_path / "c" / "rapport.html").read_text(encoding="utf-8")
    reads = json.loads(run(cli_env, "accesses", "--json").stdout)["accesses"]
    mine = [r for r in reads if r["seq"] > before]
    assert [(r["subject"], r["reason"]) for r in mine] == [(pseudonym, "inquiry CNIL-2026-042")]


def _build_into(env: dict[str, str], out: Path, *args: str) -> Path:
    build(env, out, *args)
    return out


def _texts(pack: Path) -> str:
    names = ["rapport.html", *sorted(p.name for p in pack.glob("*.csv"))]
    return "\n".join((pack / n).read_text(encoding="utf-8") for n in names)


def test_bad_input_is_refused_naming_the_option(
        ledger: Ledger, cli_env: dict[str, str], tmp_path: Path) -> None:
    fill(ledger, tmp_path / "day")
    head = ledger.head()
    out = str(tmp_path / "pack")
    cases = {
        ("--from", "2026-04-01", "--to", "2026-03-01"): "--from: must not be later than --to",
        (*PERIOD, "--purpose", "nope"): "--purpose: 'nope' is not a purpose",
        (*PERIOD, "--as-of", "2026-03-15"): "--as-of: must not be earlier than --to",
        (*PERIOD, "--subject", CANDIDATE, "--reveal"): "--reveal: needs --reference",
        (*PERIOD, "--reveal"): "--reveal: needs subjects in scope",
        (*PERIOD, "--reference", "a\x07b"): "--reference: must not contain control characters",
        ("--from", "2026-02-30", "--to", "2026-03-01"): "--from: is not a valid calendar date",
    }
    for args, message in cases.items():
        done = run(cli_env, "inquiry", "-o", out, *args, code=2)
        assert message in done.stderr, (args, done.stderr)
        assert not Path(out).exists()
    Path(out).mkdir()
    (Path(out) / "x").write_text("x")
    done = run(cli_env, "inquiry", "-o", out, *PERIOD, code=2)
    assert "-o: must be a new or empty folder" in done.stderr
    assert ledger.head() == head


def test_without_chromium_the_html_is_written_and_the_package_named(
        ledger: Ledger, cli_env: dict[str, str], tmp_path: Path) -> None:
    fill(ledger, tmp_path / "day")
    env = {**cli_env, "LEDGER_CHROMIUM": str(tmp_path / "no-such-browser")}
    done = run(env, "inquiry", "-o", str(tmp_path / "pack"), *PERIOD)
    assert "apt-get install chromium" in done.stderr
    assert "PDF missing" in done.stdout
    assert (tmp_path / "pack" / "rapport.html").is_file()
    assert not (tmp_path / "pack" / "rapport.pdf").exists()


def test_a_failed_build_leaves_no_pack(ledger: Ledger, env: dict[str, str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that fails half-way (here: while rendering) leaves neither the folder nor
    its hidden work folder, and the same command then succeeds."""
    from projections.inquiry import build as building
    from projections.inquiry.scope import Scope
    from projections.queries import Reader

    fill(ledger, tmp_path / "day")
    out = tmp_path / "packs" / "pack"
    scope = Scope.parse(start="2026-03-01", end="2026-03-31", zone=lambda: "Europe/Paris")

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("the disk is full")
    with Reader(ledger.url or "", ledger.name, env=env) as r:
        monkeypatch.setattr(building, "render_report", broken)
        with pytest.raises(RuntimeError):
            building.build_pack(r, scope, out, pdf=False)
        assert list((tmp_path / "packs").iterdir()) == []
        monkeypatch.undo()
        done = building.build_pack(r, scope, out, pdf=False)
    assert done["folder"] == str(out) and (out / "rapport.html").is_file()
    assert sorted(p.name for p in (tmp_path / "packs").iterdir()) == ["pack"]


@given(start=st.text(max_size=40), end=st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_any_period_text_is_a_scope_or_an_error_naming_the_option(start: str, end: str) -> None:
    from ledger.errors import InputError
    from projections.inquiry.scope import Scope

    try:
        scope = Scope.parse(start=start, end=end, zone=lambda: "Europe/Paris")
    except InputError as exc:
        assert exc.field in ("--from", "--to")
    else:
        assert scope.start <= scope.end
