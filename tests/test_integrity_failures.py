"""Issue 13 item 2: a missing or corrupt entry is a verification failure, never a
database error.  After a row is deleted (or broken) directly in the database,
``ledger verify --checkpoint … --incremental`` and ``ledger prove`` exit 1 with
``first_bad_seq`` and a reason in ``--json``, and the HTTP proof routes answer a
problem detail that is not 503 (no ``Retry-After``: a monitor must not retry).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.app.application import Ledger
from ledger.app.proofs import prover_of
from tests.http_kit import Api, api_for
from tests.test_cli import run
from tests.test_tamper import build, raw_db

INTEGRITY = "urn:problem:ledger:integrity-failure"


@pytest.fixture
def kept(ledger: Ledger, tmp_path: Path) -> Path:
    """Twelve entries and the checkpoint of 12 the auditor kept."""
    build(ledger)
    path = tmp_path / "kept.txt"
    note = prover_of(ledger).checkpoint()["note"]
    path.write_text(note)
    return path


def delete(url: str, seq: int) -> None:
    with raw_db(url) as (conn, table, q):
        conn.execute(q(f"DELETE FROM {table} WHERE originator_version=?"), (seq,))


def break_json(url: str, seq: int) -> None:
    with raw_db(url) as (conn, table, q):
        conn.execute(q(f"UPDATE {table} SET state=? WHERE originator_version=?"),
                     (b'{"seq": 7, broken', seq))


def break_hash(url: str, seq: int) -> None:
    with raw_db(url) as (conn, table, q):
        conn.execute(q(f"UPDATE {table} SET hash=? WHERE originator_version=?"),
                     ("not hex at all", seq))


def failed(out: Any, seq: int) -> dict[str, Any]:
    assert out.returncode == 1, out.stdout + out.stderr
    got: dict[str, Any] = json.loads(out.stdout)
    assert got["ok"] is False and got["first_bad_seq"] == seq, got
    assert got["reason"] and "database" not in got["reason"], got
    return got


def test_prove_after_a_deleted_middle_row(ledger: Ledger, db_url: str,
                                          cli_env: dict[str, str]) -> None:
    build(ledger)
    delete(db_url, 5)
    failed(run(cli_env, "prove", "7", "--json"), 5)
    failed(run(cli_env, "prove", "--consistency", "3", "12", "--json"), 5)
    human = run(cli_env, "prove", "7")
    assert human.returncode == 1 and "entry 5 is missing" in human.stdout + human.stderr


@pytest.mark.parametrize("tamper", [delete, break_json, break_hash],
                         ids=["deleted row", "broken JSON", "non-hex hash"])
def test_incremental_verify_after_a_missing_or_corrupt_row(
        ledger: Ledger, db_url: str, cli_env: dict[str, str], kept: Path,
        tamper: Callable[[str, int], None]) -> None:
    more(ledger)
    tamper(db_url, 14)                                      # after the checkpoint of 12
    for extra in (["--incremental"], []):
        failed(run(cli_env, "verify", "--checkpoint", str(kept), "--json", *extra), 14)


def more(ledger: Ledger) -> None:
    ledger.append([{"type": "ConsentGiven", "subject": f"more{i}@x.fr",
                    "occurred_at": "2024-05-02T10:00:00+02:00",
                    "data": {"purpose": "recruitment", "method": "form"}} for i in range(4)])


@pytest.mark.parametrize("seq", [3, 12])
def test_incremental_verify_when_an_entry_up_to_the_checkpoint_is_gone(
        ledger: Ledger, db_url: str, cli_env: dict[str, str], kept: Path, seq: int) -> None:
    more(ledger)
    delete(db_url, seq)
    failed(run(cli_env, "verify", "--checkpoint", str(kept), "--json", "--incremental"), seq)


def test_a_cut_back_ledger_names_the_first_missing_entry(
        ledger: Ledger, db_url: str, cli_env: dict[str, str], kept: Path) -> None:
    delete(db_url, 12)
    got = failed(run(cli_env, "verify", "--checkpoint", str(kept), "--json",
                     "--incremental"), 12)
    assert "cut back" in got["reason"]


@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    with api_for(ledger, db_url, env) as a:
        yield a


@pytest.mark.parametrize(("tamper", "reason"), [(delete, "entry 5 is missing"),
                                                (break_hash, "not 64 hex digits")],
                         ids=["deleted row", "non-hex hash"])
def test_http_proofs_after_a_deleted_row_are_integrity_failures(
        api: Api, ledger: Ledger, db_url: str, tamper: Callable[[str, int], None],
        reason: str) -> None:
    build(ledger)
    tamper(db_url, 5)
    for path in ("/v1/proofs/inclusion/7", "/v1/proofs/consistency?old=3&new=12"):
        r = api.get(path, as_="auditor")
        assert r.status_code == 500, r.text
        assert "retry-after" not in r.headers
        body = r.json()
        assert body["type"] == INTEGRITY and body["first_bad_seq"] == 5, body
        assert reason in body["detail"] and reason in body["reason"]
    r = api.get("/v1/verify", as_="auditor")
    assert r.status_code == 200 and r.json()["first_bad_seq"] == 5, r.text
