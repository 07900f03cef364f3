"""Pseudonyms, per-subject data keys and sealed values (crypto-shredding).

Key hierarchy (docs/FORMAT.md §4)::

    master secret (32 bytes, outside the database)
      ├─ HKDF-SHA256(salt=ledger id, info="ledger/v1/wrap")        wrap key
      ├─ HKDF-SHA256(salt=ledger id, info="ledger/v1/pseudonym")   pseudonym key
      └─ HKDF-SHA256(salt=ledger id, info="ledger/v1/fingerprint") key check value
    data key (32 random bytes) per (subject, scope, epoch), stored wrapped:
      AES-256-GCM(wrap key, nonce, key, aad="ledger/v1/key|<ledger>|<subject>|<scope>|<epoch>")

A sealed value is the string ``sealed:v1:<scope>:<epoch>:<base64url(nonce ‖ ciphertext ‖ tag)>``
where the plaintext is the canonical JSON of the value and the GCM associated
data binds it to its place: ``ledger/v1/value|<ledger>|<subject>|<event_id>|<path>``.
Destroying a data key makes every value sealed under it unreadable for good;
the sealed strings (and so every hash) stay as they were.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.domain.json_input import MAX_VALUE_DEPTH, TOO_DEEP_SHOWN, json_depth
from ledger.domain.sealed import SEALED_PREFIX, is_sealed  # the format, re-exported here
from ledger.errors import KeyError_
from ledger.trust.canonical import canonical_bytes

__all__ = [
    "SEALED_PREFIX",
    "KeyRing",
    "SealedRef",
    "is_sealed",
    "new_data_key",
    "parse_sealed",
]

_SEALED = re.compile(r"sealed:v1:([a-z_][a-z0-9_]*):(\d+):([A-Za-z0-9_-]+)\Z")
NONCE_BYTES = 12


def _hkdf(secret: bytes, salt: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                info=info.encode()).derive(secret)


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


@dataclass(frozen=True, slots=True)
class SealedRef:
    scope: str
    epoch: int
    blob: bytes


def parse_sealed(value: str) -> SealedRef:
    m = _SEALED.match(value)
    if not m:
        raise KeyError_("malformed sealed value")
    blob = base64.urlsafe_b64decode(m.group(3) + "=" * (-len(m.group(3)) % 4))
    return SealedRef(m.group(1), int(m.group(2)), blob)


class KeyRing:
    """The keys derived from one ledger's master secret.

    Holds no data key: those live wrapped in the database and are handed in
    by the caller for each operation, so that a key destroyed by another
    process is never used from a cache.
    """

    def __init__(self, master: bytes, ledger_id: str) -> None:
        if len(master) != 32:
            raise KeyError_("the master key must be 32 bytes")
        salt = ledger_id.encode()
        self.ledger_id = ledger_id
        self._wrap = AESGCM(_hkdf(master, salt, "ledger/v1/wrap"))
        self._pseudonym_key = _hkdf(master, salt, "ledger/v1/pseudonym")
        self.fingerprint = _hkdf(master, salt, "ledger/v1/fingerprint")[:16].hex()

    # -- pseudonyms ---------------------------------------------------------
    def pseudonym(self, subject: str) -> str:
        """HMAC-SHA-256 of the NFC-normalised identifier, lowercase hex."""
        data = unicodedata.normalize("NFC", subject).encode("utf-8")
        return hmac.new(self._pseudonym_key, data, hashlib.sha256).hexdigest()

    # -- data keys ----------------------------------------------------------
    def _key_aad(self, subject: str, scope: str, epoch: int) -> bytes:
        return f"ledger/v1/key|{self.ledger_id}|{subject}|{scope}|{epoch}".encode()

    def wrap(self, key: bytes, subject: str, scope: str, epoch: int) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._wrap.encrypt(nonce, key, self._key_aad(subject, scope, epoch))

    def unwrap(self, wrapped: bytes, subject: str, scope: str, epoch: int) -> bytes:
        try:
            return self._wrap.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:],
                                      self._key_aad(subject, scope, epoch))
        except InvalidTag:
            raise KeyError_(
                f"data key of subject {subject[:12]}… does not unwrap: wrong master key?"
            ) from None

    # -- values ---------------------------------------------------------------
    def _value_aad(self, subject: str, event_id: str, path: str) -> bytes:
        return f"ledger/v1/value|{self.ledger_id}|{subject}|{event_id}|{path}".encode()

    def seal(self, value: Any, *, key: bytes | AESGCM, scope: str, epoch: int, subject: str,
             event_id: str, path: str) -> str:
        """Seal ``value``; ``key`` may be given as an AESGCM object made once per key."""
        nonce = os.urandom(NONCE_BYTES)
        cipher = key if isinstance(key, AESGCM) else AESGCM(key)
        ct = cipher.encrypt(nonce, canonical_bytes(value),
                                 self._value_aad(subject, event_id, path))
        blob = base64.urlsafe_b64encode(nonce + ct).rstrip(b"=").decode()
        return f"{SEALED_PREFIX}{scope}:{epoch}:{blob}"

    def open(self, ref: SealedRef, *, key: bytes, subject: str, event_id: str,
             path: str) -> Any:
        try:
            plain = AESGCM(key).decrypt(ref.blob[:NONCE_BYTES], ref.blob[NONCE_BYTES:],
                                        self._value_aad(subject, event_id, path))
        except InvalidTag:
            raise KeyError_(f"sealed value at {path} does not open: altered?") from None
        if json_depth(plain.decode("utf-8")) > MAX_VALUE_DEPTH:
            # stored before the limit (issue 13): every reader shows a marker, never a crash
            return TOO_DEEP_SHOWN
        return json.loads(plain)
