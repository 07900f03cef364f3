"""RFC 9162 Merkle functions: the 223 shared public vectors, and every tree size 1..300."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import VerificationError
from ledger.trust.merkle import (
    EMPTY_ROOT,
    Accumulator,
    consistency_path,
    inclusion_path,
    leaf_hash,
    list_subtree,
    node_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

VECTORS_PATH = Path("/work/shared/vectors/merkle_vectors.json")
LOCAL_COPY = Path(__file__).parent / "data" / "merkle_vectors.json"


def _vectors() -> dict[str, Any]:
    path = LOCAL_COPY if LOCAL_COPY.exists() else VECTORS_PATH
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


V = _vectors()


def h(x: str) -> bytes:
    return bytes.fromhex(x)


def test_the_vector_file_is_complete() -> None:
    total = (len(V["tree_hash_vectors"]) + 1 + len(V["inclusion_vectors"])
             + len(V["consistency_vectors"]) + len(V["real_world_vectors"]))
    assert total == 224  # 223 listed + the node-hash table
    assert V["counts"]["inclusion_vectors"] == len(V["inclusion_vectors"]) == 103
    assert V["counts"]["consistency_vectors"] == len(V["consistency_vectors"]) == 102


@pytest.mark.parametrize("v", V["tree_hash_vectors"], ids=lambda v: v["id"])
def test_tree_hash_vectors(v: dict[str, Any]) -> None:
    leaves = [leaf_hash(h(x)) for x in v["leaf_inputs"]]
    assert len(leaves) == v["tree_size"]
    assert root_of(leaves).hex() == v["expected_root"]
    assert list_subtree(leaves)(0, len(leaves)).hex() == v["expected_root"]


def test_node_hash_vector() -> None:
    v = V["node_hash_vector"]
    level = [leaf_hash(h(x)) for x in v["leaf_inputs"]]
    for expected in v["levels"]:
        assert [x.hex() for x in level] == expected
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]


def test_empty_tree() -> None:
    assert EMPTY_ROOT.hex() == hashlib.sha256(b"").hexdigest() == root_of([]).hex()


def _ok(fn: Any, *args: Any) -> bool:
    try:
        fn(*args)
    except VerificationError:
        return False
    return True


@pytest.mark.parametrize("v", V["inclusion_vectors"], ids=lambda v: v["id"])
def test_inclusion_vectors(v: dict[str, Any]) -> None:
    lh = h(v["leaf_hash"]) if v["leaf_hash"] is not None else leaf_hash(h(v["leaf_input"]))
    if v.get("leaf_input") is not None:
        assert leaf_hash(h(v["leaf_input"])) == lh
    ok = _ok(verify_inclusion, v["leaf_index"], v["tree_size"], lh,
             [h(p) for p in v["proof"]], h(v["root"]))
    assert ok is v["expect_valid"]


@pytest.mark.parametrize("v", V["consistency_vectors"], ids=lambda v: v["id"])
def test_consistency_vectors(v: dict[str, Any]) -> None:
    ok = _ok(verify_consistency, v["size1"], v["size2"], h(v["root1"]), h(v["root2"]),
             [h(p) for p in v["proof"]])
    assert ok is v["expect_valid"]


@pytest.mark.parametrize("v", V["real_world_vectors"], ids=lambda v: v["id"])
def test_real_world_inclusion_and_checkpoint(v: dict[str, Any]) -> None:
    from ledger.trust.notes import parse_checkpoint

    lh = leaf_hash(h(v["leaf_input"]))
    verify_inclusion(v["leaf_index"], v["tree_size"], lh, [h(p) for p in v["proof"]],
                     h(v["root"]))
    cp = parse_checkpoint(v["checkpoint_note"])
    assert cp.size == v["tree_size"] and cp.root.hex() == v["root"]
    assert cp.origin == "rekor.sigstore.dev - 8050909264565447525".replace("sigstore",
                                                                          "sigstage")
    # The real note is signed with ECDSA P-256 (Rekor): its key id is the first four
    # bytes of SHA-256 of the key's SPKI DER, and the rest is a DER signature over the body.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    spki = h(v["checkpoint_public_key_spki_der"])
    [sig] = cp.signatures
    assert sig.name == "rekor.sigstage.dev"
    assert sig.key_id == hashlib.sha256(spki).digest()[:4]
    key = serialization.load_der_public_key(spki)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(sig.signature, cp.body.encode(), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        key.verify(sig.signature, cp.body.replace("25901179", "25901178").encode(),
                   ec.ECDSA(hashes.SHA256()))
    bad = [bytearray(h(p)) for p in v["proof"]]
    bad[3][0] ^= 1
    assert not _ok(verify_inclusion, v["leaf_index"], v["tree_size"], lh,
                   [bytes(b) for b in bad], h(v["root"]))


# -- every tree size 1..300, in memory -------------------------------------------------
LEAVES = [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(300)]


def _reference_mth(leaves: list[bytes]) -> bytes:
    """The recursive definition, word for word, as an independent reference."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(_reference_mth(leaves[:k]), _reference_mth(leaves[k:]))


ROOTS = [root_of(LEAVES[:n]) for n in range(301)]


def test_accumulator_matches_the_recursive_definition() -> None:
    for n in range(301):
        assert ROOTS[n] == _reference_mth(LEAVES[:n])


def test_accumulator_resumes_from_a_frontier() -> None:
    for n in (0, 1, 5, 64, 100, 255):
        acc = Accumulator()
        for lh in LEAVES[:n]:
            acc.push(lh)
        resumed = Accumulator.from_frontier(n, acc.stack)
        for lh in LEAVES[n:300]:
            resumed.push(lh)
        assert resumed.root() == ROOTS[300]


def _flip(path: list[bytes], i: int, bit: int) -> list[bytes]:
    out = list(path)
    b = bytearray(out[i])
    b[bit // 8] ^= 1 << (bit % 8)
    out[i] = bytes(b)
    return out


def test_inclusion_for_every_leaf_of_every_size_up_to_300() -> None:
    sub = list_subtree(LEAVES)
    rnd = random.Random(4)
    for n in range(1, 301):
        for i in range(n):
            path = inclusion_path(i, n, sub)
            verify_inclusion(i, n, LEAVES[i], path, ROOTS[n])
            if path and rnd.random() < 0.05:
                bad = _flip(path, rnd.randrange(len(path)), rnd.randrange(256))
                assert not _ok(verify_inclusion, i, n, LEAVES[i], bad, ROOTS[n])
                assert not _ok(verify_inclusion, i, n, LEAVES[i], path[:-1], ROOTS[n])
        assert not _ok(verify_inclusion, 0, n, LEAVES[0], inclusion_path(0, n, sub),
                       ROOTS[n - 1] if n > 1 else EMPTY_ROOT)


def test_consistency_for_a_dense_sample_of_pairs_up_to_300() -> None:
    sub = list_subtree(LEAVES)
    rnd = random.Random(9)
    pairs = [(m, n) for n in range(1, 301) for m in range(1, n + 1)
             if n <= 64 or m <= 16 or m >= n - 16 or (m * 7 + n) % 11 == 0]
    assert len(pairs) > 9000
    for m, n in pairs:
        path = consistency_path(m, n, sub)
        verify_consistency(m, n, ROOTS[m], ROOTS[n], path)
        if path:
            bad = _flip(path, rnd.randrange(len(path)), rnd.randrange(256))
            assert not _ok(verify_consistency, m, n, ROOTS[m], ROOTS[n], bad)
        if m < n:
            assert not _ok(verify_consistency, m, n, ROOTS[m - 1] if m > 1 else LEAVES[1],
                           ROOTS[n], path)


def test_every_bit_of_a_proof_matters() -> None:
    sub = list_subtree(LEAVES)
    path = inclusion_path(77, 300, sub)
    for i in range(len(path)):
        for bit in range(256):
            assert not _ok(verify_inclusion, 77, 300, LEAVES[77], _flip(path, i, bit),
                           ROOTS[300])
    cpath = consistency_path(100, 300, sub)
    for i in range(len(cpath)):
        for bit in range(0, 256, 7):
            assert not _ok(verify_consistency, 100, 300, ROOTS[100], ROOTS[300],
                           _flip(cpath, i, bit))
