"""The checkpoint signing key: an Ed25519 seed kept beside the master key, never in the database.

Looked for in this order (the conventions of :mod:`ledger.keystore`):

1. ``LEDGER_SIGNING_KEY``: the 32-byte seed as base64 or 64 hex digits;
2. ``signing-<ledger name>.key`` in the key folder (``$LEDGER_KEY_DIR``,
   ``<database file>.keys/`` or ``./ledger-keys/``).

``ledger init`` creates the file (mode 0600) when neither exists, also on a
ledger initialised before checkpoints existed.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from .errors import ConfigError
from .keystore import key_dir

__all__ = ["create_signing_key", "load_signing_key", "signing_key_path"]


def signing_key_path(url: str, name: str, env: Mapping[str, str]) -> Path:
    safe = name if re.fullmatch(r"[A-Za-z0-9._-]+", name) else base64.urlsafe_b64encode(
        name.encode()).decode().rstrip("=")
    return key_dir(url, env) / f"signing-{safe}.key"


def _decode(text: str, origin: str) -> bytes:
    text = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"{origin}: the signing key must be a 32-byte Ed25519 seed, as "
                          "base64 or 64 hex digits")
    return raw


def load_signing_key(url: str, name: str, env: Mapping[str, str]) -> bytes:
    if env.get("LEDGER_SIGNING_KEY"):
        return _decode(env["LEDGER_SIGNING_KEY"], "LEDGER_SIGNING_KEY")
    path = signing_key_path(url, name, env)
    try:
        return _decode(path.read_text(encoding="ascii"), str(path))
    except FileNotFoundError:
        raise ConfigError(f"no checkpoint signing key at {path}: run `ledger init`, or set "
                          "LEDGER_SIGNING_KEY or LEDGER_KEY_DIR") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the signing key at {path}: {exc.strerror}") from None


def create_signing_key(url: str, name: str, env: Mapping[str, str]) -> Path | None:
    """Create the key file if no key exists; return its path (None: from the environment)."""
    if env.get("LEDGER_SIGNING_KEY"):
        load_signing_key(url, name, env)
        return None
    path = signing_key_path(url, name, env)
    if path.exists():
        load_signing_key(url, name, env)
        return path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return path
