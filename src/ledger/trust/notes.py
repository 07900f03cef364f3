"""Checkpoints as C2SP signed notes (c2sp.org/tlog-checkpoint, c2sp.org/signed-note).

A checkpoint is the text::

    <origin>\\n
    <tree size, decimal>\\n
    <base64 of the 32-byte root hash>\\n
    \\n
    — <key name> <base64(4-byte key id ‖ 64-byte Ed25519 signature)>\\n

The signature is over the *body*: the first three lines with their newlines.
The key id is the first four bytes of SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key)
(0x01: the Ed25519 signature type of signed-note).  A verifier key is written
``<name>+<key id, 8 hex digits>+<base64(0x01 ‖ 32-byte public key)>``, as in
golang.org/x/mod/sumdb/note.  This module is pure (stdlib only): signing and
checking Ed25519 is in :mod:`ledger.trust.ed25519`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from ledger.errors import VerificationError

__all__ = ["ALG_ED25519", "Checkpoint", "NoteSignature", "VerifierKey", "b64_field",
           "checkpoint_body", "format_note", "key_id", "parse_checkpoint", "parse_checkpoints",
           "parse_verifier_key", "valid_name"]

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # an em dash and a space
_NAME = re.compile(r"[^\s+\u2014][^\s+]*\Z")


def valid_name(name: str) -> bool:
    """A key name / origin: non-empty, no whitespace, no '+', not starting with '—'."""
    return bool(_NAME.match(name))


def key_id(name: str, public_key: bytes, alg: int = ALG_ED25519) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()[:4]


@dataclass(frozen=True, slots=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes  # 32 bytes (Ed25519)

    def __str__(self) -> str:
        raw = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{raw}"

    @classmethod
    def for_key(cls, name: str, public_key: bytes) -> VerifierKey:
        return cls(name, key_id(name, public_key), public_key)


def b64_field(text: str, what: str) -> bytes:
    """Strict base64 of a note's field; VerificationError naming ``what`` otherwise."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(f"{what} is not base64") from None


def parse_verifier_key(text: str) -> VerifierKey:
    """``name+hexid+base64key``; the id must be the key's own."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not valid_name(parts[0]) or not re.fullmatch(r"[0-9a-f]{8}",
                                                                        parts[1]):
        raise VerificationError("public key must read <name>+<8 hex digits>+<base64>")
    raw = b64_field(parts[2], "public key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise VerificationError("public key must be an Ed25519 key (0x01 and 32 bytes)")
    vk = VerifierKey.for_key(parts[0], raw[1:])
    if vk.key_id.hex() != parts[1]:
        raise VerificationError("public key: the key id does not match the name and key")
    return vk


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: str          # the signed text: origin, size and root lines, each with "\n"
    signatures: tuple[NoteSignature, ...] = ()
    text: str = ""     # the whole note as given

    def signed_by(self, key: VerifierKey) -> NoteSignature | None:
        for s in self.signatures:
            if s.name == key.name and s.key_id == key.key_id:
                return s
        return None


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    if not valid_name(origin):
        raise ValueError("origin must have no whitespace or '+'")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def format_note(body: str, name: str, kid: bytes, signature: bytes) -> str:
    return f"{body}\n{SIG_PREFIX}{name} {base64.b64encode(kid + signature).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse one signed checkpoint; raise VerificationError on any deviation from the format."""
    if "\r" in text or not text.endswith("\n"):
        raise VerificationError("checkpoint: lines must end with \\n (no \\r), last one too")
    body, sep, sigs = text.partition("\n\n")
    if not sep:
        raise VerificationError("checkpoint: no blank line before the signatures")
    lines = body.split("\n")
    if len(lines) < 3:
        raise VerificationError("checkpoint: needs origin, tree size and root lines")
    origin, size_text, root_text = lines[:3]   # further lines are extension data (ignored)
    if not origin:
        raise VerificationError("checkpoint: empty origin line")
    if not re.fullmatch(r"0|[1-9][0-9]*", size_text):
        raise VerificationError("checkpoint: tree size is not a decimal number")
    root = b64_field(root_text, "checkpoint root")
    if len(root) != 32:
        raise VerificationError("checkpoint: root is not 32 bytes")
    signatures = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith(SIG_PREFIX):
            raise VerificationError("checkpoint: a signature line must start with '— '")
        name, _, b64 = line[len(SIG_PREFIX):].rpartition(" ")
        blob = b64_field(b64, "checkpoint signature")
        if not name or len(blob) < 5:
            raise VerificationError("checkpoint: malformed signature line")
        signatures.append(NoteSignature(name, blob[:4], blob[4:]))
    if not signatures:
        raise VerificationError("checkpoint: no signature")
    return Checkpoint(origin, int(size_text), root, body + "\n", tuple(signatures), text)


def parse_checkpoints(text: str) -> list[Checkpoint]:
    """Several notes one after the other, each followed by one empty line (checkpoints.txt)."""
    out: list[Checkpoint] = []
    current: list[str] = []
    in_sigs = False
    for line in text.split("\n"):
        if in_sigs and not line.startswith(SIG_PREFIX):
            out.append(parse_checkpoint("\n".join(current) + "\n"))
            current, in_sigs = [], False
            if line:
                raise VerificationError("checkpoints: notes must be separated by one "
                                        "empty line")
            continue
        if not line and current and not in_sigs:
            in_sigs = True
        current.append(line)
    if current and current != [""]:
        raise VerificationError("checkpoints: the last note is incomplete")
    return out
