"""Issue 13 items 6, 7 and 8, on both databases: a refused ``ledger init`` writes no key;
checkpoints are signed with the ledger's pinned key only; a key folder open to its group
or others is refused."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from ledger.app.application import Ledger
from ledger.app.proofs import prover_of
from ledger.errors import ConfigError, KeyError_
from tests.helpers import consent
from tests.test_cli import run

FOREIGN_SEED = base64.b64encode(b"f" * 32).decode()


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


# -- 6. a refused init writes nothing ---------------------------------------------------------
def test_refused_init_leaves_no_key_behind(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert run(cli_env, "init").returncode == 0
    missing = tmp_path / "not-there"
    elsewhere = {**cli_env, "LEDGER_KEY_DIR": str(missing)}
    first = run(elsewhere, "init")
    assert first.returncode == 2 and "does not belong" in first.stderr, first.stderr
    assert not missing.exists()
    again = run(elsewhere, "init")                          # the same answer, still nothing
    assert (again.returncode, again.stderr) == (first.returncode, first.stderr)
    assert not missing.exists()


def test_refused_init_in_an_existing_empty_folder_writes_nothing(
        db_url: str, env: dict[str, str], tmp_path: Path) -> None:
    Ledger.init(db_url, env=env)[0].close()
    empty = tmp_path / "empty-keys"
    empty.mkdir(mode=0o700)
    with pytest.raises(KeyError_, match="does not belong"):
        Ledger.init(db_url, env={"LEDGER_KEY_DIR": str(empty)})
    assert files(empty) == []


def test_init_refused_for_its_origin_writes_no_key(db_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "k"
    with pytest.raises(ConfigError, match="LEDGER_ORIGIN"):
        Ledger.init(db_url, env={"LEDGER_KEY_DIR": str(keys), "LEDGER_ORIGIN": "bad origin"})
    assert files(keys) == []
    led, _ = Ledger.init(db_url, env={"LEDGER_KEY_DIR": str(keys)})
    led.close()
    before = files(keys)
    with pytest.raises(ConfigError, match="cannot change"):
        Ledger.init(db_url, env={"LEDGER_KEY_DIR": str(keys), "LEDGER_ORIGIN": "other.example"})
    assert files(keys) == before


# -- 7. the pinned signing key -------------------------------------------------------------------
def test_checkpoint_with_a_foreign_key_is_refused(cli_env: dict[str, str]) -> None:
    init = run(cli_env, "init")
    assert init.returncode == 0 and "verifier key pinned: ledger.example/main+" in init.stdout
    key = run(cli_env, "pubkey").stdout.strip()
    assert run(cli_env, "checkpoint").returncode == 0
    foreign = {**cli_env, "LEDGER_SIGNING_KEY": FOREIGN_SEED}
    out = run(foreign, "checkpoint")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "is not this ledger's" in out.stderr and key in out.stderr, out.stderr
    assert len(run(cli_env, "checkpoint", "--list").stdout.splitlines()) == 2  # header, one
    assert run(foreign, "pubkey").stdout.strip() == key       # the pinned key, not the env's
    refused = run(foreign, "init")
    assert refused.returncode == 2 and "is not this ledger's" in refused.stderr


def test_auto_checkpoint_with_a_foreign_key_records_nothing(
        ledger: Ledger, caplog: pytest.LogCaptureFixture) -> None:
    ledger.env = {**(ledger.env or {}), "LEDGER_SIGNING_KEY": FOREIGN_SEED}
    with pytest.raises(ConfigError, match="is not this ledger's"):
        prover_of(ledger).checkpoint()
    ledger.checkpoint_every = 1
    ledger.append([consent("auto@x.fr")])                  # stored; no checkpoint signed
    assert "is not this ledger's" in caplog.text
    assert prover_of(ledger).checkpoints() == []


def unpin(ledger: Ledger) -> None:
    """A ledger initialised before pinning: no pinned key."""
    ledger.store.append(lambda tx: tx.c.execute(tx._sql(
        f"DELETE FROM {tx.t.q('ledger_signing_keys')} WHERE ledger_id=?"), (tx.lkey,)))


def test_a_ledger_without_a_pin_pins_on_its_first_checkpoint(
        ledger: Ledger, cli_env: dict[str, str]) -> None:
    key = str(prover_of(ledger).verifier_key())
    unpin(ledger)
    out = run(cli_env, "checkpoint")
    assert out.returncode == 0 and f"pinned {key}" in out.stderr, out.stderr
    foreign = run({**cli_env, "LEDGER_SIGNING_KEY": FOREIGN_SEED}, "checkpoint")
    assert foreign.returncode == 2 and "is not this ledger's" in foreign.stderr


def test_an_unpinned_ledger_with_checkpoints_refuses_another_key(
        ledger: Ledger, cli_env: dict[str, str]) -> None:
    prover_of(ledger).checkpoint()
    unpin(ledger)
    foreign = run({**cli_env, "LEDGER_SIGNING_KEY": FOREIGN_SEED}, "checkpoint")
    assert foreign.returncode == 2, foreign.stderr
    assert "stored checkpoints were signed with another key" in foreign.stderr
    assert len(prover_of(ledger).checkpoints()) == 1


# -- 8. the key folder's mode ------------------------------------------------------------------
@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("mode", [0o777, 0o755, 0o770, 0o701])
def test_a_key_folder_open_to_others_is_refused(cli_env: dict[str, str], mode: int) -> None:
    folder = Path(cli_env["LEDGER_KEY_DIR"])
    assert run(cli_env, "init").returncode == 0
    folder.chmod(mode)
    for args in (["init"], ["log"], ["checkpoint"]):
        out = run(cli_env, *args)
        assert out.returncode == 2, out.stderr
        assert f"LEDGER_KEY_DIR {folder} has mode {mode:04o}" in out.stderr
        assert "chmod 700" in out.stderr
    folder.chmod(0o700)
    assert run(cli_env, "log").returncode == 0


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_init_refuses_an_open_empty_key_folder(cli_env: dict[str, str]) -> None:
    folder = Path(cli_env["LEDGER_KEY_DIR"])
    folder.mkdir()
    folder.chmod(0o777)
    out = run(cli_env, "init")
    assert out.returncode == 2 and "must be accessible by its owner only" in out.stderr
    assert files(folder) == []
