"""Where the master secret lives: never in the database.

Looked for in this order:

1. ``LEDGER_MASTER_KEY``: 32 bytes as base64 (standard or URL-safe) or 64 hex digits;
2. ``$LEDGER_KEY_DIR/master.key``;
3. ``<database file>.keys/master.key`` beside an SQLite database;
4. ``./ledger-keys/master.key`` for a PostgreSQL ledger.

``ledger init`` creates the file (mode 0600, folder 0700) when no key is
given.  Losing it makes every sealed value unreadable: back it up apart
from the database (docs/OPERATIONS.md).
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
from .storage import sqlite_path

__all__ = ["MASTER_FILE", "create_master", "decode_secret", "key_dir", "load_master",
           "write_secret"]

MASTER_FILE = "master.key"


def key_dir(url: str, env: Mapping[str, str]) -> Path:
    if env.get("LEDGER_KEY_DIR"):
        return Path(env["LEDGER_KEY_DIR"])
    path = sqlite_path(url)
    if path is not None:
        return Path(path + ".keys")
    return Path("ledger-keys")


def decode_secret(text: str, origin: str, what: str) -> bytes:
    """32 secret bytes from 64 hex digits or base64 (standard or URL-safe); else the
    ConfigError ``<origin>: <what> must be …``."""
    text = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4),
                               validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"{origin}: {what} must be 32 bytes, as base64 or 64 hex digits")
    return raw


def write_secret(path: Path, secret: bytes) -> None:
    """Create ``path`` (mode 0600, folder 0700) holding ``secret`` as base64; never overwrite."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(base64.b64encode(secret).decode() + "\n")
        f.flush()
        os.fsync(f.fileno())


def _decode(text: str, origin: str) -> bytes:
    return decode_secret(text, origin, "the master key")


def load_master(url: str, env: Mapping[str, str]) -> bytes:
    if env.get("LEDGER_MASTER_KEY"):
        return _decode(env["LEDGER_MASTER_KEY"], "LEDGER_MASTER_KEY")
    path = key_dir(url, env) / MASTER_FILE
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ConfigError(f"no master key at {path}: run `ledger init`, or set "
                          "LEDGER_MASTER_KEY or LEDGER_KEY_DIR") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the master key at {path}: {exc.strerror}") from None
    return _decode(text, str(path))


def create_master(url: str, env: Mapping[str, str]) -> tuple[bytes, Path | None]:
    """The master key, created in the key folder if there is none yet."""
    if env.get("LEDGER_MASTER_KEY"):
        return _decode(env["LEDGER_MASTER_KEY"], "LEDGER_MASTER_KEY"), None
    folder = key_dir(url, env)
    path = folder / MASTER_FILE
    if path.exists():
        return load_master(url, env), path
    key = secrets.token_bytes(32)
    write_secret(path, key)
    return key, path
