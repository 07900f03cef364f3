"""The shape of the code (issue 15, docs/DESIGN.md "Layout"): no module of src/ledger or
projections over 400 lines, no function or method over 60 lines unless the line just above
its ``def`` (or its decorators) is a comment ``# long: <reason>``.

The scan reads the source files with :mod:`ast`; it imports nothing.  Each test names
every offender (path:line name length), so a failure says what to split.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = (ROOT / "src" / "ledger", ROOT / "projections")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
LONG_REASON = re.compile(r"#\s*long:\s*\S")


def python_files() -> list[Path]:
    return sorted(p for folder in SCANNED for p in folder.rglob("*.py"))


@dataclass(frozen=True)
class Function:
    path: Path
    line: int      # of the first decorator, or of the `def`
    name: str
    length: int    # lines from the `def` (or first decorator) to the last line of the body
    excused: bool  # the line above is a `# long: reason` comment

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} {self.name} ({self.length} lines)"


def functions(path: Path, source: str) -> list[Function]:
    lines = source.splitlines()
    found: list[Function] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                end = child.end_lineno or child.lineno
                above = lines[first - 2].strip() if first >= 2 else ""
                found.append(Function(path, first, prefix + child.name, end - first + 1,
                                      bool(LONG_REASON.match(above))))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source, filename=str(path)), "")
    return found


def module_lines(source: str) -> int:
    return len(source.splitlines())


# -- the scanner itself is checked on small sources, so that a pass means something ---------
def test_the_scanner_measures_functions_from_decorator_to_last_line() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(60))
    source = f"import functools\n\n\n@functools.cache\ndef f() -> None:\n{body}\n"
    (fn,) = functions(ROOT / "x.py", source)
    assert (fn.name, fn.line, fn.length, fn.excused) == ("f", 4, 62, False)


def test_the_scanner_finds_methods_and_nested_functions_and_the_long_comment() -> None:
    body = "\n".join(f"            y{i} = {i}" for i in range(3))
    source = ("class C:\n    # long: a table read best whole\n    def m(self) -> None:\n"
              f"        def inner() -> None:\n{body}\n")
    found = {f.name: f for f in functions(ROOT / "x.py", source)}
    assert set(found) == {"C.m", "C.m.inner"}
    assert found["C.m"].excused and not found["C.m.inner"].excused
    assert found["C.m"].length == 5 and found["C.m.inner"].length == 4


def test_a_long_comment_without_a_reason_excuses_nothing() -> None:
    source = "# long:\ndef f() -> None:\n    pass\n"
    (fn,) = functions(ROOT / "x.py", source)
    assert not fn.excused


def test_the_scan_covers_the_packages() -> None:
    files = {p.relative_to(ROOT).as_posix() for p in python_files()}
    assert "src/ledger/cli/main.py" in files
    assert "src/ledger/domain/policy.py" in files
    assert any(f.startswith("projections/") for f in files)


# -- the rules -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", python_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_over_400_lines(path: Path) -> None:
    n = module_lines(path.read_text(encoding="utf-8"))
    assert n <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)} has {n} lines: split it by " \
        "what its parts are"


@pytest.mark.parametrize("path", python_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_function_over_60_lines_without_a_reason(path: Path) -> None:
    long = [f for f in functions(path, path.read_text(encoding="utf-8"))
            if f.length > MAX_FUNCTION_LINES and not f.excused]
    assert not long, "functions over 60 lines (split them, or put `# long: <reason>` just " \
        "above the def): " + "; ".join(map(str, long))


# -- the faces (cli/, http/) parse, call one use case, present: no store, no SQL, no event --
FACES = (ROOT / "src" / "ledger" / "cli", ROOT / "src" / "ledger" / "http")
FACE_REACHES = re.compile(
    r"\.store\b|\bopen_store\b|\bopen_checked_store\b|\bledger\.storage\b|\btx\.|"
    r"\b(?:SELECT|INSERT|UPDATE|DELETE)\s|[\"']type[\"']\s*:\s*[\"'][A-Z][A-Za-z]+[\"']")


def face_reaches(source: str) -> list[str]:
    """The lines of a face's source that reach past the application (comments ignored)."""
    return [f"{n}: {line.strip()}" for n, line in enumerate(source.splitlines(), start=1)
            if FACE_REACHES.search(line.split("#", 1)[0])]


def test_the_face_scan_finds_each_kind_of_reach() -> None:
    reaches = [
        "cp = ctx.ledger.store.read(latest_checkpoint)",
        "store, _ = open_checked_store(url, name)",
        "from ledger.storage.tree_store import latest_checkpoint",
        "tx.c.execute(sql)",
        'sql = "SELECT seq FROM events"',
        'raw = {"type": "SubjectErased", "subject": ref}',
    ]
    for line in reaches:
        assert face_reaches(line), line
    assert not face_reaches("with open_ledger(args) as ledger:  # ledger.store is not read")
    assert not face_reaches('sp.add_argument("--type", action="append")')


@pytest.mark.parametrize("path", sorted(p for f in FACES for p in f.rglob("*.py")),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_faces_do_not_reach_the_store_or_build_events(path: Path) -> None:
    found = face_reaches(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)}: give this a use case in ledger.app: " + \
        "; ".join(found)
