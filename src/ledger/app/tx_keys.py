"""The data keys of the subjects of one transaction, unwrapped on demand (sealing on
append, opening on read)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.keys.sealing import KeyRing, new_data_key
from ledger.storage import AppendTx, KeyRow

__all__ = ["TxKeys"]


class TxKeys:
    """Data keys of the subjects of one transaction, unwrapped on demand."""

    def __init__(self, ring: KeyRing, rows: list[KeyRow]) -> None:
        self.ring = ring
        self.live: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.max_epoch: dict[tuple[str, str], int] = {}
        for r in rows:
            k = (r.subject, r.scope)
            self.max_epoch[k] = max(self.max_epoch.get(k, 0), r.epoch)
            if r.wrapped is not None and r.epoch >= self.live.get(k, (0, b""))[0]:
                self.live[k] = (r.epoch, r.wrapped)
        self.by_epoch = {(r.subject, r.scope, r.epoch): r.wrapped for r in rows}
        self.unwrapped: dict[tuple[str, str], tuple[int, AESGCM]] = {}  # this transaction only

    def for_sealing(self, tx: AppendTx, subject: str, scope: str) -> tuple[int, AESGCM]:
        k = (subject, scope)
        if k in self.unwrapped:
            return self.unwrapped[k]
        if k in self.live:
            epoch, wrapped = self.live[k]
            key = self.ring.unwrap(wrapped, subject, scope, epoch)
        else:
            epoch = self.max_epoch.get(k, 0) + 1
            key = new_data_key()
            wrapped = self.ring.wrap(key, subject, scope, epoch)
            tx.put_key(subject, scope, epoch, wrapped)
            self.live[k] = (epoch, wrapped)
            self.max_epoch[k] = epoch
        self.unwrapped[k] = (epoch, AESGCM(key))
        return self.unwrapped[k]

    def destroyed(self, subject: str, scopes: Sequence[str] | None) -> None:
        for k in list(self.live):
            if k[0] == subject and (scopes is None or k[1] in scopes):
                del self.live[k]
                self.unwrapped.pop(k, None)

    def for_opening(self, subject: str, scope: str, epoch: int) -> bytes | None:
        wrapped = self.by_epoch.get((subject, scope, epoch))
        return None if wrapped is None else self.ring.unwrap(wrapped, subject, scope, epoch)
