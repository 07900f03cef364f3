"""RFC 3161 time-stamps of checkpoints (issue 16), against a TSA run here on loopback:
OpenSSL's `ts -reply` behind a small http.server handler, with a test CA and a TSA
certificate (extendedKeyUsage critical,timeStamping) made by openssl in the test."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ledger.app.application import Ledger
from ledger.app.proofs import prover_of
from tests.proof_helpers import fill

CONFIG = """\
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[tsa_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[req]
distinguished_name = dn
[dn]
[tsa]
default_tsa = tsa1
[tsa1]
serial = {dir}/serial
signer_cert = {dir}/tsa.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def openssl(*args: str, cwd: Path) -> None:
    out = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr


def make_ca(folder: Path, name: str) -> None:
    """A root CA ``name``.pem / .key in ``folder``."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj",
            f"/CN={name}", "-config", "openssl.cnf", "-extensions", "ca_ext", cwd=folder)


@pytest.fixture
def tsa(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The TSA's URL and its root CA certificate (PEM)."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed for the RFC 3161 tests (apt-get install openssl)")
    d = tmp_path / "tsa"
    d.mkdir()
    (d / "openssl.cnf").write_text(CONFIG.format(dir=d))
    (d / "serial").write_text("01\n")
    make_ca(d, "ca")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=Test TSA", "-config",
            "openssl.cnf", cwd=d)
    openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "tsa.pem", "-days", "2", "-extfile", "openssl.cnf",
            "-extensions", "tsa_ext", cwd=d)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:  # one serial file
                (d / "q.tsq").write_bytes(query)
                out = subprocess.run(["openssl", "ts", "-reply", "-config", "openssl.cnf",
                                      "-queryfile", "q.tsq", "-out", "r.tsr"], cwd=d,
                                     capture_output=True, check=False)
                reply = (d / "r.tsr").read_bytes() if out.returncode == 0 else b""
            self.send_response(200 if reply else 500)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", d / "ca.pem"
    finally:
        server.shutdown()
        server.server_close()


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_checkpoints_are_time_stamped_and_checked(ledger: Ledger, tsa: tuple[str, Path],
                                                  cli_env: dict[str, str],
                                                  tmp_path: Path) -> None:
    url, ca = tsa
    ledger.env = {**(ledger.env or {}), "LEDGER_TSA_URL": url}
    fill(ledger, 12)
    cp = prover_of(ledger).checkpoint()
    assert [t["ok"] for t in cp["timestamps"]] == [True], cp["timestamps"]
    kept = tmp_path / "kept.txt"
    kept.write_text(cp["note"])
    ok = cli(cli_env, "verify", "--checkpoint", str(kept), "--tsa-cert", str(ca))
    assert ok.returncode == 0 and "time-stamped (RFC 3161)" in ok.stdout, ok
    bundle = tmp_path / "bundle"
    assert cli(cli_env, "audit-bundle", "-o", str(bundle)).returncode == 0
    assert (bundle / "timestamps.jsonl").exists()
    out = cli(cli_env, "verify", "--bundle", str(bundle), "--tsa-cert", str(ca))
    assert out.returncode == 0 and "a TSA time-stamped the tree head of size 12" in out.stdout
    assert cli(cli_env, "verify", "--bundle", str(bundle)).returncode == 0   # without: as before
    # another CA: refused; a token moved onto another checkpoint: refused
    make_ca(tsa[1].parent, "other")
    other = tsa[1].parent / "other.pem"
    for args in (("--checkpoint", str(kept)), ("--bundle", str(bundle))):
        bad = cli(cli_env, "verify", *args, "--tsa-cert", str(other))
        assert bad.returncode == 1 and "does not verify" in bad.stdout, bad
    lines = (bundle / "timestamps.jsonl").read_text()
    fill(ledger, 13)
    ledger.env = {k: v for k, v in ledger.env.items() if k != "LEDGER_TSA_URL"}
    prover_of(ledger).checkpoint()                 # no TSA now: size 13 has no time-stamp
    moved = tmp_path / "moved"
    assert cli(cli_env, "audit-bundle", "-o", str(moved)).returncode == 0
    (moved / "timestamps.jsonl").write_text(lines.replace('"tree_size": 12', '"tree_size": 13'))
    out = cli(cli_env, "verify", "--bundle", str(moved), "--tsa-cert", str(ca))
    assert out.returncode == 1 and "Mismatch between messages" in out.stdout, out
    (moved / "timestamps.jsonl").write_text(lines)
    out = cli(cli_env, "verify", "--bundle", str(moved), "--tsa-cert", str(ca))
    assert out.returncode == 1 and "newest checkpoint (13) has no RFC 3161" in out.stdout


def test_a_tsa_that_is_down_does_not_fail_the_checkpoint(ledger: Ledger) -> None:
    ledger.env = {**(ledger.env or {}), "LEDGER_TSA_URL": "http://127.0.0.1:9/"}
    fill(ledger, 3)
    cp = prover_of(ledger).checkpoint()
    assert cp["tree_size"] == 3 and [t["ok"] for t in cp["timestamps"]] == [False]
    assert [c["tree_size"] for c in prover_of(ledger).checkpoints()] == [3]


def test_a_receipt_carries_the_time_stamp_of_its_checkpoint(
        ledger: Ledger, tsa: tuple[str, Path], cli_env: dict[str, str], tmp_path: Path) -> None:
    url, ca = tsa
    fill(ledger, 6)
    old = tmp_path / "old.json"
    assert cli(cli_env, "receipt", "4", "-o", str(old)).returncode == 0   # no TSA: as before
    assert '"timestamps"' not in old.read_text()
    assert cli(cli_env, "verify", "--receipt", str(old)).returncode == 0
    out = cli(cli_env, "verify", "--receipt", str(old), "--tsa-cert", str(ca))
    assert out.returncode == 1 and "none in the receipt" in out.stdout
    ledger.env = {**(ledger.env or {}), "LEDGER_TSA_URL": url}
    fill(ledger, 8)
    prover_of(ledger).checkpoint()
    new = tmp_path / "new.json"
    assert cli(cli_env, "receipt", "7", "-o", str(new)).returncode == 0
    ok = cli(cli_env, "verify", "--receipt", str(new), "--tsa-cert", str(ca), "--json")
    assert ok.returncode == 0 and '"timestamped":[{"tree_size":8' in ok.stdout, ok
    assert cli(cli_env, "verify", "--receipt", str(new)).returncode == 0
