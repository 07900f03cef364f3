"""Run the README's tours as written and compare what they print.

A tour starts at a marker line ``<!-- tour: NAME, from: STATE -->`` and takes
every ```` ```console ```` block up to the next marker.  In a block, a line
``$ COMMAND`` is typed, ``> MORE`` continues it (a here-document, a long
command), and every other line is what the commands print.

STATE is the state the tour names as its start:

* ``empty``: an empty folder, ``LEDGER_DATABASE_URL=sqlite:///ledger.db``;
* ``demo``: the folder after ``scripts/demo`` (``demo/ledger.db``, built by the
  same commands), ``LEDGER_DATABASE_URL=sqlite:///demo/ledger.db``.

A tour runs in one bash process, so ``export`` and background jobs carry over
between its blocks; each command's exit status is printed as the README shows
it (``[exit 2]``) when it is not 0.  Comparison tolerates what changes from
run to run: hashes, pseudonyms and key ids (hex runs of 8 or more), keys and
signatures (base64 runs of 20 or more), UUIDs, times (RFC 3339 and the
people's ``YYYY-MM-DD HH:MM``), and in the README ``…`` stands for any text on
its line, a line of ``…`` alone for any number of lines.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

MARKER = re.compile(r"<!-- tour: (?P<name>[\w-]+), from: (?P<state>empty|demo) -->")
_HEX = re.compile(r"\b[0-9a-f]{8,}\b")  # hashes, pseudonyms (shown 12 long), key ids
# keys and signatures: base64 runs of 20 or more with a digit, + or / in them
_B64 = re.compile(r"(?<![\w/+])(?=[A-Za-z0-9+/]*[0-9+/])[A-Za-z0-9+/]{20,}={0,2}")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")
_SECONDS = re.compile(r"\b\d+(\.\d+)? ?(s|ms)\b")
README_PORT = "8080"

DEMO_SETUP = """\
mkdir demo
ledger init >/dev/null
ledger policy publish bundled --actor dpo:xp2cloud >/dev/null
python "$LEDGER_REPO/scripts/demo_day.py" demo >/dev/null
ledger append demo/day.jsonl >/dev/null
"""


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)
    line: int = 0  # the README line of the command


@dataclass
class Tour:
    name: str
    state: str
    steps: list[Step] = field(default_factory=list)


def parse(text: str) -> list[Tour]:
    tours: list[Tour] = []
    in_block = False
    for number, line in enumerate(text.splitlines(), start=1):
        m = MARKER.search(line)
        if m and not in_block:
            tours.append(Tour(m["name"], m["state"]))
            continue
        if line.startswith("```"):
            if in_block:
                in_block = False
            elif line.strip() == "```console" and tours:
                in_block = True
            continue
        if not in_block:
            continue
        steps = tours[-1].steps
        if line.startswith("$ "):
            steps.append(Step(line[2:], line=number))
        elif line.startswith("> ") or line == ">":
            steps[-1].command += "\n" + line[2:]
        else:
            steps[-1].expected.append(line)
    return tours


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(tour: Tour, folder: Path, env: dict[str, str]) -> list[list[str]]:
    """Run the tour in ``folder``; what each step printed (stdout and stderr, in order)."""
    port = str(free_port())
    script = ["set -u", "trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT"]
    if tour.state == "demo":
        script.append(DEMO_SETUP)
    for i, step in enumerate(tour.steps):
        command = step.command.replace(README_PORT, port)
        script.append(f"echo '@@step {i}'\n{command}\nrc=$?\n"
                      f"[ $rc -eq 0 ] || echo \"[exit $rc]\"")
    db = "demo/ledger.db" if tour.state == "demo" else "ledger.db"
    run_env = dict(env, LEDGER_DATABASE_URL=f"sqlite:///{db}", TERM="dumb", COLUMNS="100")
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=folder, env=run_env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600, check=False, stdin=subprocess.DEVNULL)
    out: list[list[str]] = [[] for _ in tour.steps]
    current: list[str] | None = None
    for line in done.stdout.splitlines():
        if line.startswith("@@step "):
            current = out[int(line.split()[1])]
        elif current is not None:
            current.append(line)
    return out


def normalise(line: str) -> str:
    line = _UUID.sub("<uuid>", line.rstrip())
    line = _TIME.sub("<time>", line)
    line = _HEX.sub("<hex>", line)
    line = _B64.sub("<base64>", line)
    return _SECONDS.sub("<duration>", line)


def _line_pattern(expected: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in normalise(expected).split("…")]
    return re.compile(".*?".join(parts) + r"\Z")


def matches(expected: list[str], got: list[str]) -> bool:
    """Whether ``got`` is what ``expected`` shows (``…`` as described above)."""
    got = [normalise(g) for g in got]

    def at(i: int, j: int) -> bool:
        if i == len(expected):
            return j == len(got)
        if expected[i].strip() == "…":
            return any(at(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and bool(_line_pattern(expected[i]).match(got[j])) \
            and at(i + 1, j + 1)

    return at(0, 0)


def environment(repo: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_REPO"] = str(repo)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def main(argv: list[str]) -> int:
    """``python -m tests.readme_tours [README.md]``: what each tour's steps print now,
    in the README's own notation, to review and paste when a tour's output changes."""
    import tempfile

    readme = Path(argv[0] if argv else "README.md")
    repo = readme.resolve().parent
    for tour in parse(readme.read_text(encoding="utf-8")):
        with tempfile.TemporaryDirectory() as folder:
            printed = run(tour, Path(folder), environment(repo))
        print(f"<!-- tour: {tour.name}, from: {tour.state} -->")
        for step, got in zip(tour.steps, printed, strict=True):
            first, *more = step.command.split("\n")
            mark = "" if matches(step.expected, got) else "   # CHANGED"
            print("\n".join([f"$ {first}{mark}", *(f"> {m}" for m in more), *got]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
