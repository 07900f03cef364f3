# ruff: noqa: S310  (urllib on the loopback URLs the witnesses print)
"""Two witnesses as real processes on loopback (`ledger witness serve`), a ledger on each
database that appends, checkpoints and pushes (issue 16).

Attacks: a history rewritten and re-signed with the operator's key is refused by both
witnesses and fails `verify` with a quorum; a tail cut above the auditor's kept
checkpoint is caught by the witnesses' newer checkpoint; a witness killed (-9) and
restarted keeps its state.  The cosignatures are checked by an implementation written
here from the C2SP text alone (no import of the project's trust code)."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.app.application import Ledger
from ledger.app.proofs import prover_of
from ledger.app.witnessing import Witnessing
from tests.proof_helpers import fill
from tests.test_proofs import _rewrite_from
from tests.test_tamper import raw_db

pytestmark = pytest.mark.slow
LEDGER = [sys.executable, "-m", "ledger.cli"]


# -- an independent verifier, from c2sp.org/tlog-cosignature and c2sp.org/signed-note -----
def independent_cosignatures(note: str, vkey: str) -> list[int]:
    """The times of the valid cosignature/v1 lines of ``vkey`` on ``note``."""
    name, hex_id, b64 = vkey.split("+", 2)
    raw = base64.b64decode(b64)
    assert raw[0] == 0x04 and len(raw) == 33                # signature type 0x04, Ed25519
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == hex_id
    body, _, sigs = note.partition("\n\n")
    times = []
    for line in sigs.splitlines():
        prefix = "\u2014 " + name + " "
        if not line.startswith(prefix):
            continue
        blob = base64.b64decode(line[len(prefix):])
        if blob[:4].hex() != hex_id or len(blob) != 4 + 8 + 64:
            continue
        ts = int.from_bytes(blob[4:12], "big")
        message = f"cosignature/v1\ntime {ts}\n{body}\n".encode()
        try:
            Ed25519PublicKey.from_public_bytes(raw[1:]).verify(blob[12:], message)
        except InvalidSignature:
            continue
        times.append(ts)
    return times


# -- witnesses as processes ---------------------------------------------------------------
@dataclass
class WitnessProc:
    folder: Path
    key: str
    proc: subprocess.Popen[str] | None = None
    url: str = ""

    def start(self) -> None:
        self.proc = subprocess.Popen([*LEDGER, "witness", "serve", "--dir", str(self.folder),
                                      "--port", "0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()            # "witness NAME listening on http://…"
        assert "listening on http://127.0.0.1:" in line, line
        self.url = line.split("listening on ")[1].split(" ")[0]

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._close()

    def _close(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self._close()

    def latest(self, origin: str) -> tuple[int, str]:
        h = hashlib.sha256(origin.encode()).hexdigest()
        try:
            with urllib.request.urlopen(f"{self.url}/{h}/checkpoint", timeout=5) as r:
                return int(r.status), r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""

    def post(self, body: bytes) -> tuple[int, str, str]:
        req = urllib.request.Request(f"{self.url}/add-checkpoint", data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return int(r.status), r.headers["Content-Type"], r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers["Content-Type"], exc.read().decode()


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LEDGER, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def witnesses(tmp_path: Path, ledger: Ledger) -> Iterator[list[WitnessProc]]:
    out = []
    origin_key = str(prover_of(ledger).verifier_key())
    for i in (1, 2):
        folder = tmp_path / f"w{i}"
        init = cli(dict(os.environ), "witness", "init", "--dir", str(folder), "--name",
                   f"witness.example/w{i}")
        assert init.returncode == 0, init.stderr
        assert cli(dict(os.environ), "witness", "add-log", "--dir", str(folder),
                   origin_key).returncode == 0
        w = WitnessProc(folder, init.stdout.strip())
        w.start()
        out.append(w)
    try:
        yield out
    finally:
        for w in out:
            w.stop()


def attach(ledger: Ledger, ws: list[WitnessProc]) -> Witnessing:
    wit = Witnessing(prover_of(ledger))
    for w in ws:
        wit.attach(w.key, w.url)
    return wit


def checkpoint(ledger: Ledger) -> dict[str, Any]:
    cp: dict[str, Any] = prover_of(ledger).checkpoint()
    return cp


def test_two_witnesses_cosign_and_a_quorum_verifies(ledger: Ledger, witnesses: list[WitnessProc],
                                                   cli_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    wit = attach(ledger, witnesses)
    fill(ledger, 10)
    assert [r["ok"] for r in checkpoint(ledger)["witnesses"]] == [True, True]
    fill(ledger, 25)
    assert [r["ok"] for r in checkpoint(ledger)["witnesses"]] == [True, True]
    assert sorted({c["tree_size"] for c in wit.cosignatures()}) == [10, 25]
    out = cli(cli_env, "checkpoint", "--cosigned")
    assert out.returncode == 0, out.stderr
    kept = tmp_path / "kept.txt"
    kept.write_text(out.stdout)
    for w in witnesses:                          # an implementation of the spec text agrees
        assert len(independent_cosignatures(out.stdout, w.key)) == 1
    keys = [w.key for w in witnesses]
    ok = cli(cli_env, "verify", "--checkpoint", str(kept), "--witness", *keys,
             "--quorum", "2")
    assert ok.returncode == 0 and "cosigned by witness witness.example/w2" in ok.stdout, ok
    # a third witness that never cosigned: a quorum of 3 fails (exit 1)
    third = cli(dict(os.environ), "witness", "init", "--dir", str(tmp_path / "w3"), "--name",
                "witness.example/w3").stdout.strip()
    bad = cli(cli_env, "verify", "--checkpoint", str(kept), "--witness", *keys, third,
              "--quorum", "3")
    assert bad.returncode == 1 and "2 valid cosignatures, the quorum is 3" in bad.stdout
    assert cli(cli_env, "verify", "--checkpoint", str(kept), "--witness", *keys, third,
               "--quorum", "2").returncode == 0
    # bundles and receipts carry the cosignatures; old-style checks still pass without them
    bundle = tmp_path / "bundle"
    assert cli(cli_env, "audit-bundle", "-o", str(bundle)).returncode == 0
    assert cli(cli_env, "verify", "--bundle", str(bundle), "--witness", *keys).returncode == 0
    assert cli(cli_env, "verify", "--bundle", str(bundle)).returncode == 0
    receipt = tmp_path / "r.json"
    assert cli(cli_env, "receipt", "4", "-o", str(receipt)).returncode == 0
    r = cli(cli_env, "verify", "--receipt", str(receipt), "--witness", *keys, "--json")
    assert r.returncode == 0 and '"witnessed":[{' in r.stdout.replace(" ", ""), r
    assert cli(cli_env, "verify", "--receipt", str(receipt), "--witness",
               third).returncode == 1
    usage = cli(cli_env, "verify", "--quorum", "1")
    assert usage.returncode == 2 and "--witness" in usage.stderr


def test_a_witness_killed_and_restarted_keeps_its_state(ledger: Ledger,
                                                        witnesses: list[WitnessProc],
                                                        cli_env: dict[str, str]) -> None:
    wit = attach(ledger, witnesses)
    fill(ledger, 12)
    checkpoint(ledger)
    origin = prover_of(ledger).verifier_key().name
    w1 = witnesses[0]
    w1.kill9()
    fill(ledger, 15)                                           # w1 is down: w2 cosigns alone
    down = checkpoint(ledger)
    assert [r["ok"] for r in down["witnesses"]] == [False, True]
    assert prover_of(ledger).checkpoints()[-1]["tree_size"] == 15   # the checkpoint is kept
    w1.start()                                                 # a new process, a new port
    status, note = w1.latest(origin)
    assert status == 200 and note.split("\n")[1] == "12"
    assert len(independent_cosignatures(note, w1.key)) == 1
    # it still holds 12: a request from 0 is a conflict naming 12 (text/x.tlog.size)
    cp = prover_of(ledger).checkpoints()[-1]
    assert w1.post(b"old 0\n\n" + cp["note"].encode()) == (409, "text/x.tlog.size", "12\n")
    wit.attach(w1.key, w1.url)
    pushed = cli(cli_env, "witness", "push")                   # the one it missed: 12 -> 15
    assert pushed.returncode == 0 and "cosigned the checkpoint of size 15" in pushed.stdout
    fill(ledger, 20)
    assert [r["ok"] for r in checkpoint(ledger)["witnesses"]] == [True, True]
    assert w1.latest(origin)[1].split("\n")[1] == "20"


def test_a_rewritten_history_resigned_by_the_operator_is_refused(
        ledger: Ledger, witnesses: list[WitnessProc], db_url: str, cli_env: dict[str, str],
        tmp_path: Path) -> None:
    wit = attach(ledger, witnesses)
    fill(ledger, 30)
    checkpoint(ledger)
    with raw_db(db_url) as (conn, table, q):   # the operator rewrites from 12, hides the rest
        _rewrite_from(conn, table, q, 12)
        for t in ("ledger_checkpoints", "ledger_cosignatures"):
            conn.execute(f"DELETE FROM {table.replace('ledger_events', t)}")
    assert ledger.verify().ok                                 # the chain alone cannot tell
    fill(ledger, 40)
    results = checkpoint(ledger)["witnesses"]                 # signed with the operator's key
    assert [r["ok"] for r in results] == [False, False]
    assert all("does not lead to the old root" in r["detail"] for r in results), results
    assert wit.cosignatures() == []
    keys = [w.key for w in witnesses]
    bundle = tmp_path / "bundle"
    assert cli(cli_env, "audit-bundle", "-o", str(bundle)).returncode == 0
    assert cli(cli_env, "verify", "--bundle", str(bundle)).returncode == 0  # key alone: fine
    out = cli(cli_env, "verify", "--bundle", str(bundle), "--witness", *keys, "--quorum", "2")
    assert out.returncode == 1 and "0 valid cosignatures" in out.stdout, out
    # the checkpoint the witnesses hold (30, the true history) does not match the ledger
    status, held = witnesses[0].latest(prover_of(ledger).verifier_key().name)
    assert status == 200
    (tmp_path / "held.txt").write_text(held)
    out = cli(cli_env, "verify", "--checkpoint", str(tmp_path / "held.txt"), "--witness",
              *keys, "--quorum", "2")
    assert out.returncode == 1 and "FAILED" in out.stdout


def test_a_tail_cut_above_the_kept_checkpoint_is_caught_by_the_witnessed_one(
        ledger: Ledger, witnesses: list[WitnessProc], db_url: str, cli_env: dict[str, str],
        tmp_path: Path) -> None:
    attach(ledger, witnesses)
    fill(ledger, 20)
    kept = tmp_path / "kept.txt"                     # the auditor's visit: size 20
    kept.write_text(checkpoint(ledger)["note"])
    fill(ledger, 50)
    checkpoint(ledger)                               # cosigned at 50 by both witnesses
    with raw_db(db_url) as (conn, table, q):          # the operator cuts 31..50, hides it
        conn.execute(q(f"DELETE FROM {table} WHERE originator_version>?"), (30,))
        for t in ("ledger_checkpoints", "ledger_cosignatures"):
            name = table.replace("ledger_events", t)
            conn.execute(q(f"DELETE FROM {name} WHERE tree_size>?"), (30,))
    keys = [w.key for w in witnesses]
    # the auditor's own checkpoint (20) is below the cut: it alone cannot tell
    assert cli(cli_env, "verify", "--checkpoint", str(kept)).returncode == 0
    # the witnesses hold 50: their checkpoint, fetched from them, fails against the ledger
    status, held = witnesses[1].latest(prover_of(ledger).verifier_key().name)
    assert status == 200 and held.split("\n")[1] == "50"
    (tmp_path / "held.txt").write_text(held)
    out = cli(cli_env, "verify", "--checkpoint", str(tmp_path / "held.txt"), "--witness",
              *keys, "--quorum", "2")
    assert out.returncode == 1 and "FAILED" in out.stdout, out
    # and a checkpoint of the cut ledger is refused: the witnesses hold a larger tree
    results = checkpoint(ledger)["witnesses"]
    assert [r["ok"] for r in results] == [False, False]
    assert all("larger tree (50)" in r["detail"] for r in results), results


def test_the_api_serves_the_cosigned_checkpoint(ledger: Ledger, witnesses: list[WitnessProc],
                                                db_url: str, env: dict[str, str]) -> None:
    from tests.http_kit import api_for

    with api_for(ledger, db_url, env) as api:
        assert api.get("/v1/checkpoints/cosigned", as_="auditor").status_code == 404
        attach(ledger, witnesses)
        fill(ledger, 8)
        checkpoint(ledger)
        r = api.get("/v1/checkpoints/cosigned", as_="auditor")
        assert r.status_code == 200 and r.json()["cosignatures"] == 2
        assert r.json()["tree_size"] == 8
        text = api.get("/v1/checkpoints/cosigned", as_="dpo", headers={"Accept": "text/plain"})
        assert text.text == r.json()["note"]
        for w in witnesses:
            assert len(independent_cosignatures(text.text, w.key)) == 1
        assert api.get("/v1/checkpoints/cosigned", as_="service").status_code == 403
        assert api.get("/v1/checkpoints/cosigned", as_=None).status_code == 401


def test_bad_input_names_the_argument_and_the_rule(cli_env: dict[str, str], ledger: Ledger,
                                                   tmp_path: Path) -> None:
    w = tmp_path / "w"
    key = cli(cli_env, "witness", "init", "--dir", str(w), "--name", "w.example/1").stdout
    kept = tmp_path / "kept.txt"
    kept.write_text(checkpoint(ledger)["note"])
    cases = [
        (("witness", "attach", "not-a-key", "http://127.0.0.1:1"), "KEY: witness key must"),
        (("witness", "attach", str(prover_of(ledger).verifier_key()), "http://x"),
         "KEY: witness key must be a cosignature/v1 key"),
        (("witness", "attach", key.strip(), "ftp://x"), "URL: must start with http"),
        (("witness", "detach", "nobody"), "NAME: is not a witness of this ledger"),
        (("witness", "init", "--dir", str(w), "--name", "w.example/1"), "already holds"),
        (("witness", "init", "--dir", str(tmp_path / "x"), "--name", "a b"), "whitespace"),
        (("witness", "add-log", "--dir", str(w), "nope"), "witness add-log: public key"),
        (("witness", "serve", "--dir", str(tmp_path / "none")), "no witness in"),
        (("verify", "--checkpoint", str(kept), "--witness", "bad"), "--witness: witness key must"),
        (("verify", "--checkpoint", str(kept), "--witness", key.strip(), "--quorum", "2"),
         "--quorum: must be between 1 and the number of distinct witness keys (1)"),
        (("verify", "--quorum", "1"), "--witness: goes with --bundle"),
        (("checkpoint", "--cosigned"), "--cosigned: no checkpoint of this ledger has a "
                                       "cosignature yet"),
    ]
    for args, message in cases:
        out = cli(cli_env, *args)
        assert out.returncode == 2 and message in out.stderr, (args, out.stderr)
    assert cli(cli_env, "witness", "list").stdout == ""        # nothing was stored


def test_a_ledger_from_before_the_witness_tables_works_and_gets_them(
        ledger: Ledger, db_url: str, cli_env: dict[str, str], tmp_path: Path) -> None:
    with raw_db(db_url) as (conn, table, _):
        for t in ("ledger_witnesses", "ledger_cosignatures", "ledger_timestamps"):
            conn.execute(f"DROP TABLE {table.replace('ledger_events', t)}")
    fill(ledger, 6)
    cp = checkpoint(ledger)                          # no table: nothing to push, no error
    assert cp["witnesses"] == [] and cp["timestamps"] == []
    assert cli(cli_env, "audit-bundle", "-o", str(tmp_path / "b")).returncode == 0
    assert cli(cli_env, "receipt", "4", "-o", str(tmp_path / "r.json")).returncode == 0
    assert cli(cli_env, "witness", "list").returncode == 0         # creates the tables
    assert Witnessing(prover_of(ledger)).cosignatures() == []


def test_an_inquiry_pack_carries_the_cosignatures_and_verifies_with_a_quorum(
        ledger: Ledger, witnesses: list[WitnessProc], cli_env: dict[str, str],
        tmp_path: Path) -> None:
    """Issue 16 item 3 for the inquiry pack (issue 11): its checkpoint.txt is the cosigned
    note, and `verify --inquiry --witness … --quorum K` counts the cosignatures."""
    attach(ledger, witnesses)
    fill(ledger, 12)
    assert [r["ok"] for r in checkpoint(ledger)["witnesses"]] == [True, True]
    pack = tmp_path / "pack"
    made = cli(cli_env, "inquiry", "-o", str(pack), "--from", "2024-05-01", "--to",
               "2024-06-30", "--no-pdf")
    assert made.returncode == 0, made.stderr
    keys = [w.key for w in witnesses]
    for w in witnesses:  # the note in the pack, checked by the spec-only implementation
        note = (pack / "evidence" / "checkpoint.txt").read_text(encoding="utf-8")
        assert len(independent_cosignatures(note, w.key)) == 1
    ok = cli(cli_env, "verify", "--inquiry", str(pack), "--witness", *keys, "--quorum", "2")
    assert ok.returncode == 0 and "cosigned by witness witness.example/w1" in ok.stdout, ok
    third = cli(dict(os.environ), "witness", "init", "--dir", str(tmp_path / "w3"), "--name",
                "witness.example/w3").stdout.strip()
    short = cli(cli_env, "verify", "--inquiry", str(pack), "--witness", *keys, third,
                "--quorum", "3", "--json")
    assert short.returncode == 1 and "the quorum is 3" in short.stdout, short
    assert cli(cli_env, "verify", "--inquiry", str(pack)).returncode == 0  # without witnesses
