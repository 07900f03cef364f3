# ruff: noqa: E501  (the examples of the specifications are quoted as they are)
"""Cosignatures and the witness protocol in one process (issue 16): the formats against the
examples of the C2SP specifications, every answer of add-checkpoint (200, 400, 403, 404,
409, 422), the state written atomically, and a property test over random trees."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.app.witness import Witness, origin_hash
from ledger.errors import ConfigError, VerificationError, WitnessRefusal
from ledger.trust.cosignature import (
    Quorum,
    WitnessKey,
    add_cosignatures,
    check_quorum,
    cosign,
    cosigned_message,
    format_add_checkpoint,
    parse_add_checkpoint,
    parse_witness_key,
)
from ledger.trust.ed25519 import public_key_of, sign, valid_signature
from ledger.trust.merkle import EMPTY_ROOT, consistency_path, leaf_hash, list_subtree
from ledger.trust.notes import VerifierKey, checkpoint_body, format_note, parse_checkpoint

# -- the examples of the specifications ---------------------------------------------------
# c2sp.org/tlog-cosignature: a checkpoint with a log signature and a cosignature
COSIGNED_EXAMPLE = """example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==
"""
# c2sp.org/tlog-witness: an add-checkpoint request body
REQUEST_EXAMPLE = """old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
\u2014 example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
"""


def test_the_cosignature_example_reads_as_the_spec_says() -> None:
    cp = parse_checkpoint(COSIGNED_EXAMPLE)
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
    cosig = cp.signatures[1]
    assert cosig.name == "witness.example.com/w1" and len(cosig.signature) == 8 + 64
    # the timestamp of the example's signed message ("time 1679315147"), big-endian
    assert int.from_bytes(cosig.signature[:8], "big") == 1679315147
    assert cosigned_message(cp.body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")


def test_the_signed_note_example_verifies_and_its_key_id_follows_the_rule() -> None:
    vk = VerifierKey.for_key("example.com/foo", base64.b64decode(
        "AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")[1:])
    assert str(vk) == "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    blob = base64.b64decode("Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYj"
                            "OBH3mFXmRKuwHjG1Yu72IneyaQM=")
    assert blob[:4] == vk.key_id
    assert valid_signature(vk.public_key, blob[4:], b"This is an example message.\n")
    assert not valid_signature(vk.public_key, blob[4:], b"This is an example message!\n")


def test_the_request_example_parses_and_formats_back() -> None:
    req = parse_add_checkpoint(REQUEST_EXAMPLE.encode())
    assert req.old == 20852014 and len(req.proof) == 4
    assert req.proof[0] == base64.b64decode("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=")
    assert parse_checkpoint(req.note).size == 20852163
    assert format_add_checkpoint(req.old, req.proof, req.note) == REQUEST_EXAMPLE.encode()


@pytest.mark.parametrize("body", [b"old 01\n\nx", b"old -1\n\nx", b"new 1\n\nx", b"old 1\nx",
                                  b"old 1\nnot base64!\n\nx", b"old 1\nAAAA\n\nx",
                                  b"old 1\n" + b"".join(base64.b64encode(bytes(32)) + b"\n"
                                                        for _ in range(64)) + b"\nx",
                                  b"\xff\xfe"])
def test_malformed_requests_are_400(body: bytes) -> None:
    with pytest.raises(WitnessRefusal) as err:
        parse_add_checkpoint(body)
    assert err.value.status == 400


def test_witness_keys_use_type_0x04_and_are_checked() -> None:
    seed = secrets.token_bytes(32)
    key = WitnessKey.of_seed("witness.example/w1", seed)
    pub = public_key_of(seed)
    assert key.key_id == hashlib.sha256(b"witness.example/w1\n\x04" + pub).digest()[:4]
    assert str(key).split("+", 2)[2] == base64.b64encode(b"\x04" + pub).decode()
    assert parse_witness_key(str(key)) == key
    log_style = str(VerifierKey.for_key("witness.example/w1", pub))  # type 0x01: not a witness
    for bad in (log_style, str(key).replace(key.key_id.hex(), "00000000"), "w+1+2"):
        with pytest.raises(VerificationError):
            parse_witness_key(bad)


# -- a small log and a witness in a folder ------------------------------------------------
class Log:
    """A log of random leaves signed with its own key (the test's stand-in for a ledger)."""

    def __init__(self, origin: str = "ledger.example/main", seed: bytes | None = None) -> None:
        self.seed = seed or secrets.token_bytes(32)
        self.key = VerifierKey.for_key(origin, public_key_of(self.seed))
        self.leaves: list[bytes] = []

    def grow(self, n: int) -> None:
        self.leaves += [leaf_hash(secrets.token_bytes(32)) for _ in range(n)]

    def note(self, size: int | None = None) -> str:
        size = len(self.leaves) if size is None else size
        root = list_subtree(self.leaves)(0, size) if size else EMPTY_ROOT
        body = checkpoint_body(self.key.name, size, root)
        return format_note(body, self.key.name, self.key.key_id, sign(self.seed, body.encode()))

    def request(self, old: int, size: int | None = None) -> bytes:
        size = len(self.leaves) if size is None else size
        proof = consistency_path(old, size, list_subtree(self.leaves)) if 0 < old < size else []
        return format_add_checkpoint(old, proof, self.note(size))


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    w = Witness.init(tmp_path / "w1", "witness.example/w1")
    w.clock = lambda: 1_700_000_000.5
    return w


def refusal(w: Witness, body: bytes) -> WitnessRefusal:
    with pytest.raises(WitnessRefusal) as err:
        w.add_checkpoint(body)
    return err.value


def test_every_answer_of_add_checkpoint(witness: Witness, tmp_path: Path) -> None:
    log = Log()
    log.grow(10)
    assert refusal(witness, log.request(0)).status == 404            # unknown origin
    witness.add_log(str(log.key))
    impostor = Log(origin=log.key.name)                               # same origin, other key
    impostor.grow(10)
    assert refusal(witness, impostor.request(0)).status == 403
    bad_sig = log.note().replace(log.note().split(" ")[-1], base64.b64encode(
        log.key.key_id + bytes(64)).decode() + "\n")
    assert refusal(witness, format_add_checkpoint(0, [], bad_sig)).status == 403
    assert refusal(witness, format_add_checkpoint(0, [bytes(32)], log.note())).status == 422
    assert refusal(witness, log.request(11, 10)).status == 400       # old above the size
    body = checkpoint_body(log.key.name, 0, bytes(32))
    wrong = format_note(body, log.key.name, log.key.key_id, sign(log.seed, body.encode()))
    assert refusal(witness, format_add_checkpoint(0, [], wrong)).status == 422
    line = witness.add_checkpoint(log.request(0))                     # 200: a cosignature
    cp = parse_checkpoint(add_cosignatures(log.note(), [line]))
    assert [c["time"] for c in Quorum((witness.key(),), 1).check(cp)] == [1_700_000_000]
    log.grow(5)
    conflict = refusal(witness, log.request(0))                        # 409: it holds 10
    assert (conflict.status, conflict.size) == (409, 10)
    fork = Log(origin=log.key.name, seed=log.seed)                     # same key, other leaves
    fork.grow(15)
    assert refusal(witness, fork.request(10)).status == 422
    same_size_fork = refusal(witness, fork.request(10, 10))
    assert same_size_fork.status == 422
    assert witness.add_checkpoint(log.request(10)).startswith("\u2014 witness.example/w1 ")
    assert witness.add_checkpoint(log.request(15))  # the same checkpoint again: cosigned again
    assert refusal(witness, log.request(15, 10)).status == 400        # never backwards
    # the state is on disk, in one JSON file replaced atomically; a new object reads it
    again = Witness(tmp_path / "w1")
    assert again.state()[log.key.name]["size"] == 15
    assert again.latest(origin_hash(log.key.name)) is not None
    assert again.latest(origin_hash("other")) is None
    assert not list((tmp_path / "w1").glob(".*.tmp"))
    assert json.loads((tmp_path / "w1" / "state.json").read_text())[log.key.name]["size"] == 15


def test_a_witness_folder_is_created_once(tmp_path: Path) -> None:
    Witness.init(tmp_path / "w", "w.example/1")
    with pytest.raises(ConfigError, match="already holds"):
        Witness.init(tmp_path / "w", "w.example/1")
    with pytest.raises(ConfigError, match="no witness"):
        Witness(tmp_path / "nothing")
    with pytest.raises(ConfigError, match="whitespace"):
        Witness.init(tmp_path / "x", "bad name")


def test_quorum_counts_distinct_valid_cosignatures() -> None:
    seeds = [secrets.token_bytes(32) for _ in range(3)]
    keys = [WitnessKey.of_seed(f"w.example/{i}", s) for i, s in enumerate(seeds)]
    log = Log()
    log.grow(3)
    note = log.note()
    cp0 = parse_checkpoint(note)
    lines = [cosign(s, k.name, cp0.body, 1_700_000_000 + i).line()
             for i, (s, k) in enumerate(zip(seeds[:2], keys[:2], strict=True))]
    cp = parse_checkpoint(add_cosignatures(note, lines))
    assert len(check_quorum(cp, keys, 2)) == 2
    assert len(check_quorum(cp, [keys[0], keys[0]], 1)) == 1      # a key counts once
    with pytest.raises(VerificationError, match="1 valid cosignature, "):
        check_quorum(cp, [keys[0], keys[0], keys[2]], 2)
    with pytest.raises(VerificationError, match=r"no cosignature by w\.example/2"):
        check_quorum(cp, keys, 3)
    with pytest.raises(VerificationError, match="in the future"):
        check_quorum(cp, keys[:1], 1, not_after=1_600_000_000)
    with pytest.raises(VerificationError, match="quorum must be between"):
        check_quorum(cp, keys, 4)
    # a cosignature moved to another checkpoint, or with its time edited, is refused
    log.grow(1)
    moved = parse_checkpoint(add_cosignatures(log.note(), lines))
    with pytest.raises(VerificationError, match="bad cosignature"):
        check_quorum(moved, keys[:1], 1)
    blob = bytearray(base64.b64decode(lines[0].split(" ")[-1]))
    blob[11] ^= 1
    edited = lines[0].rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(blob)).decode() + "\n"
    with pytest.raises(VerificationError, match="bad cosignature"):
        check_quorum(parse_checkpoint(add_cosignatures(note, [edited])), keys[:1], 1)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=5),
       st.integers(min_value=0, max_value=3))
def test_honest_growth_is_cosigned_and_any_fork_refused(tmp_path_factory: pytest.TempPathFactory,
                                                         steps: list[int], fork_at: int) -> None:
    w = Witness.init(tmp_path_factory.mktemp("w") / "w", "w.example/p")
    log = Log()
    w.add_log(str(log.key))
    held = 0
    for i, n in enumerate(steps):
        log.grow(n)
        if i == fork_at % len(steps) and held:
            fork = Log(origin=log.key.name, seed=log.seed)      # the operator's key, rewritten
            fork.leaves = list(log.leaves)
            fork.leaves[secrets.randbelow(held)] = leaf_hash(b"rewritten")
            assert refusal(w, fork.request(held)).status == 422
        w.add_checkpoint(log.request(held))
        held = len(log.leaves)
    assert w.state()[log.key.name]["size"] == held


def test_concurrent_pushes_never_roll_the_witness_back(witness: Witness) -> None:
    """tlog-witness: the check of the old size and the update are one atomic step (the
    flock of the folder); of pushes racing from the same old size, one wins, the others
    get 409 with the winner's size, and the size held never goes down."""
    import threading

    log = Log()
    witness.add_log(str(log.key))
    log.grow(10)
    witness.add_checkpoint(log.request(0))
    held = 10
    for _ in range(3):
        log.grow(80)
        bodies = [log.request(held, size) for size in range(held + 10, held + 81, 10)]
        answers: list[object] = []
        gate = threading.Barrier(len(bodies))

        def push(body: bytes, gate: threading.Barrier, answers: list[object]) -> None:
            gate.wait()
            try:
                answers.append(witness.add_checkpoint(body))
            except WitnessRefusal as exc:
                answers.append(exc)
        threads = [threading.Thread(target=push, args=(b, gate, answers)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wins = [a for a in answers if isinstance(a, str)]
        refusals = [a for a in answers if isinstance(a, WitnessRefusal)]
        new = witness.state()[log.key.name]["size"]
        assert len(wins) == 1 and new > held
        assert {(r.status, r.size) for r in refusals} == {(409, new)}
        held = new
