"""A witness (c2sp.org/tlog-witness): it cosigns a log's checkpoint only when it extends
the last one it cosigned for that log, and keeps that one across restarts.

Its folder (``ledger witness init --dir DIR``)::

    witness.key     the Ed25519 seed (base64, mode 0600, never overwritten)
    config.json     {"name": ..., "logs": {origin: [verifier key, ...]}}
    state.json      {origin: {"size": n, "root": base64, "note": cosigned note}}
    lock            flock'ed around every check-and-update (threads and processes)

``state.json`` is replaced atomically (temp file, fsync, rename, fsync of the folder)
before the cosignature is returned: a witness killed at any point restarts with either
the old or the new state, never a mix, and never cosigned a size it did not keep.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ledger.errors import ConfigError, VerificationError, WitnessRefusal
from ledger.keys.keystore import decode_secret, write_secret
from ledger.trust.cosignature import WitnessKey, cosign, parse_add_checkpoint
from ledger.trust.ed25519 import verify_checkpoint_signature
from ledger.trust.merkle import EMPTY_ROOT, verify_consistency
from ledger.trust.notes import Checkpoint, parse_checkpoint, parse_verifier_key, valid_name

__all__ = ["Witness", "origin_hash"]

KEY_FILE, CONFIG_FILE, STATE_FILE, LOCK_FILE = "witness.key", "config.json", "state.json", "lock"


def origin_hash(origin: str) -> str:
    """The monitoring path's log id: SHA-256 of the origin, lowercase hex."""
    return hashlib.sha256(origin.encode()).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    tmp.replace(path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise ConfigError(f"witness: cannot read {path}: {exc}") from None


class Witness:
    """One witness over its folder; every method re-reads the files (several servers or
    commands may share the folder: the lock orders them)."""

    def __init__(self, folder: str | Path, clock: Callable[[], float] = time.time) -> None:
        self.folder = Path(folder)
        self.clock = clock
        if not (self.folder / CONFIG_FILE).is_file():
            raise ConfigError(f"witness: no witness in {self.folder} (run `ledger witness "
                              "init --dir` first)")

    @classmethod
    def init(cls, folder: str | Path, name: str) -> Witness:
        """Create the key and the configuration (refused when the folder has a witness)."""
        path = Path(folder)
        if not valid_name(name):
            raise ConfigError("witness name: must have no whitespace or '+' (e.g. "
                              "witness.example/w1)")
        if (path / CONFIG_FILE).exists() or (path / KEY_FILE).exists():
            raise ConfigError(f"witness: {path} already holds a witness")
        write_secret(path / KEY_FILE, secrets.token_bytes(32))
        _write_atomically(path / CONFIG_FILE, json.dumps({"name": name, "logs": {}}).encode())
        return cls(path)

    # -- configuration --------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = _read_json(self.folder / CONFIG_FILE, None)
        return cfg

    def _seed(self) -> bytes:
        path = self.folder / KEY_FILE
        try:
            return decode_secret(path.read_text(encoding="ascii"), str(path), "the witness key")
        except OSError as exc:
            raise ConfigError(f"witness: cannot read its key {path}: {exc.strerror}") from None

    def key(self) -> WitnessKey:
        return WitnessKey.of_seed(self.config()["name"], self._seed())

    def add_log(self, verifier_key: str) -> str:
        """Trust a log's verifier key (``ledger pubkey``); its name is the log's origin."""
        try:
            vk = parse_verifier_key(verifier_key)
        except VerificationError as exc:
            raise ConfigError(f"witness add-log: {exc.reason}") from None
        with self._locked():
            cfg = self.config()
            keys = cfg["logs"].setdefault(vk.name, [])
            if str(vk) not in keys:
                keys.append(str(vk))
            _write_atomically(self.folder / CONFIG_FILE, json.dumps(cfg, indent=1).encode())
        return vk.name

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def state(self) -> dict[str, Any]:
        st: dict[str, Any] = _read_json(self.folder / STATE_FILE, {})
        return st

    # -- the protocol ---------------------------------------------------------------------
    def _trusted(self, note: str) -> Checkpoint:
        """The checkpoint, signed by a key the witness trusts for its origin (404, 403)."""
        try:
            cp = parse_checkpoint(note)
        except VerificationError as exc:
            raise WitnessRefusal(400, f"the checkpoint is malformed: {exc.reason}") from None
        keys = self.config()["logs"].get(cp.origin)
        if not keys:
            raise WitnessRefusal(404, "unknown log origin")
        signed = False
        for text in keys:
            vk = parse_verifier_key(text)
            if cp.signed_by(vk) is None:
                continue
            try:
                verify_checkpoint_signature(cp, vk)
            except VerificationError:
                raise WitnessRefusal(403, "a signature by the log's key does not "
                                          "verify") from None
            signed = True
        if not signed:
            raise WitnessRefusal(403, "no signature by a key trusted for the origin")
        return cp

    def add_checkpoint(self, body: bytes) -> str:
        """Answer an add-checkpoint request: the cosignature line(s), or WitnessRefusal."""
        req = parse_add_checkpoint(body)
        cp = self._trusted(req.note)
        if req.old > cp.size:
            raise WitnessRefusal(400, "the old size is larger than the checkpoint's")
        with self._locked():
            state = self.state()
            have = state.get(cp.origin)
            have_size = 0 if have is None else int(have["size"])
            if req.old != have_size:
                raise WitnessRefusal(409, f"the witness's latest size is {have_size}",
                                     size=have_size)
            self._check_consistency(req.old, req.proof, cp, have)
            line = cosign(self._seed(), self.config()["name"], cp.body,
                          max(1, int(self.clock()))).line()
            state[cp.origin] = {"size": cp.size, "root": base64.b64encode(cp.root).decode(),
                                "note": req.note + line}
            _write_atomically(self.folder / STATE_FILE,
                              json.dumps(state, indent=1, sort_keys=True).encode())
        return line

    @staticmethod
    def _check_consistency(old: int, proof: tuple[bytes, ...], cp: Checkpoint,
                           have: dict[str, Any] | None) -> None:
        if cp.size == 0 and cp.root != EMPTY_ROOT:
            raise WitnessRefusal(422, "a checkpoint of size 0 must have the empty tree's root")
        if old == 0:
            if proof:
                raise WitnessRefusal(422, "old size 0 takes an empty consistency proof")
            return
        old_root = base64.b64decode(have["root"]) if have else b""  # old == the size held
        try:
            verify_consistency(old, cp.size, old_root, cp.root, proof)
        except VerificationError as exc:
            raise WitnessRefusal(422, exc.reason) from None

    def latest(self, log_id: str) -> str | None:
        """The latest cosigned checkpoint of the log whose origin hashes to ``log_id``."""
        for origin, rec in self.state().items():
            if origin_hash(origin) == log_id:
                return str(rec["note"])
        return None
