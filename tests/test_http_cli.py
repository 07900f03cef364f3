"""``ledger token create|list|revoke`` and ``ledger serve --help`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

from ledger.app.application import Ledger
from ledger.app.tokens import Tokens, hash_token


def run(cli_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], env=cli_env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_token_commands(cli_env: dict[str, str], ledger: Ledger) -> None:
    made = run(cli_env, "token", "create", "--role", "service", "--name", "crm")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("ldg_") and len(token) == 47 and "\n" not in token
    assert "shown only now" in made.stderr and token not in made.stderr
    principal = Tokens(ledger.store).authenticate(token)
    assert principal is not None and (principal.name, principal.role) == ("crm", "service")

    again = run(cli_env, "token", "create", "--role", "dpo", "--name", "crm")
    assert again.returncode == 2 and "already has a live token" in again.stderr
    bad = run(cli_env, "token", "create", "--role", "root", "--name", "x")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    bad = run(cli_env, "token", "create", "--role", "dpo", "--name", "Bad Name")
    assert bad.returncode == 2 and "name:" in bad.stderr

    listed = run(cli_env, "token", "list", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["name"], r["role"], r["revoked"]) for r in rows] == [("crm", "service", False)]
    human = run(cli_env, "token", "list")
    for out in (listed.stdout, human.stdout):
        assert token not in out and hash_token(token) not in out

    revoked = run(cli_env, "token", "revoke", "crm")
    assert revoked.returncode == 0
    assert Tokens(ledger.store).authenticate(token) is None
    twice = run(cli_env, "token", "revoke", "crm")
    assert twice.returncode == 2 and "no live token" in twice.stderr
    rows = [json.loads(x) for x in run(cli_env, "token", "list", "--json").stdout.splitlines()]
    assert rows[0]["revoked"] is True and rows[0]["revoked_at"]


def test_token_commands_need_an_initialised_ledger(cli_env: dict[str, str],
                                                   db_url: str) -> None:
    out = run(cli_env, "token", "list")
    assert out.returncode == 2 and "ledger init" in out.stderr


def test_token_table_added_by_init_to_an_older_database(cli_env: dict[str, str],
                                                        ledger: Ledger) -> None:
    ledger.store.append(lambda tx: tx.c.execute(f"DROP TABLE {tx.t.tokens}"))
    out = run(cli_env, "token", "list")
    assert out.returncode == 2 and "run `ledger init`" in out.stderr
    assert run(cli_env, "init").returncode == 0
    assert run(cli_env, "token", "list").returncode == 0


def test_serve_help_and_bad_port(cli_env: dict[str, str]) -> None:
    helped = run(cli_env, "serve", "--help")
    assert helped.returncode == 0 and "--port" in helped.stdout and "--host" in helped.stdout
    bad = run(cli_env, "serve", "--port", "99999")
    assert bad.returncode == 2 and "port" in bad.stderr
    assert "serve" in run(cli_env, "--help").stdout
