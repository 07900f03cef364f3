"""Ed25519 for checkpoints: sign a note body, check a note's signature (``cryptography``)."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.errors import VerificationError
from ledger.trust.notes import Checkpoint, VerifierKey

__all__ = ["public_key_of", "sign", "valid_signature", "verify_checkpoint_signature"]


def public_key_of(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


def sign(seed: bytes, message: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def valid_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def verify_checkpoint_signature(cp: Checkpoint, key: VerifierKey) -> None:
    """Raise VerificationError unless ``cp`` carries a valid signature by ``key``."""
    sig = cp.signed_by(key)
    if sig is None:
        raise VerificationError(f"checkpoint of size {cp.size} has no signature by key "
                                f"{key.name}+{key.key_id.hex()}")
    if len(sig.signature) != 64:
        raise VerificationError(f"checkpoint of size {cp.size}: the signature is not 64 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(sig.signature,
                                                                  cp.body.encode())
    except InvalidSignature:
        raise VerificationError(f"checkpoint of size {cp.size}: bad signature") from None
