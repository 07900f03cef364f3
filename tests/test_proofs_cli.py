"""The proof commands as an auditor runs them (subprocess), on both databases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.helpers import collect, consent
from tests.test_cli import jsonl, run
from tests.test_tamper import raw_db


def _setup(cli_env: dict[str, str], tmp_path: Path, n: int) -> None:
    assert run(cli_env, "init").returncode == 0
    assert run(cli_env, "policy", "publish", "bundled").returncode == 0
    events = []
    for i in range(n):
        events += [consent(f"c{i}@x.fr"), collect(f"c{i}@x.fr")]
    batch = tmp_path / "batch.jsonl"
    batch.write_text(jsonl(*events))
    assert run(cli_env, "append", str(batch)).returncode == 0


def test_auditor_tour(cli_env: dict[str, str], db_url: str, tmp_path: Path) -> None:
    _setup(cli_env, tmp_path, 10)                                  # 21 entries
    key = run(cli_env, "pubkey").stdout.strip()
    assert key.startswith("ledger.example/main+") and key.count("+") >= 2
    as_json = json.loads(run(cli_env, "pubkey", "--json").stdout)
    assert as_json["key"] == key and key.split("+")[1] == as_json["key_id"]
    cp = run(cli_env, "checkpoint")
    assert cp.returncode == 0 and cp.stdout.startswith("ledger.example/main\n21\n")
    kept = tmp_path / "kept.txt"
    kept.write_text(cp.stdout)
    more = tmp_path / "more.jsonl"
    more.write_text(jsonl(consent("late@x.fr")))
    assert run(cli_env, "append", str(more)).returncode == 0       # 22 entries
    # the extension from the kept checkpoint, full and incremental
    for extra in ([], ["--incremental"]):
        out = run(cli_env, "verify", "--checkpoint", str(kept), "--pubkey", key, "--json",
                  *extra)
        assert out.returncode == 0, out.stdout + out.stderr
        got = json.loads(out.stdout)
        assert (got["old_size"], got["new_size"], got["ok"]) == (21, 22, True)
    # proofs
    inc = json.loads(run(cli_env, "prove", "5", "--json").stdout)
    assert set(inc) == {"seq", "leaf_index", "tree_size", "leaf_hash", "root", "path"}
    assert (inc["seq"], inc["leaf_index"], inc["tree_size"]) == (5, 4, 22)
    con = json.loads(run(cli_env, "prove", "--consistency", "21", "22", "--json").stdout)
    assert set(con) == {"old_size", "new_size", "old_root", "new_root", "path"}
    assert con["old_root"] == json.loads(run(cli_env, "prove", "3", "--size", "21",
                                             "--json").stdout)["root"]
    # a receipt, checked anywhere
    receipt = tmp_path / "r.json"
    assert run(cli_env, "receipt", "22", "-o", str(receipt)).returncode == 0
    ok = run(cli_env, "verify", "--receipt", str(receipt), "--pubkey", key)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: entry 22"), ok.stdout
    # a bundle, checked offline with the key kept in a file
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(key + "\n")
    bundle = tmp_path / "bundle"
    assert run(cli_env, "audit-bundle", "-o", str(bundle)).returncode == 0
    out = run(cli_env, "verify", "--bundle", str(bundle), "--pubkey", str(keyfile), "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["checkpoints_verified"] == [21, 22]
    # offline: no database, no key folder at all
    offline = {k: v for k, v in cli_env.items() if not k.startswith("LEDGER_")}
    offline["LEDGER_DATABASE_URL"] = f"sqlite:///{tmp_path}/nowhere/none.db"
    for args in (["--bundle", str(bundle)], ["--receipt", str(receipt)],
                 ["--bundle", str(bundle), "--checkpoint", str(kept)]):
        out = run(offline, "verify", *args, "--pubkey", key, cwd=tmp_path)
        assert out.returncode == 0, out.stdout + out.stderr
    assert "(yours: 21)" in out.stdout  # the bundle extends the checkpoint kept, offline
    # a bundle cut below the kept checkpoint fails against it, offline
    short = tmp_path / "short"
    shutil.copytree(bundle, short)
    entries = (short / "entries.jsonl").read_text().splitlines()
    (short / "entries.jsonl").write_text("\n".join(entries[:18]) + "\n")
    (short / "checkpoints.txt").write_text("")
    out = run(offline, "verify", "--bundle", str(short), "--checkpoint", str(kept),
              "--pubkey", key, cwd=tmp_path)
    assert out.returncode == 1 and "entries are missing" in out.stdout, out.stdout
    # the ledger is cut back below the kept checkpoint: exit 1 with the reason
    with raw_db(db_url) as (conn, table, q):
        conn.execute(q(f"DELETE FROM {table} WHERE originator_version>?"), (15,))
    assert run(cli_env, "verify").returncode == 0     # the chain alone cannot tell
    cut = run(cli_env, "verify", "--checkpoint", str(kept), "--pubkey", key)
    assert cut.returncode == 1 and "cut back" in cut.stdout
    # the bundle taken before still verifies; the receipt too (they are offline)
    assert run(cli_env, "verify", "--bundle", str(bundle), "--pubkey", key).returncode == 0
    lines = (bundle / "entries.jsonl").read_text().splitlines()
    (bundle / "entries.jsonl").write_text("\n".join(lines[:5] + lines[6:]) + "\n")
    dropped = run(cli_env, "verify", "--bundle", str(bundle), "--pubkey", key)
    assert dropped.returncode == 1 and "missing" in dropped.stdout


def test_bad_arguments_exit_2_naming_them(cli_env: dict[str, str], tmp_path: Path) -> None:
    _setup(cli_env, tmp_path, 2)                                    # 5 entries
    for args, field in ((["prove", "9"], "SEQ"), (["prove", "0"], "SEQ"),
                        (["prove", "3", "--size", "2"], "SEQ"),
                        (["prove", "3", "--size", "6"], "--size"),
                        (["prove", "--consistency", "4", "3"], "OLD"),
                        (["prove", "--consistency", "1", "6"], "NEW"),
                        (["prove"], "SEQ"),
                        (["audit-bundle", "-o", str(tmp_path / "b"), "--from-seq", "7"],
                         "--from-seq"),
                        (["receipt", "6", "-o", str(tmp_path / "r.json")], "SEQ"),
                        (["checkpoint", "--every", "-1"], "--every")):
        out = run(cli_env, *args)
        assert out.returncode == 2, (args, out.stderr)
        assert f"{field}: " in out.stderr, (args, out.stderr)
    bad = run(cli_env, "prove", "x")
    assert bad.returncode == 2 and "whole number" in bad.stderr
    for args, field in ((["verify", "--pubkey", "k"], "--pubkey"),
                        (["verify", "--incremental"], "--incremental"),
                        (["verify", "--bundle", str(tmp_path), "--receipt", "r"],
                         "--receipt"),
                        (["verify", "--checkpoint", "k", "--receipt", "r"], "--receipt"),
                        (["verify", "--bundle", str(tmp_path), "--checkpoint",
                          str(tmp_path / "none.txt")], "--checkpoint"),
                        (["verify", "--bundle", str(tmp_path), "--checkpoint",
                          str(tmp_path / "batch.jsonl"), "--incremental"], "--incremental"),
                        (["verify", "--bundle", str(tmp_path), "--checkpoint",
                          str(tmp_path / "batch.jsonl")], "--checkpoint")):
        out = run(cli_env, *args)
        assert out.returncode == 2 and f"{field}: " in out.stderr, (args, out.stderr)


def test_checkpoint_every_from_the_cli(cli_env: dict[str, str], tmp_path: Path) -> None:
    _setup(cli_env, tmp_path, 1)                                    # 3 entries
    assert run(cli_env, "checkpoint", "--every", "4").returncode == 0
    batch = tmp_path / "b2.jsonl"
    batch.write_text(jsonl(consent("z@x.fr"), collect("z@x.fr")))
    assert run(cli_env, "append", str(batch)).returncode == 0      # 5: crosses 4
    listed = run(cli_env, "checkpoint", "--list", "--json").stdout.splitlines()
    assert [json.loads(x)["tree_size"] for x in listed] == [3, 5]


def test_proofs_of_an_empty_ledger_name_the_argument_given(cli_env: dict[str, str]) -> None:
    assert run(cli_env, "init").returncode == 0
    out = run(cli_env, "prove", "1")
    assert out.returncode == 2
    assert "SEQ: must be between 1 and the ledger's size (0)" in out.stderr
