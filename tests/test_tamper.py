"""Attacks as data: each tampering done directly in the database makes
``ledger verify`` exit 1 and name the first bad seq (on both databases)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ledger.app.application import Ledger
from ledger.trust.chain import Entry, entry_hash
from tests.conftest import PG_URL
from tests.helpers import collect, consent

N = 12  # entries in the ledger under attack (policy + 11 events)


@contextmanager
def raw_db(url: str) -> Iterator[tuple[Any, str, Callable[[str], str]]]:
    """A raw connection with the append-only triggers disabled, as an attacker has."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None)
        conn.execute("DROP TRIGGER ledger_events_no_update")
        conn.execute("DROP TRIGGER ledger_events_no_delete")
        try:
            yield conn, "ledger_events", lambda s: s
        finally:
            conn.close()
    else:
        schema = url.split("schema=")[1]
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            table = f'"{schema}".ledger_events'
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            yield conn, table, lambda s: s.replace("?", "%s")


def rows(conn: Any, table: str, q: Callable[[str], str]) -> list[tuple[int, str, bytes]]:
    cur = conn.execute(f"SELECT originator_version, hash, state FROM {table} "
                       "ORDER BY originator_version")
    return [(int(r[0]), r[1], bytes(r[2])) for r in cur.fetchall()]


def set_row(conn: Any, table: str, q: Callable[[str], str], seq: int, *, state: bytes,
            hash_: str) -> None:
    conn.execute(q(f"UPDATE {table} SET state=?, hash=? WHERE originator_version=?"),
                 (state, hash_, seq))


def edit_payload_byte(conn: Any, table: str, q: Callable[[str], str]) -> int:
    seq, h, state = rows(conn, table, q)[3]
    i = state.index(b'"method":"form"') + len(b'"method":"f')
    set_row(conn, table, q, seq, state=state[:i] + b"x" + state[i + 1:], hash_=h)
    return seq


def edit_hash(conn: Any, table: str, q: Callable[[str], str]) -> int:
    seq, _, state = rows(conn, table, q)[6]
    set_row(conn, table, q, seq, state=state, hash_="ab" * 32)
    return seq


def recompute_one(conn: Any, table: str, q: Callable[[str], str]) -> int:
    """Rewrite an entry and recompute its own hash: the next link breaks."""
    seq, _, state = rows(conn, table, q)[5]
    entry = json.loads(state)
    entry["payload"]["method"] = "paper"
    data = Entry.from_json(entry).canonical()
    set_row(conn, table, q, seq, state=data, hash_=entry_hash(data))
    return seq + 1


def delete_row(conn: Any, table: str, q: Callable[[str], str]) -> int:
    seq = rows(conn, table, q)[3][0]
    conn.execute(q(f"DELETE FROM {table} WHERE originator_version=?"), (seq,))
    return seq


def insert_row(conn: Any, table: str, q: Callable[[str], str]) -> int:
    """Shift entries >= 8 up by one and slip a well-formed forged entry in at 8."""
    all_rows = rows(conn, table, q)
    k = 8
    for seq, _, _ in reversed(all_rows[k - 1:]):
        conn.execute(q(f"UPDATE {table} SET originator_version=? WHERE "
                       "originator_version=?"), (seq + 1, seq))
    prev = all_rows[k - 2]
    forged = json.loads(all_rows[k - 1][2])
    forged.update(seq=k, prev_hash=prev[1], event_id="00000000-0000-4000-8000-000000000000")
    data = Entry.from_json(forged).canonical()
    cols = "originator_id, originator_version, topic, state, event_id, hash, stream"
    src = conn.execute(q(f"SELECT {cols} FROM {table} WHERE originator_version=?"),
                       (k + 1,)).fetchone()
    conn.execute(q(f"INSERT INTO {table} ({cols}) VALUES (?,?,?,?,?,?,?)"),
                 (src[0], k, src[2], data, forged["event_id"], entry_hash(data), src[6]))
    return k + 1  # the forged entry is self-consistent; the first original after it is not


def swap_rows(conn: Any, table: str, q: Callable[[str], str]) -> int:
    all_rows = rows(conn, table, q)
    (s1, h1, d1), (s2, h2, d2) = all_rows[8], all_rows[9]
    set_row(conn, table, q, s1, state=d2, hash_=h2)
    set_row(conn, table, q, s2, state=d1, hash_=h1)
    return s1


def non_canonical(conn: Any, table: str, q: Callable[[str], str]) -> int:
    """Same JSON, other spelling (a space), hash recomputed over the new bytes."""
    seq, _, state = rows(conn, table, q)[2]
    data = state.replace(b'{"actor"', b'{ "actor"', 1)
    set_row(conn, table, q, seq, state=data, hash_=entry_hash(data))
    return seq


ATTACKS = {
    "edited payload byte": edit_payload_byte,
    "edited hash": edit_hash,
    "entry rewritten with its own hash recomputed": recompute_one,
    "deleted row": delete_row,
    "inserted row": insert_row,
    "two rows swapped": swap_rows,
    "non-canonical bytes": non_canonical,
}


def build(ledger: Ledger) -> None:
    events = []
    for i in range(5):
        s = f"candidate{i}@example.fr"
        events += [consent(s, evidence=f"form-{i}"), collect(s)]
    events.append(consent("late@example.fr"))
    ledger.append(events)
    assert ledger.head()[0] == N


def cli_verify(cli_env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run([sys.executable, "-m", "ledger.cli", "verify", "--json"],
                          env=cli_env, capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_tampering_is_caught(attack: str, ledger: Ledger, db_url: str,
                             cli_env: dict[str, str]) -> None:
    build(ledger)
    code, before = cli_verify(cli_env)
    assert code == 0 and before["ok"] and before["entries"] == N
    with raw_db(db_url) as (conn, table, q):
        bad = ATTACKS[attack](conn, table, q)
    code, after = cli_verify(cli_env)
    assert code == 1
    assert after["ok"] is False
    assert after["first_bad_seq"] == bad, after
    assert after["reason"]
    assert after["entries"] == bad - 1
    for workers in (2, 3):  # slices checked in separate processes agree with one pass
        split = ledger.verify(workers=workers)
        assert (split.ok, split.first_bad_seq, split.entries) == (False, bad, bad - 1)


def test_byte_edited_in_the_sqlite_file(tmp_path: Path, env: dict[str, str]) -> None:
    """Tampering with the file itself, below SQLite: one byte of one payload."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    led, _ = Ledger.init(url, env=env)
    from ledger.domain.policy import bundled_policy
    led.publish_policy(bundled_policy())
    build(led)
    target = next(r for r in led.store.entries(start=4) if r.seq == 4)
    sealed = json.loads(target.state)["payload"]["evidence"].encode()
    led.store.checkpoint_wal()
    led.close()
    path = tmp_path / "ledger.db"
    raw = bytearray(path.read_bytes())
    assert raw.count(sealed) == 1
    i = raw.index(sealed) + len(sealed) - 3
    raw[i] = ord("A") if raw[i] != ord("A") else ord("B")
    path.write_bytes(bytes(raw))
    with Ledger.open(url, env=env) as led2:
        result = led2.verify()
    assert not result.ok
    assert result.first_bad_seq == 4
    assert result.reason == "stored hash does not match SHA-256 of the entry"


def test_truncated_tail_needs_a_checkpoint(ledger: Ledger, db_url: str) -> None:
    """Documented limit (docs/FORMAT.md §6): a chain alone cannot show a cut tail;
    only a checkpoint held outside the database can.  This test pins that fact."""
    build(ledger)
    with raw_db(db_url) as (conn, table, q):
        conn.execute(q(f"DELETE FROM {table} WHERE originator_version>?"), (N - 2,))
    result = ledger.verify()
    assert result.ok and result.entries == N - 2


def test_triggers_refuse_update_and_delete(ledger: Ledger, db_url: str) -> None:
    build(ledger)
    if db_url.startswith("sqlite:///"):
        conn = sqlite3.connect(db_url[len("sqlite:///"):])
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE ledger_events SET hash='x'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM ledger_events")
        conn.close()
    else:
        schema = db_url.split("schema=")[1]
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for sql in ("UPDATE {t} SET hash='x'", "DELETE FROM {t}", "TRUNCATE {t}"):
                with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                    conn.execute(sql.format(t=f'"{schema}".ledger_events'))
    assert ledger.verify().ok
