"""The checkpoint signing key: an Ed25519 seed kept beside the master key, never in the database.

Looked for in this order (the conventions of :mod:`ledger.keys.keystore`):

1. ``LEDGER_SIGNING_KEY``: the 32-byte seed as base64 or 64 hex digits;
2. ``signing-<ledger name>.key`` in the key folder (``$LEDGER_KEY_DIR``,
   ``<database file>.keys/`` or ``./ledger-keys/``).

``ledger init`` creates the file (mode 0600) when neither exists, also on a
ledger initialised before checkpoints existed, and pins its verifier key in the
ledger (:mod:`ledger.app.proofs`): afterwards no other key signs a checkpoint, so a
lost key file is restored from its backup, not replaced (docs/PROOFS.md).
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from ledger.errors import ConfigError
from ledger.keys.keystore import check_key_dir, decode_secret, key_dir, write_secret

__all__ = ["create_signing_key", "load_signing_key", "plan_signing_key", "signing_key_path"]


def signing_key_path(url: str, name: str, env: Mapping[str, str]) -> Path:
    safe = name if re.fullmatch(r"[A-Za-z0-9._-]+", name) else base64.urlsafe_b64encode(
        name.encode()).decode().rstrip("=")
    return key_dir(url, env) / f"signing-{safe}.key"


def _decode(text: str, origin: str) -> bytes:
    return decode_secret(text, origin, "the signing key (an Ed25519 seed)")


def load_signing_key(url: str, name: str, env: Mapping[str, str]) -> bytes:
    if env.get("LEDGER_SIGNING_KEY"):
        return _decode(env["LEDGER_SIGNING_KEY"], "LEDGER_SIGNING_KEY")
    check_key_dir(url, env)
    path = signing_key_path(url, name, env)
    try:
        return _decode(path.read_text(encoding="ascii"), str(path))
    except FileNotFoundError:
        raise ConfigError(f"no checkpoint signing key at {path}: run `ledger init` (a new "
                          "ledger), restore the key from its backup, or set "
                          "LEDGER_SIGNING_KEY or LEDGER_KEY_DIR") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the signing key at {path}: {exc.strerror}") from None


def plan_signing_key(url: str, name: str, env: Mapping[str, str]) \
        -> tuple[bytes, Path | None, bool]:
    """The seed ``ledger init`` will use, its file (None: from the environment), and
    whether that file is still to be written (nothing is written here)."""
    if env.get("LEDGER_SIGNING_KEY"):
        return load_signing_key(url, name, env), None, False
    check_key_dir(url, env)
    path = signing_key_path(url, name, env)
    if path.exists():
        return load_signing_key(url, name, env), path, False
    return secrets.token_bytes(32), path, True


def create_signing_key(url: str, name: str, env: Mapping[str, str]) -> Path | None:
    """Create the key file if no key exists; return its path (None: from the environment)."""
    seed, path, fresh = plan_signing_key(url, name, env)
    if fresh and path is not None:
        write_secret(path, seed)
    return path
