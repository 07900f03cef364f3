"""The write side's look-ups stay indexed after the issue 15 space changes (both databases).

Not a speed test: it reads the query plans of the statements an append and the
policy readers run, on a fresh ledger, and checks that each names an index
(docs/PERFORMANCE.md, "Issue 15": the full topic index was replaced by a partial
index of the policy entries; the key tables are WITHOUT ROWID on SQLite).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg

from ledger.app.application import Ledger
from ledger.domain.policy import bundled_policy
from ledger.storage.common import AppendTx

LOOKUPS = {
    # what an append runs (AppendTx), and entries(types=[one type]) (chained.py)
    "last_seq_of_type": ("SELECT MAX(originator_version) AS m FROM {e} "
                         "WHERE originator_id=? AND topic=?", "policy"),
    "entries_one_type": ("SELECT originator_version FROM {e} WHERE originator_id=? AND "
                         "originator_version>=? AND topic=? ORDER BY originator_version "
                         "LIMIT ?", "policy"),
    "streams": ("SELECT originator_version FROM {e} WHERE originator_id=? AND "
                "stream IN (?,?)", "stream"),
    "event_ids": ("SELECT originator_version FROM {e} WHERE originator_id=? AND "
                  "event_id IN (?)", "event_id"),
    "keys": ("SELECT subject FROM {k} WHERE ledger_id=? AND subject IN (?)", "keys"),
}


def _params(name: str, store: Any) -> tuple[Any, ...]:
    oid = store.ledger_oid
    return {"last_seq_of_type": (oid, "PolicyPublished"),
            "entries_one_type": (oid, 1, "PolicyPublished", 5000),
            "streams": (oid, "policy", "nobody"),
            "event_ids": (oid, "nothing"),
            "keys": (store.ledger_key, "nobody")}[name]


def _plans(ledger: Ledger, only: tuple[str, ...] = tuple(LOOKUPS)) -> dict[str, str]:
    store: Any = ledger.store
    out: dict[str, str] = {}

    def read(tx: AppendTx) -> None:
        for name in only:
            sql = LOOKUPS[name][0]
            text = sql.format(e=store.tables.events, k=store.tables.keys)
            if store.param != "?":
                # A small table is scanned by choice: forbid that, to see which index serves.
                tx.c.execute("SET LOCAL enable_seqscan = off")
                tx.c.execute("EXPLAIN " + text.replace("?", "%s"), _params(name, store))
                out[name] = " ".join(str(next(iter(r.values()))) for r in tx.c.fetchall())
            else:
                tx.c.execute("EXPLAIN QUERY PLAN " + text, _params(name, store))
                out[name] = " ".join(str(tuple(r)[-1]) for r in tx.c.fetchall())

    store.read(read)
    return out


def _key_tables(db_url: str) -> list[tuple[str, str]]:
    """(table, type of ledger_id) of the two key tables; SQLite: the table's SQL."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        try:
            return conn.execute("SELECT name, sql FROM sqlite_master WHERE name IN "
                                "('ledger_subject_keys', 'ledger_shredded_keys') "
                                "ORDER BY name").fetchall()
        finally:
            conn.close()
    schema = db_url.split("schema=", 1)[1]
    with psycopg.connect(db_url.split("?", 1)[0], autocommit=True) as conn:
        return conn.execute("SELECT table_name, data_type FROM information_schema.columns "
                            "WHERE table_schema=%s AND column_name='ledger_id' AND table_name "
                            "IN ('ledger_subject_keys', 'ledger_shredded_keys') ORDER BY 1",
                            (schema,)).fetchall()


def test_key_tables_are_narrow_on_new_ledgers(db_url: str, env: dict[str, str]) -> None:
    ledger, _ = Ledger.init(db_url, "narrow", env=env)
    ledger.close()
    tables = _key_tables(db_url)
    assert [name for name, _ in tables] == ["ledger_shredded_keys", "ledger_subject_keys"]
    for _, what in tables:
        assert what.endswith("WITHOUT ROWID") if db_url.startswith("sqlite") else what == "uuid"


def test_append_and_policy_lookups_use_an_index(db_url: str, env: dict[str, str]) -> None:
    ledger, _ = Ledger.init(db_url, "plans", env=env)
    try:
        ledger.publish_policy(bundled_policy(), actor="test")
        ledger.append([{"type": "ConsentGiven", "subject": f"s{i}@example.org",
                        "occurred_at": "2024-05-01T10:00:00+02:00", "actor": "site",
                        "data": {"purpose": "recruitment", "method": "form"}}
                       for i in range(50)])
        plans = _plans(ledger)
        sqlite = db_url.startswith("sqlite")
        expected = {"policy": "ledger_events_policy", "stream": "ledger_events_stream",
                    "event_id": "ledger_events_event_id",
                    "keys": "PRIMARY KEY" if sqlite else "ledger_subject_keys_pkey"}
        for name, (_, index) in LOOKUPS.items():
            assert expected[index] in plans[name], (name, plans[name])
            assert "SCAN ledger_events" not in plans[name] and "Seq Scan" not in plans[name]
        assert ledger.store.read(lambda tx: tx.last_seq_of_type("PolicyPublished")) == 1
        assert [r.seq for r in ledger.store.entries(types=["PolicyPublished"])] == [1]
        assert [r.type for r in ledger.store.entries(types=["ConsentGiven", "PolicyPublished"],
                                                     page=7)][:2] == ["PolicyPublished",
                                                                      "ConsentGiven"]
        assert len(list(ledger.store.entries(types=["ConsentGiven"], page=7))) == 50
    finally:
        ledger.close()


OLD_KEY_TABLES = {  # the definitions before issue 15 (rowid tables), SQLite
    "ledger_subject_keys": "CREATE TABLE ledger_subject_keys (ledger_id TEXT NOT NULL, subject "
                           "TEXT NOT NULL, scope TEXT NOT NULL, epoch INTEGER NOT NULL, "
                           "wrapped BLOB NOT NULL, PRIMARY KEY (ledger_id, subject, scope, "
                           "epoch))",
    "ledger_shredded_keys": "CREATE TABLE ledger_shredded_keys (ledger_id TEXT NOT NULL, "
                            "subject TEXT NOT NULL, scope TEXT NOT NULL, epoch INTEGER NOT "
                            "NULL, seq INTEGER NOT NULL, PRIMARY KEY (ledger_id, subject, "
                            "scope, epoch))",
}


def _make_previous_schema(db_url: str) -> None:
    """Turn a fresh ledger's tables into those of the version before issue 15."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        try:
            conn.execute("DROP INDEX ledger_events_policy")
            conn.execute("CREATE INDEX ledger_events_topic ON ledger_events "
                         "(originator_id, topic, originator_version)")
            for table, ddl in OLD_KEY_TABLES.items():
                conn.execute(f"ALTER TABLE {table} RENAME TO {table}_new")
                conn.execute(ddl)
                conn.execute(f"INSERT INTO {table} SELECT * FROM {table}_new")
                conn.execute(f"DROP TABLE {table}_new")
            conn.commit()
            assert conn.execute("SELECT count(*) FROM sqlite_master WHERE sql LIKE "
                                "'%WITHOUT ROWID%'").fetchone()[0] == 0
        finally:
            conn.close()
        return
    schema = db_url.split("schema=", 1)[1]
    with psycopg.connect(db_url.split("?", 1)[0], autocommit=True) as conn:
        conn.execute(f'DROP INDEX "{schema}".ledger_events_policy')
        conn.execute(f'CREATE INDEX ledger_events_topic ON "{schema}".ledger_events '
                     "(originator_id, topic, originator_version)")
        for table in ("ledger_subject_keys", "ledger_shredded_keys"):
            conn.execute(f'ALTER TABLE "{schema}".{table} ALTER COLUMN ledger_id TYPE text')


def test_a_ledger_of_the_previous_schema_still_works(db_url: str, env: dict[str, str]) \
        -> None:
    ledger, _ = Ledger.init(db_url, "old", env=env)
    try:
        ledger.publish_policy(bundled_policy(), actor="test")
        ledger.append([_consent("a@example.org"), _consent("b@example.org"),
                       *(_consent(f"s{i}@example.org") for i in range(50))])
    finally:
        ledger.close()
    _make_previous_schema(db_url)
    ledger = Ledger.open(db_url, "old", env=env)
    try:
        plans = _plans(ledger, only=("last_seq_of_type", "entries_one_type", "keys"))
        assert "ledger_events_topic" in plans["last_seq_of_type"], plans
        assert "ledger_events_topic" in plans["entries_one_type"], plans
        ledger.append([_consent("c@example.org")])
        ledger.erase("a@example.org", ground="consent_withdrawn")
        assert ledger.verify().ok
        assert [r.seq for r in ledger.store.entries(types=["PolicyPublished"])] == [1]
        shown = {e["subject"]: e for e in ledger.log() if e["type"] == "ConsentGiven"}
        assert shown[ledger.pseudonym("b@example.org")]["data"]["evidence"] == "form:x"
        assert shown[ledger.pseudonym("a@example.org")]["data"]["evidence"] == "[erased]"
    finally:
        ledger.close()


def _consent(subject: str) -> dict[str, Any]:
    return {"type": "ConsentGiven", "subject": subject,
            "occurred_at": "2024-05-01T10:00:00+02:00", "actor": "site",
            "data": {"purpose": "recruitment", "method": "form", "evidence": "form:x"}}
