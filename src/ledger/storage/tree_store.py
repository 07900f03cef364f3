"""The ledger's Merkle tree in the database: saved subtree hashes, checkpoints, settings.

Leaf ``i`` is entry ``seq = i + 1`` (leaf data: the 32 bytes of its ``hash``).
``ledger_tree_nodes`` keeps the hash of every complete, aligned subtree of
``2^level`` leaves for ``level >= LEVEL`` (8: 256 leaves): about n/128 rows.
:func:`catch_up` adds the ones that new entries completed, in its own
transaction; nothing is added to the append path.  Any MTH(D[lo:hi]) is then
the saved nodes of its decomposition plus, below level 8, hashes recomputed from
the leaves of at most a few 256-entry blocks, each read with one range query:
a tree head or a proof costs O(log n) rows, whatever the size.

The saved nodes are a cache derived from the ``hash`` column: the verifiers
(``ledger verify --checkpoint``, bundles) recompute roots from the entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ledger.errors import ConfigError, IntegrityError
from ledger.storage import AppendTx
from ledger.trust.merkle import leaf_hash, node_hash, split

__all__ = [
    "LEVEL",
    "TreeReader",
    "catch_up",
    "caught_up",
    "insert_checkpoint",
    "latest_checkpoint",
    "leaf_hashes",
    "list_checkpoints",
    "pin_key",
    "read_pinned_key",
    "read_settings",
    "write_settings",
]

LEVEL = 8
BLOCK = 1 << LEVEL
_PAGE_BLOCKS = 64  # blocks of leaves read per query during a catch-up


def _nodes(tx: AppendTx) -> str:
    return tx.t.q("ledger_tree_nodes")


def _leaf_hashes(tx: AppendTx, first: int, last: int) -> list[bytes]:
    """Leaf hashes of leaves first..last (0-based, inclusive), read with one range query."""
    tx.c.execute(tx._sql(
        f"SELECT originator_version AS seq, hash FROM {tx.t.events} WHERE originator_id=? "
        "AND originator_version>=? AND originator_version<=? ORDER BY originator_version"),
        (tx.lid, first + 1, last + 1))
    rows = tx.c.fetchall()
    for expected, r in enumerate(rows, start=first + 1):
        if int(r["seq"]) != expected:
            raise _missing(expected)
    if len(rows) != last - first + 1:
        raise _missing(first + 1 + len(rows))
    return [_leaf(r) for r in rows]


def _missing(seq: int) -> IntegrityError:
    return IntegrityError(f"entry {seq} is missing (run `ledger verify`)", seq=seq)


def _leaf(row: Any) -> bytes:
    """The leaf hash of a stored row; a hash that is not 64 hex digits is an integrity
    failure naming the row (it was altered outside the ledger)."""
    text = row["hash"]
    try:
        raw = bytes.fromhex(text) if isinstance(text, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        seq = int(row["seq"])
        raise IntegrityError(f"entry {seq}: the stored hash is not 64 hex digits", seq=seq)
    return leaf_hash(raw)


def _level_count(tx: AppendTx) -> dict[int, int]:
    tx.c.execute(tx._sql(f"SELECT level, MAX(idx) AS m FROM {_nodes(tx)} WHERE ledger_id=? "
                         "GROUP BY level"), (tx.lkey,))
    return {int(r["level"]): int(r["m"]) + 1 for r in tx.c.fetchall()}


def leaf_hashes(store: Any, start: int, stop: int, page: int = 50_000) -> Iterator[bytes]:
    """Leaf hashes of entries start..stop in order, from the ``hash`` column only."""
    def read(tx: AppendTx, pos: int) -> list[Any]:
        tx.c.execute(tx._sql(
            f"SELECT originator_version AS seq, hash FROM {tx.t.events} WHERE originator_id=? "
            "AND originator_version>=? AND originator_version<=? ORDER BY originator_version "
            "LIMIT ?"), (tx.lid, pos, stop, page))
        return list(tx.c.fetchall())
    pos = start
    while pos <= stop:
        rows = store.read(lambda tx: read(tx, pos))  # noqa: B023 - called at once
        if not rows:
            return
        for r in rows:
            if int(r["seq"]) != pos:
                raise _missing(pos)
            yield _leaf(r)
            pos += 1


def caught_up(tx: AppendTx, size: int) -> bool:
    """Whether the saved hashes cover ``size`` leaves (a catch-up saves all levels at once)."""
    tx.c.execute(tx._sql(f"SELECT MAX(idx) AS m FROM {_nodes(tx)} WHERE ledger_id=? AND "
                         "level=?"), (tx.lkey, LEVEL))
    row = tx.c.fetchone()
    have = 0 if row is None or row["m"] is None else int(row["m"]) + 1
    return have >= size >> LEVEL


def _insert_nodes(tx: AppendTx, rows: list[tuple[int, int, bytes]]) -> None:
    if rows:
        tx.c.executemany(tx._sql(
            f"INSERT INTO {_nodes(tx)} (ledger_id, level, idx, hash) VALUES (?,?,?,?) "
            "ON CONFLICT DO NOTHING"), [(tx.lkey, lv, i, h) for lv, i, h in rows])


def catch_up(tx: AppendTx, size: int) -> int:
    """Save the subtree hashes that the first ``size`` leaves complete; return how many."""
    have = _level_count(tx)
    added = 0
    # level 8 from the leaves, a page of blocks per query
    start, want = have.get(LEVEL, 0), size >> LEVEL
    made: dict[int, bytes] = {}
    for b in range(start, want, _PAGE_BLOCKS):
        stop = min(want, b + _PAGE_BLOCKS)
        leaves = _leaf_hashes(tx, b * BLOCK, stop * BLOCK - 1)
        rows = []
        for j in range(b, stop):
            hashes = leaves[(j - b) * BLOCK:(j - b + 1) * BLOCK]
            while len(hashes) > 1:
                hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
            rows.append((LEVEL, j, hashes[0]))
            made[j] = hashes[0]
        _insert_nodes(tx, rows)
        added += len(rows)
    # each level above from the one below
    level = LEVEL + 1
    while size >> level:
        start, want = have.get(level, 0), size >> level
        if start < want:
            below = dict(made)
            missing = [i for i in range(2 * start, 2 * want) if i not in below]
            if missing:
                tx.c.execute(tx._sql(
                    f"SELECT idx, hash FROM {_nodes(tx)} WHERE ledger_id=? AND level=? "
                    "AND idx>=? AND idx<=?"), (tx.lkey, level - 1, missing[0], missing[-1]))
                below.update((int(r["idx"]), bytes(r["hash"])) for r in tx.c.fetchall())
            made = {j: node_hash(below[2 * j], below[2 * j + 1]) for j in range(start, want)}
            _insert_nodes(tx, [(level, j, h) for j, h in made.items()])
            added += len(made)
        else:
            made = {}
        level += 1
    return added


class TreeReader:
    """MTH(D[lo:hi]) for ranges within the caught-up part of the tree, in one transaction."""

    def __init__(self, tx: AppendTx) -> None:
        self.tx = tx
        self.leaves: dict[int, bytes] = {}
        self.memo: dict[tuple[int, int], bytes] = {}
        self.reads = 0  # queries made (for tests: O(log n), not O(n))

    def leaf(self, i: int) -> bytes:
        if i not in self.leaves:
            b = i >> LEVEL
            first = b * BLOCK
            tx = self.tx
            tx.c.execute(tx._sql(
                f"SELECT originator_version AS seq, hash FROM {tx.t.events} WHERE "
                "originator_id=? AND originator_version>=? AND originator_version<=?"),
                (tx.lid, first + 1, first + BLOCK))
            self.reads += 1
            for r in tx.c.fetchall():
                self.leaves[int(r["seq"]) - 1] = _leaf(r)
            if i not in self.leaves:
                raise _missing(i + 1)
        return self.leaves[i]

    def _saved(self, level: int, idx: int) -> bytes:
        tx = self.tx
        tx.c.execute(tx._sql(f"SELECT hash FROM {_nodes(tx)} WHERE ledger_id=? AND level=? "
                             "AND idx=?"), (tx.lkey, level, idx))
        self.reads += 1
        row = tx.c.fetchone()
        if row is None:
            raise IntegrityError(f"subtree hash {level}/{idx} is not saved: the proof tables "
                                 "were altered (run `ledger verify`)")
        return bytes(row["hash"])

    def subtree(self, lo: int, hi: int) -> bytes:
        key = (lo, hi)
        if key in self.memo:
            return self.memo[key]
        n = hi - lo
        if n == 1:
            h = self.leaf(lo)
        elif n & (n - 1) == 0 and lo % n == 0 and n >= BLOCK:
            h = self._saved(n.bit_length() - 1, lo // n)
        else:
            k = split(n)
            h = node_hash(self.subtree(lo, lo + k), self.subtree(lo + k, hi))
        self.memo[key] = h
        return h


# -- checkpoints and settings --------------------------------------------------------------
def insert_checkpoint(tx: AppendTx, size: int, root: str, note: str, created_at: str) -> None:
    tx.c.execute(tx._sql(
        f"INSERT INTO {tx.t.q('ledger_checkpoints')} (ledger_id, tree_size, root, note, "
        "created_at) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING"),
        (tx.lkey, size, root, note, created_at))


def list_checkpoints(tx: AppendTx, *, min_size: int = 0,
                     max_size: int | None = None) -> list[dict[str, Any]]:
    tx.c.execute(tx._sql(
        f"SELECT tree_size, root, note, created_at FROM {tx.t.q('ledger_checkpoints')} "
        "WHERE ledger_id=? AND tree_size>=? AND tree_size<=? ORDER BY tree_size"),
        (tx.lkey, min_size, max_size if max_size is not None else 2**62))
    return [{"tree_size": int(r["tree_size"]), "root": r["root"], "note": r["note"],
             "created_at": r["created_at"]} for r in tx.c.fetchall()]


def read_settings(tx: AppendTx) -> dict[str, Any] | None:
    try:
        tx.c.execute(tx._sql(f"SELECT origin, checkpoint_every FROM "
                             f"{tx.t.q('ledger_tree_settings')} WHERE ledger_id=?"),
                     (tx.lkey,))
    except Exception as exc:  # the driver's "no such table", on either database
        raise ConfigError("this ledger has no proof tables yet: run `ledger init`") from exc
    row = tx.c.fetchone()
    return None if row is None else {"origin": row["origin"],
                                     "checkpoint_every": int(row["checkpoint_every"])}


def write_settings(tx: AppendTx, origin: str, every: int) -> None:
    t = tx.t.q("ledger_tree_settings")
    tx.c.execute(tx._sql(f"DELETE FROM {t} WHERE ledger_id=?"), (tx.lkey,))
    tx.c.execute(tx._sql(f"INSERT INTO {t} (ledger_id, origin, checkpoint_every) "
                         "VALUES (?,?,?)"), (tx.lkey, origin, every))


def latest_checkpoint(tx: AppendTx) -> dict[str, Any] | None:
    """The stored checkpoint of the largest tree size, or None."""
    tx.c.execute(tx._sql(
        f"SELECT tree_size, root, note, created_at FROM {tx.t.q('ledger_checkpoints')} "
        "WHERE ledger_id=? ORDER BY tree_size DESC LIMIT 1"), (tx.lkey,))
    r = tx.c.fetchone()
    return None if r is None else {"tree_size": int(r["tree_size"]), "root": r["root"],
                                   "note": r["note"], "created_at": r["created_at"]}


# -- the pinned verifier key (issue 13) ---------------------------------------------------
def read_pinned_key(tx: AppendTx) -> str | None:
    """The verifier key (``name+id+key``) pinned for this ledger, or None.

    Raises ConfigError when the table does not exist yet (a ledger initialised
    before key pinning): the caller creates it."""
    try:
        tx.c.execute(tx._sql(f"SELECT verifier_key FROM {tx.t.q('ledger_signing_keys')} "
                             "WHERE ledger_id=?"), (tx.lkey,))
    except Exception as exc:  # the driver's "no such table", on either database
        raise ConfigError("this ledger has no pinned signing key table yet") from exc
    row = tx.c.fetchone()
    return None if row is None else str(row["verifier_key"])


def pin_key(tx: AppendTx, verifier_key: str, pinned_at: str) -> None:
    tx.c.execute(tx._sql(f"INSERT INTO {tx.t.q('ledger_signing_keys')} (ledger_id, "
                         "verifier_key, pinned_at) VALUES (?,?,?) ON CONFLICT DO NOTHING"),
                 (tx.lkey, verifier_key, pinned_at))
