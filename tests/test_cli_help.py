"""Help and human output of the core commands (issue 13 item 10): every option has a help
line, every command an example, seq options are named as seqs, tables have headers and
fit 100 columns, plural forms are right."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.cli.format import WIDTH, Column, Table, plural, short_time, shorten
from ledger.cli.main import DeprecatedAlias, build_parser
from tests.helpers import collect, consent

# Options and positionals of the plugin commands (projections/cli.py, registered through
# the ``ledger.commands`` entry point) that have no help line, as "command[ subcommand]
# option", and plugin commands whose --help has no example: none any more (keep it so).
PLUGIN_OPTIONS_WITHOUT_HELP: set[str] = set()
PLUGIN_COMMANDS_WITHOUT_EXAMPLES: set[str] = set()


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:  # type: ignore[type-arg]
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)),
                None)


def _commands(parser: argparse.ArgumentParser, path: str = "") \
        -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every command and sub-command parser, named ``command[ action]``."""
    sub = _subparsers(parser)
    if sub is None:
        return
    for name, child in sub.choices.items():
        full = f"{path} {name}".strip()
        yield full, child
        yield from _commands(child, full)


def _name(action: argparse.Action) -> str:
    return "/".join(action.option_strings) or str(action.metavar or action.dest)


def _without_help(parser: argparse.ArgumentParser, path: str) -> Iterator[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:  # the lines of the command list
                if not choice.help:
                    yield f"{path} {choice.dest}".strip() + " (command)"
            continue
        if action.help == argparse.SUPPRESS:
            if not isinstance(action, DeprecatedAlias):  # hidden only if deprecated
                yield f"{path} {_name(action)}".strip() + " (hidden)"
            continue
        if not (action.help or "").strip():
            yield f"{path} {_name(action)}".strip()


def _core_commands() -> set[str]:
    return {name for name, _ in _commands(build_parser(["verify"]))}


def test_every_option_of_every_command_has_a_help_line() -> None:
    parser = build_parser(None)  # with the plugin commands of the entry points
    missing = set(_without_help(parser, ""))
    for name, child in _commands(parser):
        missing |= set(_without_help(child, name))
    core = _core_commands()
    assert {"log", "erase", "prove", "checkpoint", "token list", "policy show"} <= core
    assert not {m for m in missing if m.split(" ")[0] in {c.split(" ")[0] for c in core}}, \
        "core options without help"
    assert missing <= PLUGIN_OPTIONS_WITHOUT_HELP, "plugin options without help"
    stale = PLUGIN_OPTIONS_WITHOUT_HELP - missing
    assert not stale, f"these have a help line now: remove them from the exceptions: {stale}"
    assert not {e.split(" ")[0] for e in PLUGIN_OPTIONS_WITHOUT_HELP} & core
    assert not missing, f"options without help: {missing}"


def test_the_walk_finds_an_option_without_help() -> None:
    parser = argparse.ArgumentParser(prog="x")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--old", help=argparse.SUPPRESS)
    parser.add_argument("--from", dest="start", action=DeprecatedAlias, new="--from-seq")
    assert set(_without_help(parser, "cmd")) == {"cmd --json", "cmd --old (hidden)"}


def _examples(help_text: str) -> list[str]:
    """The example lines that end a --help text (none if it does not end with them)."""
    lines = help_text.rstrip("\n").splitlines()
    if "examples:" not in lines:
        return []
    at = len(lines) - 1 - lines[::-1].index("examples:")
    return [line for line in lines[at + 1:] if line.strip()]


def test_every_command_help_ends_with_examples() -> None:
    parser = build_parser(None)
    assert _examples(parser.format_help())
    core = _core_commands()
    lacking = set()
    for name, child in _commands(parser):
        examples = _examples(child.format_help())
        if not examples:
            lacking.add(name)
            continue
        assert all(e.startswith("  ledger ") or "LEDGER_" in e for e in examples), name
    assert not lacking & core, "core commands without an example"
    assert lacking <= PLUGIN_COMMANDS_WITHOUT_EXAMPLES
    assert not PLUGIN_COMMANDS_WITHOUT_EXAMPLES - lacking, "remove from the exceptions"
    assert not lacking, f"commands without an example: {lacking}"


def _example_argvs(line: str) -> Iterator[list[str]]:
    """The ``ledger`` command lines of an example, without comments, pipes, redirections
    and environment assignments."""
    import re
    import shlex

    for part in re.split(r"\|\||&&|\|", line.split(" #", maxsplit=1)[0]):
        words = [w for w in shlex.split(part) if not re.match(r"[A-Z_]+=", w)]
        if words[:1] != ["ledger"]:
            continue
        argv = []
        skip = False
        for w in words[1:]:
            if skip or w in ("<", ">"):
                skip = w in ("<", ">")
                continue
            argv.append(w)
        yield argv


def test_every_example_parses() -> None:
    core = _core_commands()
    parser = build_parser(None)
    checked = 0
    for _, child in [("", parser), *_commands(parser)]:
        for line in _examples(child.format_help()):
            for argv in _example_argvs(line):
                if "--help" in argv:
                    continue
                args = parser.parse_args(argv)  # SystemExit (exit 2) if it does not parse
                assert callable(args.fn), line
                checked += 1
    assert checked >= len(list(_commands(parser))) > len(core)


def test_help_as_the_user_sees_it() -> None:
    out = subprocess.run([sys.executable, "-m", "ledger.cli", "erase", "--help"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0
    assert out.stdout.rstrip().splitlines()[-1].startswith("  ledger erase ")
    for option in ("--yes", "--dry-run", "--request-id REF", "--actor ACTOR", "SUBJECT"):
        assert option in out.stdout
    log = subprocess.run([sys.executable, "-m", "ledger.cli", "log", "--help"],
                         capture_output=True, text=True, check=False).stdout
    assert "--from-seq SEQ" in log and "--from " not in log  # the old name is hidden


# -- log --from-seq (seq) versus replay --from (time) ----------------------------------------
def run(cli_env: dict[str, str], *args: str, stdin: str | None = None) \
        -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], env=cli_env,
                          input=stdin, capture_output=True, text=True, timeout=120,
                          check=False)


def jsonl(*events: object) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def _seqs(out: str) -> list[int]:
    return [json.loads(line)["seq"] for line in out.splitlines()]


def test_log_from_seq_and_the_deprecated_from(cli_env: dict[str, str],
                                              tmp_path: Path) -> None:
    assert run(cli_env, "init").returncode == 0
    assert run(cli_env, "policy", "publish", "bundled").returncode == 0
    events = jsonl(consent("a@x.fr", evidence="e"), collect("a@x.fr"), collect("b@x.fr",
                   purpose="contact_requests"))
    assert run(cli_env, "append", stdin=events).returncode == 0
    new = run(cli_env, "log", "--from-seq", "3", "--json")
    assert new.returncode == 0, new.stderr
    assert _seqs(new.stdout) == [3, 4] and new.stderr == ""
    old = run(cli_env, "log", "--from", "3", "--json")
    # [3, 4] and, since, the two reads the first log recorded (PersonalDataAccessed)
    assert old.returncode == 0 and _seqs(old.stdout) == [3, 4, 5, 6]
    assert "deprecated" in old.stderr and "--from-seq" in old.stderr
    bad = run(cli_env, "log", "--from-seq", "2024-05-01")  # a time is not a seq
    assert bad.returncode == 2 and "--from-seq" in bad.stderr
    bundle = run(cli_env, "audit-bundle", "-o", str(tmp_path / "b"), "--from-seq", "3",
                 "--json")
    assert bundle.returncode == 0, bundle.stderr
    assert json.loads(bundle.stdout)["first_seq"] == 3
    old_bundle = run(cli_env, "audit-bundle", "-o", str(tmp_path / "c"), "--from", "2")
    assert old_bundle.returncode == 0 and "--from-seq" in old_bundle.stderr


# -- tables and plural forms -------------------------------------------------------------------
def test_table_shortens_cells_and_fits_the_width() -> None:
    table = Table([Column("SEQ", 5, right=True), Column("NAME", 10), Column("REST")])
    assert table.header() == "  SEQ  NAME        REST"
    row = table.row([7, "x" * 30, "y" * 200])
    assert len(row) == WIDTH and row.endswith("y…")
    assert row.startswith("    7  xxxxxxxxx…  ")
    assert table.lines([]) == [table.header(), "(none)"]
    assert shorten("abc", 3) == "abc" and shorten("abcd", 3) == "ab…"
    assert short_time("2024-06-01T12:00:00.123456Z") == "2024-06-01T12:00:00Z"
    assert short_time(None) == "-"


def test_plural() -> None:
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(2, "entry", "entries") == "2 entries"
    assert plural(0, "event") == "0 events"
    assert plural(1, "event") == "1 event"
    assert plural(12_000, "key") == "12,000 keys"


def test_no_undecided_plural_in_core_output() -> None:
    import ledger.cli.main

    src = Path(ledger.cli.main.__file__).parent
    names = sorted(p.name for p in src.glob("*.py"))
    assert {"main.py", "reading.py", "writing.py", "proofs.py", "serve.py"} <= set(names)
    for name in names:
        assert "(s)" not in (src / name).read_text(encoding="utf-8"), name


def _fits(text: str) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not too_wide


def test_log_is_a_table_that_fits_100_columns(cli_env: dict[str, str]) -> None:
    run(cli_env, "init")
    run(cli_env, "policy", "publish", "bundled")
    long_evidence = "form v4.2 " + "z" * 300
    one = run(cli_env, "append", "--actor", "crm:" + "very-long-actor-" * 6,
              stdin=jsonl(consent("a@x.fr", evidence=long_evidence)))
    assert one.returncode == 0
    human = run(cli_env, "log")
    assert human.returncode == 0
    lines = human.stdout.splitlines()
    assert lines[0].split() == ["SEQ", "OCCURRED", "TYPE", "SUBJECT", "ACTOR"]
    _fits(human.stdout)
    assert "ConsentGiven" in lines[3] and lines[3].endswith("…")  # the long actor, cut
    assert lines[4].endswith("…") and long_evidence not in human.stdout
    whole = [json.loads(line) for line in run(cli_env, "log", "--json").stdout.splitlines()]
    assert whole[1]["data"]["evidence"] == long_evidence
    assert whole[1]["actor"].endswith("very-long-actor-")
    full = run(cli_env, "log", "--full").stdout
    assert long_evidence in " ".join(full.split())  # whole: wrapped, not cut
    assert f"hash {whole[1]['hash']}" in full
    nothing = run(cli_env, "log", "--subject", "nobody@x.fr")
    assert nothing.returncode == 0 and nothing.stdout == ""
    assert "no entry" in nothing.stderr


def test_checkpoint_and_token_tables(cli_env: dict[str, str]) -> None:
    run(cli_env, "init")
    run(cli_env, "policy", "publish", "bundled")
    assert run(cli_env, "checkpoint").returncode == 0
    listed = run(cli_env, "checkpoint", "--list")
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["TREE", "SIZE", "ROOT"]
    _fits(listed.stdout)
    cp = json.loads(run(cli_env, "checkpoint", "--list", "--json").stdout.splitlines()[0])
    assert cp["root"] in lines[1]  # the root whole: an auditor compares it
    name = "svc." + "n" * 60  # 64 characters, the longest name a token may have
    assert run(cli_env, "token", "create", "--role", "service", "--name", name).returncode == 0
    tokens = run(cli_env, "token", "list")
    assert tokens.stdout.splitlines()[0].split()[:2] == ["NAME", "ROLE"]
    _fits(tokens.stdout)
    assert name not in tokens.stdout and name[:39] + "…" in tokens.stdout
    assert json.loads(run(cli_env, "token", "list", "--json").stdout)["name"] == name


def test_policy_show_tables(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "ledger.cli", "policy", "show"],
                         capture_output=True, text=True, check=False, cwd=tmp_path).stdout
    _fits(out)
    for header in ("PURPOSE", "CATEGORY", "RECIPIENT"):
        assert any(line.split()[:1] == [header] for line in out.splitlines()), header
    assert "within 1 month," in out and "month(s)" not in out
    whole = json.loads(subprocess.run(
        [sys.executable, "-m", "ledger.cli", "policy", "show", "--json"],
        capture_output=True, text=True, check=False, cwd=tmp_path).stdout)
    browsing = next(c for c in whole["categories"] if c["id"] == "connection_browsing")
    assert ", ".join(browsing["fields"]) not in out  # shortened in the table…
    assert len(browsing["fields"]) > 6  # …and whole in the JSON


def test_plural_forms_of_core_output(cli_env: dict[str, str], tmp_path: Path) -> None:
    run(cli_env, "init")
    run(cli_env, "policy", "publish", "bundled")
    verify = run(cli_env, "verify")
    assert verify.stdout.startswith("OK: 1 entry, head "), verify.stdout
    kept = tmp_path / "kept.txt"
    kept.write_text(run(cli_env, "checkpoint").stdout, encoding="utf-8")
    extends = run(cli_env, "verify", "--checkpoint", str(kept))
    assert extends.returncode == 0, extends.stderr
    assert "(1 entry, root" in extends.stdout and "checkpoint of 1 entry " in extends.stdout
    proof = run(cli_env, "prove", "1")
    assert "in the tree of 1 entry" in proof.stdout
    bundle = run(cli_env, "audit-bundle", "-o", str(tmp_path / "b"))
    assert "1 checkpoint;" in bundle.stdout, bundle.stdout
    # a receipt is of an event about a person (seq 2): the tree then holds 2 entries
    run(cli_env, "append", stdin=jsonl(consent("a@x.fr")))
    receipt = run(cli_env, "receipt", "2", "-o", str(tmp_path / "r.json"))
    assert receipt.stdout.rstrip().endswith("checkpoint of 2 entries"), receipt.stdout


@pytest.mark.parametrize("n", [1, 2])
def test_append_and_erase_counts(cli_env: dict[str, str], n: int) -> None:
    run(cli_env, "init")
    run(cli_env, "policy", "publish", "bundled")
    events = [consent("a@x.fr", evidence="e")] + [collect("a@x.fr")] * n
    out = run(cli_env, "append", stdin=jsonl(*events))
    assert f"ledger: {n + 1} stored, 0 already present" in out.stderr
    erased = run(cli_env, "erase", "a@x.fr", "--yes")
    assert erased.returncode == 0, erased.stderr
    # two keys (the subject's fields, the category); the consent and the collections
    assert f"2 data keys destroyed, {plural(n + 1, 'entry', 'entries')} now read" \
        in erased.stderr
