"""Fixtures: every storage test runs once on SQLite and once on PostgreSQL.

PostgreSQL comes from ``LEDGER_TEST_PG_URL`` (default: the project machines'
server at 127.0.0.1:5432, database ``test``, user ``postgres``).  Each test
gets a schema of its own, dropped afterwards.  When the server is down the
PostgreSQL cases are skipped — except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ledger.app.application import Ledger
from tests.console_kit import browser  # noqa: F401 - the console tests' chromium fixture

PG_URL = os.environ.get("LEDGER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, Any] = {}


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    if "error" not in _pg_state:
        try:
            with psycopg.connect(PG_URL.split("?")[0], connect_timeout=5) as conn:
                conn.execute("SELECT 1")
            _pg_state["error"] = None
        except psycopg.Error as exc:
            _pg_state["error"] = f"PostgreSQL unreachable at {PG_URL}: {exc}"
    return _pg_state["error"]


def require_pg() -> None:
    why = pg_available()
    if why is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(why + " (CI=true: PostgreSQL tests must run)")
    pytest.skip(why)


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG_URL.split("?")[0], autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/ledger.db"
        return
    require_pg()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{PG_URL}?schema={schema}"
    drop_schema(schema)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Settings for the ledger under test: its own key folder."""
    return {"LEDGER_KEY_DIR": str(tmp_path / "keys")}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 6, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def ledger(db_url: str, env: dict[str, str], clock: Clock) -> Iterator[Ledger]:
    """An initialised ledger with the bundled XP² cloud policy published."""
    from ledger.domain.policy import bundled_policy

    led, _ = Ledger.init(db_url, env=env)
    led.clock = clock
    led.publish_policy(bundled_policy(), actor="test")
    yield led
    led.close()


@pytest.fixture
def cli_env(db_url: str, env: dict[str, str]) -> dict[str, str]:
    """Environment for running the ``ledger`` command in a subprocess."""
    out = dict(os.environ)
    out.update(env)
    out["LEDGER_DATABASE_URL"] = db_url
    out["LEDGER_ACTOR"] = "test"
    return out
