"""The read commands' modules (projections/cli*.py) import nothing heavy: ``ledger --help``
loads them through the ``ledger.commands`` entry point, and SQLAlchemy, the projections'
queries and the HTTP stack wait until a command runs (the docstring of projections/cli.py)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "fastapi", "projections.queries", "projections.mechanism",
         "projections.portability")


def loaded_after_import(module: str) -> list[str]:
    code = (f"import json, sys; import {module}; "
            f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return list(json.loads(out.stdout))


def test_the_check_sees_a_heavy_import() -> None:
    assert "sqlalchemy" in loaded_after_import("projections.mechanism")


def test_registering_the_read_commands_imports_nothing_heavy() -> None:
    assert loaded_after_import("projections.cli") == []
