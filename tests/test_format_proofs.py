"""docs/FORMAT.md §14: the worked example of the tree, proofs and checkpoint is what the
``ledger`` command prints on §8's ledger, and an independent re-implementation agrees."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.app.checking import ledger_id_for
from tests.test_cli import run

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "FORMAT.md").read_text(encoding="utf-8")
S14 = DOC.split("## 14.")[1]
MASTER = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
SIGNING = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="


def _value(label: str) -> str:
    m = re.search(re.escape(label) + r": `([0-9a-f]{64})`", S14)
    assert m is not None, label
    return m.group(1)


def _section8_entries() -> list[tuple[bytes, str]]:
    s8 = DOC.split("## 8.")[1].split("## 9.")[0]
    entries = [b.split("\n```")[0] for b in s8.split("```json\n")[1:]]
    hashes = [line.split("`")[1] for line in s8.splitlines() if line.startswith("hash of entry")]
    return [(e.encode(), h) for e, h in zip(entries, hashes, strict=True)]


def _note() -> str:
    return S14.split("bytes come out):\n\n```\n")[1].split("```")[0]


def test_the_example_by_an_independent_implementation() -> None:
    def h(b: bytes) -> bytes:
        return hashlib.sha256(b).digest()

    (e1, h1), (e2, h2) = _section8_entries()
    assert hashlib.sha256(e1).hexdigest() == h1 and hashlib.sha256(e2).hexdigest() == h2
    l1, l2 = h(b"\x00" + bytes.fromhex(h1)), h(b"\x00" + bytes.fromhex(h2))
    assert _value("leaf hash of entry 1") == l1.hex()
    assert _value("leaf hash of entry 2") == l2.hex()
    assert _value("root of the tree of size 1") == l1.hex()
    root = h(b"\x01" + l1 + l2)
    assert _value("root of the tree of size 2") == root.hex()
    seed = base64.b64decode(SIGNING)
    assert seed == bytes(range(32, 64))
    private = Ed25519PrivateKey.from_private_bytes(seed)
    pub = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = h(b"ledger.example/main\n\x01" + pub)[:4]
    raw_key = base64.b64encode(b"\x01" + pub).decode()
    vkey = f"ledger.example/main+{kid.hex()}+{raw_key}"
    assert f"\n    {vkey}\n" in S14
    body = f"ledger.example/main\n2\n{base64.b64encode(root).decode()}\n"
    sig = private.sign(body.encode())
    assert _note() == f"{body}\n— ledger.example/main {base64.b64encode(kid + sig).decode()}\n"
    Ed25519PublicKey.from_public_bytes(pub).verify(sig, body.encode())


def test_the_example_is_what_the_commands_print(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    env = {**os.environ, "LEDGER_DATABASE_URL": url, "LEDGER_MASTER_KEY": MASTER,
           "LEDGER_SIGNING_KEY": SIGNING, "LEDGER_KEY_DIR": str(tmp_path / "keys")}
    env.pop("LEDGER_ORIGIN", None)
    assert run(env, "init").returncode == 0
    # §8's two entries, as that ledger stored them
    conn = sqlite3.connect(tmp_path / "ledger.db")
    for seq, (data, digest) in enumerate(_section8_entries(), start=1):
        entry = json.loads(data)
        conn.execute("INSERT INTO ledger_events (originator_id, originator_version, topic, "
                     "state, event_id, hash, stream) VALUES (?,?,?,?,?,?,?)",
                     (ledger_id_for("main").hex, seq, entry["type"], data, entry["event_id"],
                      digest, entry["subject"]))
    conn.commit()
    conn.close()
    assert run(env, "verify").returncode == 0
    pub = run(env, "pubkey").stdout
    assert f"\n    {pub.strip()}\n" in S14
    for args in (["prove", "1", "--json"], ["prove", "--consistency", "1", "2", "--json"]):
        out = run(env, *args)
        assert out.returncode == 0, out.stderr
        assert f"\n    {out.stdout.strip()}\n" in S14, args
    cp = run(env, "checkpoint")
    assert cp.returncode == 0 and cp.stdout == _note()
