"""The ``ledger`` command as a user runs it: output, exit codes, error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import collect, consent


def run(cli_env: dict[str, str], *args: str, stdin: str | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], env=cli_env,
                          input=stdin, capture_output=True, text=True, timeout=120,
                          check=False, cwd=cwd)


def jsonl(*events: object) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def test_cli_round_trip(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert run(cli_env, "init").returncode == 0
    again = run(cli_env, "init")
    assert again.returncode == 0 and "already initialised" in again.stdout
    assert run(cli_env, "policy", "publish", "bundled").returncode == 0
    batch = tmp_path / "batch.jsonl"
    batch.write_text(jsonl(consent("a@x.fr", evidence="form-1"), collect("a@x.fr")) + "\n")
    out = run(cli_env, "append", str(batch))
    assert out.returncode == 0, out.stderr
    receipts = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["seq"] for r in receipts] == [2, 3]
    assert set(receipts[0]) == {"seq", "event_id", "hash"}
    # the same file again: idempotent only with event ids; here new ids are drawn
    shown = run(cli_env, "show", "3", "--json")
    entry = json.loads(shown.stdout)
    assert entry["data"]["values"]["email"] == "a@x.fr"
    assert entry["actor"] == "test"
    log = run(cli_env, "log", "--subject", "a@x.fr", "--json")
    logged = [json.loads(line) for line in log.stdout.splitlines()]
    # 4: the show above, recorded (PersonalDataAccessed, docs/DECISIONS.md)
    assert [(e["seq"], e["type"]) for e in logged] == [
        (2, "ConsentGiven"), (3, "DataCollected"), (4, "PersonalDataAccessed")]
    human = run(cli_env, "log")
    row = next(line for line in human.stdout.splitlines() if line.split()[:1] == ["3"])
    assert "DataCollected" in row
    verify = run(cli_env, "verify", "--json")
    assert verify.returncode == 0
    verified = json.loads(verify.stdout)
    assert verified["ok"] is True and verified["entries"] == 6  # + the two logs' records
    erased = run(cli_env, "erase", "a@x.fr", "--ground", "consent_withdrawn", "--yes")
    assert erased.returncode == 0, erased.stderr
    after = json.loads(run(cli_env, "show", "3", "--json").stdout)
    assert after["data"]["values"]["email"] == "[erased]"
    assert run(cli_env, "verify").returncode == 0


def test_an_auditor_verifies_without_the_master_key(cli_env: dict[str, str]) -> None:
    assert run(cli_env, "init").returncode == 0
    assert run(cli_env, "policy", "publish", "bundled").returncode == 0
    assert run(cli_env, "append", stdin=jsonl(consent("a@x.fr", evidence="e"))).returncode == 0
    auditor = {**cli_env, "LEDGER_KEY_DIR": cli_env["LEDGER_KEY_DIR"] + "-not-there"}
    verify = run(auditor, "verify", "--json")
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["entries"] == 2
    shown = run(auditor, "show", "2")   # reading personal data does need it
    assert shown.returncode == 2 and "no master key" in shown.stderr


def test_cli_errors_name_line_field_and_rule(cli_env: dict[str, str]) -> None:
    run(cli_env, "init")
    run(cli_env, "policy", "publish", "bundled")
    text = jsonl(consent("a@x.fr")) + "\n" + "{not json\n"
    bad_json = run(cli_env, "append", stdin=text)
    assert bad_json.returncode == 2
    assert "line 3" in bad_json.stderr and "not valid JSON" in bad_json.stderr
    rule = run(cli_env, "append", stdin=jsonl(consent("a@x.fr"), collect("b@x.fr")))
    assert rule.returncode == 2
    assert "line 2: data.purpose:" in rule.stderr and "consent" in rule.stderr
    assert "b@x.fr" not in rule.stderr
    assert json.loads(run(cli_env, "verify", "--json").stdout)["entries"] == 1
    assert run(cli_env, "show", "99").returncode == 2
    assert run(cli_env, "append", "/no/such/file").returncode == 2
    assert run(cli_env, "frobnicate").returncode == 2


def test_cli_without_init_says_what_to_do(cli_env: dict[str, str]) -> None:
    out = run(cli_env, "verify")
    assert out.returncode == 2
    assert "ledger init" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("command", ["init", "append", "verify", "show", "log", "erase",
                                     "policy"])
def test_help(command: str) -> None:
    out = subprocess.run([sys.executable, "-m", "ledger.cli", command, "--help"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0 and "usage: ledger" in out.stdout


def test_policy_show_needs_no_database(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "ledger.cli", "policy", "show"],
                         capture_output=True, text=True, check=False, cwd=tmp_path)
    assert out.returncode == 0
    assert "P13M" in out.stdout and "72 h" in out.stdout
    assert not list(tmp_path.iterdir())


def test_db_option_before_or_after_the_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    for i, args in enumerate([["--db", "sqlite:///a.db", "init"], ["init", "--db", "sqlite:///b.db"]]):
        out = subprocess.run([sys.executable, "-m", "ledger.cli", *args], env=env, cwd=tmp_path,
                             capture_output=True, text=True, check=False)
        assert out.returncode == 0, out.stderr
        assert (tmp_path / ("a.db" if i == 0 else "b.db")).exists()
    assert not (tmp_path / "ledger.db").exists()


def test_plugin_commands_are_loaded_only_when_needed() -> None:
    from ledger.cli.main import _command_word, build_parser

    assert _command_word(["--db", "sqlite:///x.db", "--ledger", "verify", "prove", "3"]) \
        == "prove"
    assert _command_word(["--db=sqlite:///x.db", "verify"]) == "verify"
    assert _command_word(["--help"]) is None

    def commands(argv: list[str] | None) -> set[str]:
        parser = build_parser(argv)
        sub = next(a for a in parser._actions if a.dest == "command")
        return set(sub.choices)  # type: ignore[arg-type]

    core = commands(["verify"])
    assert {"verify", "prove", "serve"} <= core and "consent" not in core
    assert "consent" in commands(["consent", "someone"])
    assert "consent" in commands(["--help"]) and "consent" in commands(None)
