"""Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``) and the
add-checkpoint request of c2sp.org/tlog-witness, as pure functions.

A cosignature is one more signature line on a checkpoint note::

    — <witness name> base64(key id ‖ timestamp ‖ signature)

* key id = SHA-256(name ‖ "\\n" ‖ 0x04 ‖ 32-byte Ed25519 public key)[:4] (0x04: the
  cosignature/v1 signature type; the log's own key uses 0x01, so the two never clash);
* timestamp = the time of cosigning, POSIX seconds, 8 bytes big-endian (never zero);
* signature = Ed25519 over ``"cosignature/v1\\ntime <timestamp>\\n" + checkpoint body``.

A witness key is written as a signed-note verifier key with type 0x04:
``<name>+<key id, 8 hex>+base64(0x04 ‖ public key)``.  The clock is the caller's:
every time here is a parameter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ledger.errors import VerificationError, WitnessRefusal
from ledger.trust.ed25519 import public_key_of, sign, valid_signature
from ledger.trust.notes import SIG_PREFIX, Checkpoint, b64_field, valid_name
from ledger.trust.text import plural

__all__ = ["ALG_COSIGNATURE_V1", "AddCheckpoint", "Cosignature", "Quorum", "WitnessKey",
           "add_cosignatures",
           "check_quorum", "cosign", "cosignature_by", "cosigned_message", "cosigner_key_id",
           "format_add_checkpoint", "parse_add_checkpoint", "parse_cosignature_lines",
           "parse_witness_key", "utc_text"]

ALG_COSIGNATURE_V1 = 0x04
MAX_PROOF_LINES = 63
_MAX_TIME = (1 << 63) - 1


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1])
                          + public_key).digest()[:4]


@dataclass(frozen=True, slots=True)
class WitnessKey:
    name: str
    key_id: bytes
    public_key: bytes

    def __str__(self) -> str:
        raw = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{raw}"

    @classmethod
    def for_key(cls, name: str, public_key: bytes) -> WitnessKey:
        if not valid_name(name):
            raise VerificationError("witness name must have no whitespace or '+'")
        return cls(name, cosigner_key_id(name, public_key), public_key)

    @classmethod
    def of_seed(cls, name: str, seed: bytes) -> WitnessKey:
        return cls.for_key(name, public_key_of(seed))


def parse_witness_key(text: str) -> WitnessKey:
    """``name+hexid+base64(0x04 ‖ key)``; the id must be the key's own."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not valid_name(parts[0]) or \
            not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise VerificationError("witness key must read <name>+<8 hex digits>+<base64>")
    raw = b64_field(parts[2], "witness key")
    if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
        raise VerificationError("witness key must be a cosignature/v1 key (0x04 and 32 bytes "
                                "of Ed25519)")
    key = WitnessKey.for_key(parts[0], raw[1:])
    if key.key_id.hex() != parts[1]:
        raise VerificationError("witness key: the key id does not match the name and key")
    return key


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: header, time line, then the checkpoint body."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


@dataclass(frozen=True, slots=True)
class Cosignature:
    name: str
    key_id: bytes
    timestamp: int
    signature: bytes

    def line(self) -> str:
        blob = self.key_id + self.timestamp.to_bytes(8, "big") + self.signature
        return f"{SIG_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"


def cosign(seed: bytes, name: str, body: str, timestamp: int) -> Cosignature:
    if not 0 < timestamp <= _MAX_TIME:
        raise ValueError("a cosignature's timestamp is between 1 and 2^63-1")
    key = WitnessKey.of_seed(name, seed)
    return Cosignature(name, key.key_id, timestamp, sign(seed, cosigned_message(body, timestamp)))


def cosignature_by(cp: Checkpoint, key: WitnessKey) -> Cosignature | None:
    """The valid cosignature of ``key`` on ``cp``; None when it has none.  A line with the
    key's name and id whose signature does not verify raises VerificationError."""
    for s in cp.signatures:
        if s.name != key.name or s.key_id != key.key_id:
            continue
        if len(s.signature) != 72:
            raise VerificationError(f"checkpoint of size {cp.size}: the cosignature of "
                                    f"{key.name} is not 8 + 64 bytes")
        ts = int.from_bytes(s.signature[:8], "big")
        if not 0 < ts <= _MAX_TIME or not valid_signature(
                key.public_key, s.signature[8:], cosigned_message(cp.body, ts)):
            raise VerificationError(f"checkpoint of size {cp.size}: bad cosignature by "
                                    f"witness {key.name}")
        return Cosignature(key.name, key.key_id, ts, s.signature[8:])
    return None


def check_quorum(cp: Checkpoint, keys: Sequence[WitnessKey], quorum: int, *,
                 not_after: int | None = None) -> list[Cosignature]:
    """The valid cosignatures of the distinct ``keys`` on ``cp``; VerificationError unless
    at least ``quorum`` of them vouch for it.  ``not_after``: a cosignature time later than
    this (POSIX seconds: the verifier's clock) is refused as coming from the future."""
    distinct = list(dict.fromkeys(keys))
    if not 1 <= quorum <= len(distinct):
        raise VerificationError(f"the quorum must be between 1 and the number of distinct "
                                f"witness keys ({len(distinct)}), not {quorum}")
    found: list[Cosignature] = []
    problems: list[str] = []
    for key in distinct:
        try:
            c = cosignature_by(cp, key)
        except VerificationError as exc:
            problems.append(exc.reason)
            continue
        if c is None:
            problems.append(f"no cosignature by {key.name}")
        elif not_after is not None and c.timestamp > not_after:
            problems.append(f"the cosignature by {key.name} is dated in the future")
        else:
            found.append(c)
    if len(found) < quorum:
        raise VerificationError(f"checkpoint of size {cp.size}: "
                                f"{plural(len(found), 'valid cosignature')}, the quorum is "
                                f"{quorum} ({'; '.join(problems)})")
    return found


@dataclass(frozen=True, slots=True)
class Quorum:
    """What a verifier asks of a checkpoint: ``k`` valid cosignatures among ``keys``
    (``--witness KEY… --quorum K``); ``not_after``: the verifier's clock, POSIX seconds."""

    keys: tuple[WitnessKey, ...]
    k: int
    not_after: int | None = None

    def check(self, cp: Checkpoint) -> list[dict[str, object]]:
        """The cosignatures that vouch for ``cp`` (witness, time); VerificationError if
        fewer than ``k``."""
        found = check_quorum(cp, self.keys, self.k, not_after=self.not_after)
        return [{"witness": c.name, "key_id": c.key_id.hex(), "time": c.timestamp,
                 "at": utc_text(c.timestamp)} for c in found]


def utc_text(timestamp: int) -> str:
    """POSIX seconds as ``YYYY-MM-DDTHH:MM:SSZ`` (UTC)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_cosignature_lines(text: str) -> list[str]:
    """The signature lines of a witness's 200 answer (each '— name base64', ending in \\n)."""
    if not text.endswith("\n"):
        raise VerificationError("witness answer: lines must end with \\n")
    lines = text[:-1].split("\n")
    for line in lines:
        if not line.startswith(SIG_PREFIX) or " " not in line[len(SIG_PREFIX):]:
            raise VerificationError("witness answer: a line is not a note signature line")
    return [line + "\n" for line in lines]


def add_cosignatures(note: str, lines: Iterable[str]) -> str:
    """The note with the signature lines appended (those it already has are kept once)."""
    have = set(note.split("\n"))
    extra = [line for line in dict.fromkeys(lines) if line.rstrip("\n") not in have]
    return note + "".join(extra)


# -- the add-checkpoint request (c2sp.org/tlog-witness) -------------------------------------
@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    old: int
    proof: tuple[bytes, ...]
    note: str


def format_add_checkpoint(old: int, proof: Sequence[bytes], note: str) -> bytes:
    lines = [f"old {old}\n"] + [base64.b64encode(p).decode() + "\n" for p in proof]
    return ("".join(lines) + "\n" + note).encode()


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse a request body; WitnessRefusal(400) when it does not follow the format."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise WitnessRefusal(400, "the request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or not re.fullmatch(r"old (0|[1-9][0-9]*)", lines[0]):
        raise WitnessRefusal(400, "the request must start with 'old <size>' and an empty "
                                  "line before the checkpoint")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRefusal(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            h = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise WitnessRefusal(400, "a consistency proof line is not base64") from None
        if len(h) != 32:
            raise WitnessRefusal(400, "a consistency proof line is not a 32-byte hash")
        proof.append(h)
    return AddCheckpoint(int(lines[0][4:]), tuple(proof), note)
