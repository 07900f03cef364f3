"""Where the master secret lives: never in the database.

Looked for in this order:

1. ``LEDGER_MASTER_KEY``: 32 bytes as base64 (standard or URL-safe) or 64 hex digits;
2. ``$LEDGER_KEY_DIR/master.key``;
3. ``<database file>.keys/master.key`` beside an SQLite database;
4. ``./ledger-keys/master.key`` for a PostgreSQL ledger.

``ledger init`` creates the file (mode 0600, folder 0700) when no key is
given, and only once every check has passed: a refused ``ledger init`` writes
no key.  Losing it makes every sealed value unreadable: back it up apart
from the database (docs/OPERATIONS.md).

A key folder that its group or others may use (mode 0777, 0755…) is refused
before any key in it is read or written (:func:`check_key_dir`, issue 13):
someone else could read or replace the keys.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from ledger.errors import ConfigError
from ledger.storage import sqlite_path

__all__ = ["MASTER_FILE", "check_key_dir", "create_master", "decode_secret", "key_dir",
           "load_master", "plan_master", "write_secret"]

MASTER_FILE = "master.key"


def key_dir(url: str, env: Mapping[str, str]) -> Path:
    if env.get("LEDGER_KEY_DIR"):
        return Path(env["LEDGER_KEY_DIR"])
    path = sqlite_path(url)
    if path is not None:
        return Path(path + ".keys")
    return Path("ledger-keys")


def _key_dir_origin(url: str, env: Mapping[str, str]) -> str:
    if env.get("LEDGER_KEY_DIR"):
        return "LEDGER_KEY_DIR"
    return "the key folder beside the database" if sqlite_path(url) is not None \
        else "the key folder ./ledger-keys"


def check_key_dir(url: str, env: Mapping[str, str]) -> None:
    """Refuse a key folder that exists with access for its group or others.

    Raises ConfigError naming the folder, where it comes from (``LEDGER_KEY_DIR``…)
    and the rule; an absent folder passes (``ledger init`` creates it 0700)."""
    folder = key_dir(url, env)
    try:
        mode = folder.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"{_key_dir_origin(url, env)} {folder}: cannot be read "
                          f"({exc.strerror})") from None
    if os.name == "posix" and mode & 0o077:
        raise ConfigError(
            f"{_key_dir_origin(url, env)} {folder} has mode {stat.S_IMODE(mode):04o}: a key "
            f"folder must be accessible by its owner only (run: chmod 700 {folder}); "
            "docs/OPERATIONS.md")


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
    check_key_dir(url, env)
    path = key_dir(url, env) / MASTER_FILE
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ConfigError(f"no master key at {path}: run `ledger init`, or set "
                          "LEDGER_MASTER_KEY or LEDGER_KEY_DIR") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the master key at {path}: {exc.strerror}") from None
    return _decode(text, str(path))


def plan_master(url: str, env: Mapping[str, str]) -> tuple[bytes, Path | None, bool]:
    """The master key ``ledger init`` will use, its file, and whether that file is still
    to be written (a fresh key, drawn but not saved: the caller saves it with
    :func:`write_secret` once every check has passed)."""
    if env.get("LEDGER_MASTER_KEY"):
        return _decode(env["LEDGER_MASTER_KEY"], "LEDGER_MASTER_KEY"), None, False
    check_key_dir(url, env)
    path = key_dir(url, env) / MASTER_FILE
    if path.exists():
        return load_master(url, env), path, False
    return secrets.token_bytes(32), path, True


def create_master(url: str, env: Mapping[str, str]) -> tuple[bytes, Path | None]:
    """The master key, created in the key folder if there is none yet."""
    key, path, fresh = plan_master(url, env)
    if fresh and path is not None:
        write_secret(path, key)
    return key, path
