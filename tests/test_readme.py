"""The README's tours run as written (tests/readme_tours.py says how).

Each tour starts from the state it names, in a folder of its own, and every
command prints what the README shows, up to hashes, ids and times.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.readme_tours import Step, Tour, environment, matches, parse, run

ROOT = Path(__file__).resolve().parent.parent
TOURS = parse((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_has_tours() -> None:
    names = {t.name for t in TOURS}
    assert {"services", "auditors", "dpo"} <= names, names
    assert all(t.steps for t in TOURS)


@pytest.mark.slow
@pytest.mark.parametrize("tour", TOURS, ids=[t.name for t in TOURS])
def test_tour_runs_as_written(tour: Tour, tmp_path: Path) -> None:
    printed = run(tour, tmp_path, environment(ROOT))
    wrong = [_diff(step, got) for step, got in zip(tour.steps, printed, strict=True)
             if not matches(step.expected, got)]
    assert not wrong, "\n\n".join(wrong)


def _diff(step: Step, got: list[str]) -> str:
    return (f"README line {step.line}: $ {step.command}\n--- README shows\n"
            + "\n".join(step.expected) + "\n--- the command printed\n" + "\n".join(got))


@pytest.mark.parametrize(("expected", "got", "ok"), [
    (["OK: 47 entries, head …"], ["OK: 47 entries, head 1f2e"], True),
    (["OK: 47 entries"], ["OK: 48 entries"], False),
    (["a", "…", "z"], ["a", "b", "c", "z"], True),
    (["a", "…"], ["a"], True),
    (["a"], ["a", "b"], False),
    (['{"seq":2,"hash":"0123456789abcdef0123"}'], ['{"seq":2,"hash":"fedcba9876543210fedc"}'],
     True),
    (["at 2026-03-03 10:12 +01:00"], ["at 2027-01-01 00:00 +01:00"], True),
])
def test_comparison(expected: list[str], got: list[str], ok: bool) -> None:
    assert matches(expected, got) is ok


def test_parse_blocks_and_continuations() -> None:
    text = ("<!-- tour: t, from: empty -->\n```console\n$ cat > f <<'EOF'\n> x\n> EOF\n"
            "$ cat f\nx\n```\n```sh\n$ not run\n```\n")
    (tour,) = parse(text)
    assert tour.state == "empty"
    assert [s.command for s in tour.steps] == ["cat > f <<'EOF'\nx\nEOF", "cat f"]
    assert tour.steps[1].expected == ["x"]
