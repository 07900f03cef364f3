"""The verifiable format: canonical JSON, the pure verifier, docs in step with code."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.catalogue_doc import render
from ledger.errors import VerificationError
from ledger.trust.canonical import canonical_bytes, check_domain, format_time, parse_time
from ledger.trust.chain import GENESIS_HASH, Entry, entry_hash
from ledger.trust.verify import ChainVerifier, verify_chain, verify_rows

ROOT = Path(__file__).resolve().parent.parent


def test_jcs_examples() -> None:
    # key order, no whitespace, raw UTF-8, minimal escapes (RFC 8785 §3.2.2.2)
    value = {"b": 1, "a": "é\n\t\"\\\u001f\u007f\u2028", "c": [True, None, -0, 2**53 - 1]}
    assert canonical_bytes(value) == (
        '{"a":"é\\n\\t\\"\\\\\\u001f\u007f\u2028","b":1,"c":[true,null,0,9007199254740991]}'
    ).encode()


@pytest.mark.parametrize(("value", "why"), [
    (1.5, "integers"), (2**53, "2^53"), ({"A": 1}, "keys"), ({"a": "\ud800"}, "surrogates"),
    ({"a": [{"b": 0.0}]}, "a[0].b"), (object(), "JSON"),
])
def test_domain_is_guarded(value: Any, why: str) -> None:
    reason = check_domain(value)
    assert reason is not None and why in reason


DOMAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) |
    st.text().filter(lambda s: check_domain(s) is None),
    lambda inner: st.lists(inner, max_size=4) |
    st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True), inner, max_size=4),
    max_leaves=12)


@given(DOMAIN)
def test_canonical_round_trip(value: Any) -> None:
    data = canonical_bytes(value)
    assert canonical_bytes(json.loads(data)) == data


def test_time_format() -> None:
    t = parse_time("2024-05-01T08:00:00.500000Z")
    assert format_time(t) == "2024-05-01T08:00:00.500000Z"
    for bad in ["2024-05-01T08:00:00Z", "2024-05-01T08:00:00.5Z", "2024-05-01 08:00:00.000000Z"]:
        with pytest.raises(ValueError, match="time must be"):
            parse_time(bad)


def chain(n: int) -> list[tuple[int, str, bytes]]:
    rows, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        e = Entry(seq=seq, event_id=f"00000000-0000-4000-8000-{seq:012d}", type="ConsentGiven",
                  subject="ab" * 32, occurred_at="2024-05-01T08:00:00.000000Z",
                  recorded_at=f"2024-05-01T08:00:{seq % 60:02d}.000000Z" if seq < 60 else
                  "2024-05-01T08:01:00.000000Z", actor="test",
                  payload={"purpose": "recruitment"}, prev_hash=prev)
        data = e.canonical()
        prev = entry_hash(data)
        rows.append((seq, prev, data))
    return rows


def test_pure_verifier_accepts_a_good_chain() -> None:
    rows = chain(80)
    assert verify_chain(rows) == rows[-1][1]
    result = verify_rows(rows)
    assert result and result.entries == 80 and result.first_bad_seq is None


def test_verifier_resumes_from_a_trusted_point() -> None:
    rows = chain(10)
    v = ChainVerifier(start_seq=6, prev_hash=rows[4][1],
                      prev_recorded_at=json.loads(rows[4][2])["recorded_at"])
    assert verify_rows(rows[5:], verifier=v).entries == 5


def _swap_bytes(rows: list[tuple[int, str, bytes]], i: int, new: bytes) -> None:
    seq, _, _ = rows[i]
    rows[i] = (seq, hashlib.sha256(new).hexdigest(), new)


@pytest.mark.parametrize(("case", "bad_seq", "reason"), [
    ("float", 3, "not valid JSON"),
    ("extra key", 3, "exactly the entry keys"),
    ("seq differs", 3, "seq differs"),
    ("time back", 3, "back in time"),
    ("time format", 3, "recorded_at"),
    ("not json", 3, "not valid JSON"),
    ("not utf-8", 3, "not valid UTF-8"),
    ("duplicate key", 3, "not canonical"),
    ("escaped character", 3, "not canonical"),
    ("whitespace", 3, "not canonical"),
])
def test_verifier_rejects(case: str, bad_seq: int, reason: str) -> None:
    rows = chain(5)
    entry = json.loads(rows[2][2])
    if case == "float":
        new = rows[2][2].replace(b'"seq":3', b'"seq":3.0')
    elif case == "extra key":
        entry["zz"] = 1
        new = canonical_bytes(entry)
    elif case == "seq differs":
        entry["seq"] = 4
        new = canonical_bytes(entry)
    elif case == "time back":
        entry["recorded_at"] = "2024-05-01T07:00:00.000000Z"
        new = canonical_bytes(entry)
    elif case == "time format":
        entry["recorded_at"] = "2024-05-01T09:00:00Z"
        new = canonical_bytes(entry)
    elif case == "not json":
        new = b"{nope"
    elif case == "duplicate key":
        new = rows[2][2].replace(b'{"actor"', b'{"actor":null,"actor"', 1)
    elif case == "escaped character":   # "\u0041" is "A": same value, not the JCS spelling
        new = rows[2][2].replace(b'"type":"', b'"type":"\\u0041', 1)
    elif case == "whitespace":
        new = rows[2][2].replace(b'","', b'", "', 1)
    else:
        new = b"\xff\xfe"
    _swap_bytes(rows, 2, new)
    result = verify_rows(rows)
    assert not result and result.first_bad_seq == bad_seq
    assert result.reason is not None and reason in result.reason
    with pytest.raises(VerificationError) as err:
        verify_chain(rows)
    assert err.value.seq == bad_seq


def test_events_doc_is_generated_from_the_catalogue() -> None:
    doc = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    assert doc.rstrip("\n") == render().rstrip("\n"), \
        "run: python -m ledger.domain.catalogue_doc > docs/events.md"


def test_format_doc_example_verifies() -> None:
    """docs/FORMAT.md's worked example: its bytes hash to the hashes it states."""
    doc = (ROOT / "docs" / "FORMAT.md").read_text(encoding="utf-8")
    blocks = doc.split("```json\n")[1:]
    entries = [b.split("\n```")[0] for b in blocks if b.startswith('{"actor"')]
    hashes = [line.split("`")[1] for line in doc.splitlines()
              if line.startswith("hash of entry ")]
    assert len(entries) >= 2 and len(entries) == len(hashes)
    rows = [(json.loads(e)["seq"], h, e.encode()) for e, h in zip(entries, hashes, strict=True)]
    result = verify_rows(rows)
    assert result.ok and result.entries == len(rows), result


def test_format_doc_sealing_example_with_an_independent_implementation() -> None:
    """Re-derive §8's pseudonym, key check value and sealed value from FORMAT.md's
    text alone, with hashlib/hmac/cryptography directly (not ledger.keys.sealing)."""
    import base64
    import hmac
    import re

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    doc = (ROOT / "docs" / "FORMAT.md").read_text(encoding="utf-8")
    master = bytes(range(32))
    lid = re.search(r"ledger id `([0-9a-f-]{36})`", doc).group(1)  # type: ignore[union-attr]

    def hkdf(info: str) -> bytes:
        return HKDF(hashes.SHA256(), 32, lid.encode(), info.encode()).derive(master)

    pseudonym = hmac.new(hkdf("ledger/v1/pseudonym"), b"camille.durand@example.fr",
                         hashlib.sha256).hexdigest()
    assert f"`{pseudonym}`" in doc
    assert f"`{hkdf('ledger/v1/fingerprint')[:16].hex()}`" in doc
    wrapped = bytes.fromhex(re.search(r"wrapped data key: `([0-9a-f]+)`", doc)  # type: ignore[union-attr]
                            .group(1))
    key = AESGCM(hkdf("ledger/v1/wrap")).decrypt(
        wrapped[:12], wrapped[12:], f"ledger/v1/key|{lid}|{pseudonym}|subject|1".encode())
    sealed = re.search(r'"details":"sealed:v1:subject:1:([A-Za-z0-9_-]+)"', doc)
    assert sealed is not None
    blob = base64.urlsafe_b64decode(sealed.group(1) + "=" * (-len(sealed.group(1)) % 4))
    aad = (f"ledger/v1/value|{lid}|{pseudonym}|5f0e3c1a-7d2b-4c1e-9a55-2b1f4e6d8c02|"
           "data.details").encode()
    plain = AESGCM(key).decrypt(blob[:12], blob[12:], aad)
    assert json.loads(plain) == "Please send me all data you hold about me."
