"""Proofs on a real ledger, on SQLite and PostgreSQL: saved subtree hashes, inclusion and
consistency proofs, checkpoints, auto-checkpoints, rollback detection."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ledger.app.application import Ledger
from ledger.app.extension import verify_extension
from ledger.app.proofs import prover_of
from ledger.errors import ConfigError, InputError, VerificationError
from ledger.keys.signing_key import signing_key_path
from ledger.storage.tree_store import TreeReader
from ledger.trust.ed25519 import verify_checkpoint_signature
from ledger.trust.merkle import leaf_hash, root_of, verify_consistency, verify_inclusion
from ledger.trust.notes import parse_checkpoint, parse_verifier_key
from tests.proof_helpers import fill, other_key, resign
from tests.test_tamper import raw_db


def leaves(ledger: Ledger) -> list[bytes]:
    return [leaf_hash(bytes.fromhex(h)) for _, h, _ in ledger.store.iter_rows(1)]


def test_saved_subtrees_give_the_from_scratch_root_at_many_sizes(ledger: Ledger) -> None:
    p = prover_of(ledger)
    rnd = random.Random(1)
    for target in (90, 300, 555, 777):   # catch-ups at several points: levels 8 and 9
        fill(ledger, target)
        assert p.catch_up() == target
        hs = leaves(ledger)
        sizes = {1, 2, 255, 256, 257, 511, 512, 513, target, *rnd.sample(range(1, target), 25)}
        for n in sorted(s for s in sizes if s <= target):
            assert p.root(n) == root_of(hs[:n]), n
    rows = ledger.store.read(lambda tx: (tx.c.execute(tx._sql(
        "SELECT level, COUNT(*) AS n FROM " + tx.t.q("ledger_tree_nodes") + " WHERE "
        "ledger_id=? GROUP BY level ORDER BY level"), (tx.lkey,)), tx.c.fetchall())[1])
    assert [(int(r["level"]), int(r["n"])) for r in rows] == [(8, 3), (9, 1)]
    # proofs from the store verify against the from-scratch roots
    hs = leaves(ledger)
    for seq in (1, 2, 256, 257, 400, 513, 700, 777):
        for size in (seq, 777, max(seq, 600)):
            pr = p.inclusion(seq, size)
            assert pr["leaf_index"] == seq - 1 and pr["tree_size"] == size
            verify_inclusion(seq - 1, size, hs[seq - 1], [bytes.fromhex(x) for x in pr["path"]],
                             root_of(hs[:size]))
    for old, new in ((1, 777), (256, 512), (255, 600), (300, 777), (512, 777), (777, 777)):
        c = p.consistency(old, new)
        verify_consistency(old, new, root_of(hs[:old]), root_of(hs[:new]),
                           [bytes.fromhex(x) for x in c["path"]])
    # a proof reads a few rows, not the ledger: two leaf blocks and some saved nodes
    reader_reads = ledger.store.read(lambda tx: _reads(tx, 700, 777))
    assert reader_reads <= 6


def _reads(tx: object, seq: int, size: int) -> int:
    from ledger.trust.merkle import inclusion_path
    r = TreeReader(tx)  # type: ignore[arg-type]
    inclusion_path(seq - 1, size, r.subtree)
    r.subtree(0, size)
    return r.reads


def test_bad_sizes_name_the_argument(ledger: Ledger) -> None:
    fill(ledger, 10)
    p = prover_of(ledger)
    for call, field in ((lambda: p.inclusion(0), "SEQ"), (lambda: p.inclusion(11), "SEQ"),
                        (lambda: p.inclusion(5, 4), "SEQ"), (lambda: p.inclusion(5, 11), "--size"),
                        (lambda: p.consistency(0, 5), "OLD"), (lambda: p.consistency(6, 5), "OLD"),
                        (lambda: p.consistency(2, 11), "NEW")):
        with pytest.raises(InputError) as err:
            call()
        assert err.value.field == field and "must be between" in err.value.rule


def test_checkpoints_are_signed_notes_and_kept(ledger: Ledger) -> None:
    p = prover_of(ledger)
    fill(ledger, 20)
    key = p.verifier_key()
    assert str(key).startswith("ledger.example/main+")
    assert parse_verifier_key(str(key)) == key
    first = p.checkpoint()
    assert p.checkpoint() == first          # same size: one checkpoint
    fill(ledger, 33)
    second = p.checkpoint()
    assert [c["tree_size"] for c in p.checkpoints()] == [20, 33]
    for c in (first, second):
        cp = parse_checkpoint(c["note"])
        assert cp.origin == "ledger.example/main" and cp.size == c["tree_size"]
        assert cp.root.hex() == c["root"] == root_of(leaves(ledger)[:cp.size]).hex()
        verify_checkpoint_signature(cp, key)
        assert cp.text.endswith("\n") and cp.body.count("\n") == 3


def test_auto_checkpoint_every_n(ledger: Ledger) -> None:
    p = prover_of(ledger)
    p.set_every(25)
    ledger.checkpoint_every = 25  # as Ledger.open reads it
    fill(ledger, 60, batch=7)  # 1 + 7k: crosses 25 at 29 and 50 at 50
    assert [c["tree_size"] for c in p.checkpoints()] == [29, 50]
    reopened = Ledger.open(ledger.url or "", env=ledger.env)
    assert reopened.checkpoint_every == 25
    reopened.close()


def test_init_adds_what_an_older_ledger_lacks(db_url: str, env: dict[str, str]) -> None:
    led, msg = Ledger.init(db_url, env=env)
    assert "signing key:" in msg and "checkpoint origin: ledger.example/main" in msg
    path = signing_key_path(db_url, "main", env)
    key1 = prover_of(led).verifier_key()
    led.close()
    led, _ = Ledger.init(db_url, env=env)          # idempotent: the same key
    assert prover_of(led).verifier_key() == key1
    led.close()
    path.unlink()                                   # a ledger without a signing key
    with pytest.raises(ConfigError, match="run `ledger init`"):
        prover_of(Ledger.open(db_url, env=env)).checkpoint()
    # the verifier key is pinned (issue 13): a lost signing key is not replaced by init
    with pytest.raises(ConfigError, match="is not this ledger's"):
        Ledger.init(db_url, env=env)
    assert not path.exists()                        # refused: no new key left behind
    with pytest.raises(ConfigError, match="cannot change"):
        Ledger.init(db_url, env={**env, "LEDGER_ORIGIN": "audit.example.fr/other"})


def _rewrite_from(conn: object, table: str, q: object, start: int) -> None:
    """Rewrite entry ``start`` and recompute every hash after it: a valid chain again."""
    from ledger.trust.chain import Entry, entry_hash
    cur = conn.execute(f"SELECT originator_version, hash, state FROM {table} "  # type: ignore[attr-defined]
                       "ORDER BY originator_version")
    all_rows = [(int(r[0]), r[1], bytes(r[2])) for r in cur.fetchall()]
    prev = all_rows[start - 2][1]
    for seq, _, state in all_rows[start - 1:]:
        entry = json.loads(state)
        entry["prev_hash"] = prev
        if seq == start:
            entry["actor"] = "someone:else"
        data = Entry.from_json(entry).canonical()
        prev = entry_hash(data)
        conn.execute(q(f"UPDATE {table} SET state=?, hash=? WHERE originator_version=?"),  # type: ignore[attr-defined, operator]
                     (data, prev, seq))


@pytest.mark.parametrize("attack", ["truncated below the checkpoint",
                                    "rewritten and rehashed", "entry edited after it"])
def test_rollback_below_a_kept_checkpoint_is_caught(attack: str, ledger: Ledger,
                                                    db_url: str) -> None:
    p = prover_of(ledger)
    fill(ledger, 40)
    kept = parse_checkpoint(p.checkpoint()["note"])
    key = p.verifier_key()
    fill(ledger, 70)
    for incremental in (False, True):
        out = verify_extension(p, kept, key, incremental=incremental)
        assert (out["old_size"], out["new_size"]) == (40, 70)
        assert out["entries_checked"] == (30 if incremental else 70)
    with raw_db(db_url) as (conn, table, q):
        if attack == "truncated below the checkpoint":
            conn.execute(q(f"DELETE FROM {table} WHERE originator_version>?"), (35,))
            expected = "cut back"
        elif attack == "rewritten and rehashed":
            _rewrite_from(conn, table, q, 12)
            expected = "rewritten"
        else:
            _rewrite_from(conn, table, q, 55)
            conn.execute(q(f"UPDATE {table} SET hash=? WHERE originator_version=?"),
                         ("00" * 32, 60))
            expected = "does not verify"
    # a cut tail and a rehashed rewrite leave a valid chain: only the checkpoint tells
    assert ledger.verify().ok is (attack != "entry edited after it")
    for incremental, workers in ((False, 1), (False, 2), (True, 1)):
        with pytest.raises(VerificationError, match=expected):
            verify_extension(p, kept, key, incremental=incremental, workers=workers)
    # and another key's checkpoint is refused whatever the ledger
    seed, k2 = other_key(kept.origin)
    forged = parse_checkpoint(resign(kept.origin, kept.size, kept.root, seed, k2))
    with pytest.raises(VerificationError, match="no signature by key"):
        verify_extension(p, forged, key)


def test_a_checkpoint_with_an_edited_root_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    p = prover_of(ledger)
    fill(ledger, 10)
    note = p.checkpoint()["note"]
    lines = note.split("\n")
    lines[2] = lines[2][:-4] + ("AAA=" if lines[2][-4:] != "AAA=" else "BBB=")
    with pytest.raises(VerificationError, match="bad signature"):
        verify_extension(p, parse_checkpoint("\n".join(lines)), p.verifier_key())


def test_what_incremental_verification_does_and_does_not_read(ledger: Ledger,
                                                               db_url: str) -> None:
    """docs/PROOFS.md: --incremental trusts the saved tree below the checkpoint and reads
    only entry ``size`` and the entries after it; the full check reads everything."""
    p = prover_of(ledger)
    fill(ledger, 600)
    kept = parse_checkpoint(p.checkpoint()["note"])
    key = p.verifier_key()
    fill(ledger, 650)
    with raw_db(db_url) as (conn, table, q):       # entry 100 edited, its own hash recomputed
        from ledger.trust.chain import Entry, entry_hash
        state = conn.execute(q(f"SELECT state FROM {table} WHERE originator_version=?"),
                             (100,)).fetchone()[0]
        entry = json.loads(bytes(state))
        entry["actor"] = "someone:else"
        data = Entry.from_json(entry).canonical()
        conn.execute(q(f"UPDATE {table} SET state=?, hash=? WHERE originator_version=?"),
                     (data, entry_hash(data), 100))
    assert verify_extension(p, kept, key, incremental=True)["entries_checked"] == 50
    with pytest.raises(VerificationError, match="chain does not verify") as err:
        verify_extension(p, kept, key)
    assert err.value.seq == 101
    # the saved subtree hashes altered: both modes notice
    ledger.store.append(lambda tx: tx.c.execute(tx._sql(
        f"UPDATE {tx.t.q('ledger_tree_nodes')} SET hash=? WHERE level=9 AND idx=0"),
        (bytes(32),)))
    with pytest.raises(VerificationError, match="rewritten"):
        verify_extension(p, kept, key, incremental=True)


def test_altered_saved_subtree_hashes_are_noticed(ledger: Ledger) -> None:
    p = prover_of(ledger)
    fill(ledger, 270)
    kept = parse_checkpoint(p.checkpoint()["note"])
    fill(ledger, 300)
    ledger.store.append(lambda tx: tx.c.execute(tx._sql(
        f"UPDATE {tx.t.q('ledger_tree_nodes')} SET hash=? WHERE level=8 AND idx=0"),
        (bytes(32),)))
    assert ledger.verify().ok
    with pytest.raises(VerificationError, match="proof tables were altered"):
        verify_extension(p, kept, p.verifier_key())
    with pytest.raises(VerificationError, match="rewritten"):
        verify_extension(p, kept, p.verifier_key(), incremental=True)


def test_a_failed_auto_checkpoint_does_not_fail_the_stored_append(
        ledger: Ledger, caplog: pytest.LogCaptureFixture) -> None:
    p = prover_of(ledger)
    p.set_every(2)
    ledger.checkpoint_every = 2
    signing_key_path(ledger.url or "", "main", ledger.env or {}).unlink()
    fill(ledger, 5)
    assert ledger.head()[0] == 5 and p.checkpoints() == []
    assert "automatic checkpoint failed" in caplog.text


def test_origin_of_a_ledger_named_with_spaces(db_url: str, env: dict[str, str]) -> None:
    led, msg = Ledger.init(db_url, "payroll 2026+", env=env)
    assert "checkpoint origin: ledger.example/payroll-2026-" in msg
    assert parse_verifier_key(str(prover_of(led).verifier_key())).name == \
        "ledger.example/payroll-2026-"
    led.close()
    with pytest.raises(ConfigError, match="LEDGER_CHECKPOINT_EVERY"):
        Ledger.init(db_url, "other", env={**env, "LEDGER_CHECKPOINT_EVERY": "ten"})
