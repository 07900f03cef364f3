"""Two ledgers of one routing file on two different PostgreSQL servers (the main 5432
cluster and the pair's primary, 5442), appending at once, each verifying."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from ledger.app.application import Ledger
from ledger.app.routing import env_of, list_ledgers, load_routing
from tests.conftest import PG_URL, drop_schema, require_pg
from tests.helpers import consent
from tests.replica_kit import PRIMARY, new_ledger, require_pair, sql

pytestmark = pytest.mark.postgres


def test_two_ledgers_on_two_servers_append_at_once_and_each_verifies(tmp_path: Path) -> None:
    require_pg()
    require_pair()
    schema = f"s_{uuid.uuid4().hex[:12]}"
    base = PG_URL.split("?")[0]
    urls = {"north": f"{base}?schema={schema}", "south": f"{PRIMARY}/test?schema={schema}"}
    lines = []
    for name, url in urls.items():
        (tmp_path / name).mkdir(mode=0o700)
        lines += [f"[ledgers.{name}]", f'url = "{url}"', f'keys = "{tmp_path / name}"']
    (tmp_path / "ledgers.toml").write_text("\n".join(lines) + "\n")
    routes = load_routing(str(tmp_path / "ledgers.toml"))
    try:
        for route in routes.values():
            new_ledger(route.url, env_of(route, {}), route.ledger).close()
        errors: list[BaseException] = []

        def writer(name: str, w: int) -> None:
            route = routes[name]
            try:
                with Ledger.open(route.url, route.ledger, env=env_of(route, {})) as led:
                    for i in range(20):
                        led.append([consent(f"{name}{w}-{i}-{j}@example.org")
                                    for j in range(5)])
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(name, w))
                   for name in routes for w in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not errors, errors
        for route in routes.values():
            with Ledger.open(route.url, route.ledger, env=env_of(route, {})) as led:
                result = led.verify()
                assert result.ok and result.entries == 1 + 3 * 20 * 5, result
        listed = {r["name"]: r for r in list_ledgers(routes)}
        assert {n: r["head_seq"] for n, r in listed.items()} == {"north": 301, "south": 301}
        assert listed["north"]["head_hash"] != listed["south"]["head_hash"]
        ports = {n: r["url"].split("@")[1].split("/")[0] for n, r in listed.items()}
        assert ports == {"north": "127.0.0.1:5432", "south": "127.0.0.1:5442"}
    finally:
        drop_schema(schema)
        sql(f"{PRIMARY}/test", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
