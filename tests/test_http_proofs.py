"""Checkpoints and proofs over HTTP (ledger/http/proof_routes.py), on both databases.

What the auditor receives must check with the verifier's own functions: the
checkpoint's signature with the ledger's public key, the inclusion proof against
the checkpoint's root, the consistency proof between two checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.app.application import Ledger
from ledger.app.proofs import prover_of
from ledger.trust.ed25519 import verify_checkpoint_signature
from ledger.trust.merkle import leaf_hash, verify_consistency, verify_inclusion
from ledger.trust.notes import parse_checkpoint
from tests.http_kit import Api, api_for
from tests.proof_helpers import fill


@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    with api_for(ledger, db_url, env) as a:
        yield a


def test_checkpoint_and_proofs_check_with_the_verifier(api: Api, ledger: Ledger) -> None:
    assert api.get("/v1/checkpoints/latest", as_="auditor").status_code == 404
    fill(ledger, 37)
    prover = prover_of(ledger)
    prover.checkpoint()
    old = api.get("/v1/checkpoints/latest", as_="auditor").json()
    fill(ledger, 300)
    prover.checkpoint()
    r = api.get("/v1/checkpoints/latest", as_="auditor")
    assert r.status_code == 200
    new = r.json()
    assert (old["tree_size"], new["tree_size"]) == (37, 300)
    key = prover.verifier_key()
    cp = parse_checkpoint(new["note"])
    verify_checkpoint_signature(cp, key)
    assert cp.root.hex() == new["root"]
    note = api.get("/v1/checkpoints/latest", as_="auditor",
                   headers={"Accept": "text/plain"})
    assert note.headers["content-type"].startswith("text/plain")
    assert note.text == new["note"]

    for seq in (1, 2, 37, 38, 255, 256, 257, 300):
        p = api.get(f"/v1/proofs/inclusion/{seq}", as_="auditor").json()
        entry_hash = ledger.show(seq)["hash"]  # type: ignore[index]
        assert p["leaf_hash"] == leaf_hash(bytes.fromhex(entry_hash)).hex()
        verify_inclusion(seq - 1, 300, bytes.fromhex(p["leaf_hash"]),
                         [bytes.fromhex(h) for h in p["path"]], cp.root)
    p = api.get("/v1/proofs/inclusion/5", as_="auditor", params={"size": 37}).json()
    verify_inclusion(4, 37, bytes.fromhex(p["leaf_hash"]), [bytes.fromhex(h) for h in p["path"]],
                     bytes.fromhex(old["root"]))

    c = api.get("/v1/proofs/consistency", as_="auditor", params={"old": 37, "new": 300}).json()
    verify_consistency(37, 300, bytes.fromhex(old["root"]), cp.root,
                       [bytes.fromhex(h) for h in c["path"]])
    c = api.get("/v1/proofs/consistency", as_="auditor", params={"old": 37}).json()
    assert c["new_size"] == 300


def test_roles_and_bad_sizes(api: Api, ledger: Ledger) -> None:
    fill(ledger, 10)
    prover_of(ledger).checkpoint()
    for path in ("/v1/checkpoints/latest", "/v1/proofs/inclusion/3",
                 "/v1/proofs/consistency?old=2&new=5"):
        assert api.get(path, as_="auditor").status_code == 200
        assert api.get(path, as_="dpo").status_code == 200
        assert api.get(path, as_="service").status_code == 403
        assert api.get(path, as_=None).status_code == 401
    # below 1 (the schema's minimum) or a relation between two parameters: 422
    for path, field in (("/v1/proofs/inclusion/0", "seq"),
                        ("/v1/proofs/inclusion/3?size=0", "size"),
                        ("/v1/proofs/inclusion/5?size=4", "seq"),
                        ("/v1/proofs/consistency?old=0&new=5", "old"),
                        ("/v1/proofs/consistency?old=6&new=5", "old")):
        r = api.get(path, as_="auditor")
        assert r.status_code == 422, (path, r.text)
        assert r.json()["field"] == field
    # beyond the ledger (10 entries): 404, problem details naming the parameter
    for path, field in (("/v1/proofs/inclusion/11", "seq"),
                        ("/v1/proofs/inclusion/3?size=99", "size"),
                        ("/v1/proofs/inclusion/12?size=11", "size"),
                        ("/v1/proofs/consistency?old=11", "old"),
                        ("/v1/proofs/consistency?old=1&new=99", "new")):
        r = api.get(path, as_="auditor")
        assert r.status_code == 404, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["field"] == field
        assert r.json()["rule"] == "must be at most the ledger's size (10)"
    assert api.get("/v1/proofs/inclusion/x", as_="auditor").status_code == 422
    assert api.get("/v1/proofs/consistency", as_="auditor").status_code == 422
