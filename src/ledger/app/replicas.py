"""Reads from hot-standby replicas, writes to the primary (docs/OPERATIONS.md, "Scaling out").

A ledger may name read URLs (``read_urls`` in ``ledgers.toml``, :mod:`ledger.app.routing`):
PostgreSQL streaming replicas of its primary.  :class:`Replicas` answers, for one read,
which database serves it:

* no ``min_seq``: the first replica that answers; the primary when none does;
* ``min_seq=N`` (a read that must see entry ``N``, e.g. a receipt just returned): the
  first replica whose head is at least ``N``; while none is, it polls every ``poll``
  seconds up to ``wait`` seconds (``$LEDGER_REPLICA_WAIT_MS``, default 2000), then
  the primary serves.

The answer says which served it (:data:`REPLICA` or :data:`PRIMARY`): the HTTP API puts it
in the ``Ledger-Served-By`` header.  Anything that writes (appends, erasures, the record of
a read, checkpoints, projection rows) goes to the primary: a replica's :class:`Ledger` is
a reader (a hot standby refuses writes anyway: "cannot execute … in a read-only
transaction").

:class:`FollowingStore` is the store a projection follows: entries by ``seq`` from a
replica that holds them, else from the primary.  Since every database holds the same
chain, and a projection's position is a ``seq``, a fallback neither skips nor repeats an
entry (tests/test_replicas.py).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ledger.app.checking import ledger_id_for
from ledger.errors import ConfigError, StorageError
from ledger.storage import open_store

if TYPE_CHECKING:
    from ledger.app.application import Ledger

__all__ = ["PRIMARY", "REPLICA", "FollowingStore", "Replicas", "Served", "replica_wait"]

PRIMARY, REPLICA = "primary", "replica"
CONNECT_TIMEOUT = 2.0  # seconds: a replica that does not answer by then is passed over
COOLDOWN = 5.0         # seconds: a replica that failed is not asked again before this
T = TypeVar("T")


def replica_wait(env: Mapping[str, str] | None = None) -> float:
    """The longest wait (seconds) for a replica to reach ``min_seq``:
    ``$LEDGER_REPLICA_WAIT_MS`` (default 2000, 0 to 60000)."""
    text = (os.environ if env is None else env).get("LEDGER_REPLICA_WAIT_MS", "2000")
    try:
        ms = int(text)
    except ValueError:
        ms = -1
    if not 0 <= ms <= 60000:
        raise ConfigError("LEDGER_REPLICA_WAIT_MS: must be a whole number of milliseconds "
                          f"from 0 to 60000, not {text!r}")
    return ms / 1000


@dataclass(frozen=True, slots=True)
class Served:
    """The ledger a read uses and which database it is (:data:`REPLICA`/:data:`PRIMARY`)."""

    ledger: Ledger
    by: str


class Replicas:
    """One ledger's primary and its read replicas."""

    def __init__(self, primary: Ledger, read_urls: Sequence[str], *,
                 wait: float | None = None, poll: float = 0.01) -> None:
        self.primary = primary
        self.read_urls = list(read_urls)
        self.wait = replica_wait(primary.env) if wait is None else wait
        self.poll = poll
        self._open: dict[str, Ledger] = {}
        self._down_until: dict[str, float] = {}  # a failed replica's cool-down
        self._lock = threading.Lock()

    def _replica(self, url: str) -> Ledger:
        from ledger.app.application import Ledger  # noqa: PLC0415 (application imports us)

        with self._lock:
            led = self._open.get(url)
            if led is None:
                p = self.primary
                store = open_store(url, ledger_id_for(p.name), connect_timeout=CONNECT_TIMEOUT)
                led = Ledger(store, p.ring, p.name, p.clock)
                led.url, led.env = url, p.env
                self._open[url] = led
            return led

    def _head(self, url: str) -> int | None:
        """The replica's head seq, or None when it does not answer (then it is not asked
        again for :data:`COOLDOWN` seconds: a dead replica costs one connect timeout per
        cool-down, not one per read)."""
        if time.monotonic() < self._down_until.get(url, 0.0):
            return None
        try:
            h = self._replica(url).store.read(lambda tx: tx.head())
        except StorageError:
            self._down_until[url] = time.monotonic() + COOLDOWN
            return None
        return 0 if h is None else int(h.seq)

    def reader(self, min_seq: int | None = None) -> Served:
        """The ledger that serves a read that must see entry ``min_seq`` (if given)."""
        deadline = time.monotonic() + self.wait
        while True:
            for url in self.read_urls:
                head = self._head(url)
                if head is not None and (min_seq is None or head >= min_seq):
                    return Served(self._replica(url), REPLICA)
            if min_seq is None or not self.read_urls or time.monotonic() >= deadline:
                return Served(self.primary, PRIMARY)
            time.sleep(self.poll)

    def cooling(self) -> list[str]:
        """The read URLs passed over now, having failed less than :data:`COOLDOWN` ago."""
        now = time.monotonic()
        return [u for u in self.read_urls if self._down_until.get(u, 0.0) > now]

    def following_store(self) -> FollowingStore:
        return FollowingStore(self)

    def close(self) -> None:
        with self._lock:
            for led in self._open.values():
                led.close()
            self._open.clear()


class FollowingStore:
    """A read-only store for the projections: a replica when it holds what is asked, else
    the primary.  ``served`` counts the reads each one answered."""

    def __init__(self, replicas: Replicas) -> None:
        self.replicas = replicas
        self.served = {REPLICA: 0, PRIMARY: 0}

    def _store(self, min_seq: int | None) -> Any:
        served = self.replicas.reader(min_seq)
        self.served[served.by] += 1
        return served.ledger.store

    def read(self, fn: Callable[[Any], T]) -> T:
        """A read transaction on a replica that answers (the primary if none does)."""
        return self._store(None).read(fn)  # type: ignore[no-any-return]

    def iter_rows(self, start: int = 1, stop: int | None = None,
                  page: int = 20000) -> Iterator[tuple[int, str, bytes]]:
        """``(seq, hash, state)`` from ``start`` to ``stop``: from a replica holding
        ``stop`` (waiting up to the bound), else from the primary."""
        yield from self._store(stop).iter_rows(start, stop, page)

    def entries(self, **kwargs: Any) -> Any:
        return self._store(None).entries(**kwargs)

    def close(self) -> None:
        """The stores are the :class:`Replicas`' (closed with it)."""
