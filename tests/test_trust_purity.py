"""ledger.trust stays pure: what an auditor runs offline needs the standard library,
``cryptography`` and ``ledger.errors``, and nothing that reaches a database, a network,
a process, the other layers or the clock (docs/DECISIONS.md, "The house").

import-linter (scripts/test) checks the import graph between packages; these tests
check the rest: every import of every trust module against an allow-list, what an
import really loads, and that no trust module reads the clock.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

TRUST = Path(__file__).resolve().parents[1] / "src" / "ledger" / "trust"

# Standard modules that reach outside the process, start processes or threads, or load
# code by name: none belongs in an offline verifier.
FORBIDDEN_STDLIB = frozenset({
    "asyncio", "concurrent", "ctypes", "dbm", "ftplib", "http", "imaplib", "importlib",
    "multiprocessing", "os", "poplib", "selectors", "shelve", "signal", "smtplib", "socket",
    "socketserver", "sqlite3", "ssl", "subprocess", "sys", "telnetlib", "threading", "time",
    "urllib", "webbrowser", "xmlrpc", "zoneinfo",
})
ALLOWED_STDLIB = frozenset(sys.stdlib_module_names) - FORBIDDEN_STDLIB
ALLOWED_THIRD_PARTY = frozenset({"cryptography"})

# What importing every trust module must not load (prefixes of sys.modules names).
NEVER_LOADED = ("sqlite3", "psycopg", "psycopg_pool", "sqlalchemy", "eventsourcing",
                "fastapi", "starlette", "uvicorn", "multiprocessing", "concurrent",
                "subprocess", "projections", "ledger.storage", "ledger.app", "ledger.cli",
                "ledger.http", "ledger.keys", "ledger.domain")

CLOCK_ATTRIBUTES = frozenset({"now", "utcnow", "today", "time", "time_ns", "monotonic",
                              "perf_counter", "localtime", "gmtime"})


def trust_modules() -> list[tuple[str, Path]]:
    found = sorted(TRUST.glob("*.py"))
    return [("ledger.trust" if p.stem == "__init__" else f"ledger.trust.{p.stem}", p)
            for p in found]


def imported_names(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, anywhere in it (functions, TYPE_CHECKING blocks…):
    ``(line, absolute dotted name)``; ``from x import y`` gives ``x.y`` as well as ``x``
    (``y`` may be a module)."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside ledger.trust (one level) or above it
                base = ".".join(["ledger", "trust"][:3 - node.level]) if node.level <= 2 \
                    else ""
                module = ".".join(p for p in (base, node.module or "") if p)
            else:
                module = node.module or ""
            out.append((node.lineno, module))
            out += [(node.lineno, f"{module}.{alias.name}") for alias in node.names
                    if module.startswith("ledger")]
    return out


def allowed(name: str) -> bool:
    top = name.split(".", maxsplit=1)[0]
    if top == "ledger":
        return name in ("ledger", "ledger.trust", "ledger.errors") or \
            name.startswith(("ledger.trust.", "ledger.errors."))
    return top in ALLOWED_STDLIB or top in ALLOWED_THIRD_PARTY


def test_the_scan_sees_every_trust_module_and_its_imports() -> None:
    # the tests below would pass on nothing: make sure they look at the real package
    names = {name for name, _ in trust_modules()}
    assert {"ledger.trust.verify", "ledger.trust.bundle_check", "ledger.trust.merkle",
            "ledger.trust.extension", "ledger.trust.receipt_check"} <= names
    imports = {n for _, p in trust_modules() for _, n in imported_names(p)}
    assert {"hashlib", "json", "ledger.errors", "ledger.trust.chain", "cryptography.exceptions"
            } <= imports


@pytest.mark.parametrize(("module", "path"),
                         [pytest.param(m, p, id=m) for m, p in trust_modules()])
def test_a_trust_module_imports_only_the_standard_library_cryptography_and_errors(
        module: str, path: Path) -> None:
    bad = [f"{path.name}:{line}: {name}" for line, name in imported_names(path)
           if not allowed(name)]
    assert not bad, f"{module} imports what a pure verifier must not: {bad}"


def test_the_allow_list_refuses_what_it_should() -> None:
    for name in ("sqlite3", "socket", "subprocess", "multiprocessing", "urllib.request",
                 "http.client", "asyncio", "concurrent.futures", "time", "os", "sqlalchemy",
                 "eventsourcing.persistence", "psycopg", "fastapi", "ledger.app.checking",
                 "ledger.cli.format", "ledger.storage", "ledger.domain.events", "ledger.keys",
                 "ledger.http", "projections"):
        assert not allowed(name), name
    for name in ("json", "hashlib", "datetime", "cryptography.exceptions", "ledger.errors",
                 "ledger.trust.merkle", "__future__"):
        assert allowed(name), name


def test_importing_every_trust_module_loads_no_database_framework_or_other_layer() -> None:
    modules = [name for name, _ in trust_modules()]
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    loaded = json.loads(out.stdout)
    assert set(modules) <= set(loaded)  # it did import them all
    bad = [m for m in loaded if any(m == p or m.startswith(p + ".") for p in NEVER_LOADED)]
    assert not bad, f"importing ledger.trust loaded {bad}"


def clock_reads(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [f"{path.name}:{node.lineno}: .{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in CLOCK_ATTRIBUTES]


@pytest.mark.parametrize(("module", "path"),
                         [pytest.param(m, p, id=m) for m, p in trust_modules()])
def test_a_trust_module_reads_no_clock(module: str, path: Path) -> None:
    # `from datetime import datetime` is allowed (parsing times); calling .now() is not
    assert not clock_reads(path), f"{module} reads the clock: {clock_reads(path)}"


def test_the_clock_scan_sees_a_clock_read(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import datetime as d\nx = d.datetime.now(d.UTC)\n"
                      "y = d.datetime.utcnow()\n", encoding="utf-8")
    assert len(clock_reads(sample)) == 2
