"""Many ledgers, one service: the routing file (ledger.domain.routing, ledger.app.routing),
``--ledgers``/``--ledger`` and ``ledger ledgers``, the HTTP prefixes and token scopes
(ledger.http.ledgers), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ledger.app.application import Ledger
from ledger.app.routing import list_ledgers, load_routing, pick_route
from ledger.app.tokens import Tokens
from ledger.domain.policy import bundled_policy
from ledger.domain.routing import Route, parse_routing, without_password
from ledger.errors import ConfigError
from ledger.http.ledgers import create_routed_app
from tests.helpers import consent

GOOD = """
[ledgers.acme]
url = "postgresql://app:s3cret@db1:5432/ledgers?schema=acme"
read_urls = ["postgresql://app:s3cret@db1-replica:5432/ledgers?schema=acme"]
keys = "/srv/keys/acme"
ledger = "main"

[ledgers.globex]
url = "sqlite:///globex.db"
"""


def test_parse_a_routing_file() -> None:
    routes = parse_routing(GOOD, "ledgers.toml")
    assert list(routes) == ["acme", "globex"]
    acme = routes["acme"]
    assert acme.ledger == "main" and acme.keys == "/srv/keys/acme"
    assert acme.read_urls == ("postgresql://app:s3cret@db1-replica:5432/ledgers?schema=acme",)
    assert routes["globex"] == Route("globex", "sqlite:///globex.db", (), None, "globex")
    shown = acme.as_dict()
    assert "s3cret" not in json.dumps(shown)
    assert shown["url"] == "postgresql://app:***@db1:5432/ledgers?schema=acme"
    assert without_password("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.parametrize(("text", "message"), [
    ("not toml [", "ledgers.toml: not valid TOML"),
    ("", "ledgers.toml: ledgers: must hold at least one"),
    ("[other]\nx=1\n[ledgers.a]\nurl='sqlite:///a.db'", "ledgers.toml: other: is not a table"),
    ("[ledgers.A]\nurl='sqlite:///a.db'", "ledgers.toml: ledgers.A: the name must be"),
    ("[ledgers.a]\nkeys='/k'", "ledgers.toml: ledgers.a.url: is required"),
    ("[ledgers.a]\nurl='mysql://x'", "ledgers.toml: ledgers.a.url: must be a database URL"),
    ("[ledgers.a]\nurl='sqlite:///a.db'\nread_urls=['sqlite:///b.db']",
     "ledgers.toml: ledgers.a.read_urls[0]: must be a database URL (postgresql://"),
    ("[ledgers.a]\nurl='sqlite:///a.db'\nread_urls=['postgresql://h/d']",
     "ledgers.toml: ledgers.a.read_urls: replicas are PostgreSQL's"),
    ("[ledgers.a]\nurl='postgresql://h/d'\nread_urls='postgresql://h2/d'",
     "ledgers.toml: ledgers.a.read_urls: must be a list"),
    ("[ledgers.a]\nurl='sqlite:///a.db'\nkeys=3", "ledgers.toml: ledgers.a.keys: must be"),
    ("[ledgers.a]\nurl='sqlite:///a.db'\nledger=''", "ledgers.toml: ledgers.a.ledger: must"),
    ("[ledgers.a]\nurl='sqlite:///a.db'\nreplicas=[]",
     "ledgers.toml: ledgers.a.replicas: is not a field of a ledger"),
    ("ledgers = 3", "ledgers.toml: ledgers: must hold at least one"),
    ("[ledgers]\na = 3", "ledgers.toml: ledgers.a: must be a table"),
])
def test_a_bad_routing_file_is_refused_naming_file_ledger_and_field(text: str,
                                                                     message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_routing(text, "ledgers.toml")
    assert str(err.value).startswith(message), str(err.value)


def test_pick_route_and_missing_file(tmp_path: Path) -> None:
    routes = parse_routing(GOOD, "f.toml")
    assert pick_route(routes, "globex", "f.toml").name == "globex"
    with pytest.raises(ConfigError, match=r"--ledger: f.toml has no ledger named 'main' "
                       r"\(it has: acme, globex\)"):
        pick_route(routes, None, "f.toml")
    one = parse_routing("[ledgers.solo]\nurl='sqlite:///s.db'", "g.toml")
    assert pick_route(one, None, "g.toml").name == "solo"
    with pytest.raises(ConfigError, match="LEDGER_LEDGERS: cannot read"):
        load_routing(str(tmp_path / "absent.toml"))


# -- two ledgers in one service, on each database ------------------------------------------


def _routing(tmp_path: Path, db_url: str) -> Path:
    """Two ledgers, a and b, in the test's database (each its own name and key folder)."""
    lines = []
    for name in ("a", "b"):
        keys = tmp_path / f"keys-{name}"
        keys.mkdir(mode=0o700)
        lines += [f"[ledgers.{name}]", f"url = {json.dumps(db_url)}", f"keys = '{keys}'",
                  f"ledger = 'ledger-{name}'"]
    path = tmp_path / "ledgers.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _init_all(path: Path) -> dict[str, str]:
    """Initialise each ledger, publish the policy; a token of each (service role)."""
    tokens = {}
    for route in load_routing(str(path)).values():
        env = {"LEDGER_KEY_DIR": str(route.keys)}
        led, _ = Ledger.init(route.url, route.ledger, env=env)
        led.publish_policy(bundled_policy(), actor="test",
                           occurred_at=datetime(2024, 1, 1, tzinfo=UTC))
        tokens[route.name] = Tokens(led.store).create(f"crm-{route.name}", "dpo")
        led.close()
    return tokens


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120, check=False)


def test_cli_ledger_selects_an_entry_and_ledgers_lists_heads(tmp_path: Path,
                                                            db_url: str) -> None:
    path = _routing(tmp_path, db_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(LEDGER_LEDGERS=str(path), LEDGER_ACTOR="test")
    for name in ("a", "b"):
        assert _cli(["--ledger", name, "init"], env).returncode == 0
        assert _cli(["--ledger", name, "policy", "publish", "bundled"], env).returncode == 0
    events = tmp_path / "e.jsonl"
    events.write_text("\n".join(json.dumps(consent(f"p{i}@example.org")) for i in range(3)))
    done = _cli(["--ledger", "a", "append", str(events)], env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "keys-a" / "master.key").exists()
    listed = _cli(["ledgers", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows["a"]["head_seq"] == 4 and rows["b"]["head_seq"] == 1
    assert rows["a"]["ledger"] == "ledger-a" and rows["a"]["error"] is None
    for name in ("a", "b"):
        assert _cli(["--ledger", name, "verify"], env).returncode == 0
    bad = _cli(["--ledger", "c", "verify"], env)
    assert bad.returncode == 2 and "has no ledger named 'c' (it has: a, b)" in bad.stderr
    both = _cli(["--db", db_url, "--ledger", "a", "verify"], env)
    assert both.returncode == 2 and "--db: cannot be used with a routing file" in both.stderr
    path.write_text("[ledgers.a]\nurl = 'mysql://x'\n")
    broken = _cli(["ledgers"], env)
    assert broken.returncode == 2
    assert f"{path}: ledgers.a.url: must be a database URL" in broken.stderr


def test_http_prefixes_and_a_token_sees_nothing_of_another_ledger(tmp_path: Path,
                                                                 db_url: str) -> None:
    path = _routing(tmp_path, db_url)
    tokens = _init_all(path)
    routes = load_routing(str(path))
    app = create_routed_app(routes, plugins=())
    bearer = {n: {"Authorization": f"Bearer {t}"} for n, t in tokens.items()}
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/ledgers").json() == {"ledgers": ["a", "b"]}
        made = client.post("/ledgers/a/v1/events", headers=bearer["a"],
                           json=[consent(f"q{i}@example.org") for i in range(2)])
        assert made.status_code == 201, made.text
        assert [r["seq"] for r in made.json()] == [2, 3]
        # a's token on b: unknown there (401), nothing appended, nothing read
        for method, url in [("post", "/ledgers/b/v1/events"), ("get", "/ledgers/b/v1/verify"),
                            ("get", "/ledgers/b/v1/proofs/inclusion/1"),
                            ("get", "/ledgers/b/v1/checkpoints/latest")]:
            kw = {"json": consent("x@example.org")} if method == "post" else {}
            r = getattr(client, method)(url, headers=bearer["a"], **kw)
            assert r.status_code == 401, (url, r.status_code, r.text)
            assert "ledger-a" not in r.text and "q0@" not in r.text
        ok = client.get("/ledgers/b/v1/verify", headers=bearer["b"])
        assert ok.status_code == 200 and ok.json()["entries"] == 1
        proof = client.get("/ledgers/a/v1/proofs/inclusion/3", headers=bearer["a"])
        assert proof.status_code == 200 and proof.json()["tree_size"] == 3
        assert proof.headers["Ledger-Served-By"] == "primary"  # no read_urls
        assert client.get("/v1/health").status_code == 404  # only under a prefix
        assert client.get("/ledgers/c/v1/health").status_code == 404
    heads = {r["name"]: r["head_seq"] for r in list_ledgers(routes)}
    assert heads == {"a": 3, "b": 1}


def test_ledger_serve_with_a_routing_file_serves_each_ledger_under_its_prefix(
        tmp_path: Path) -> None:
    import http.client
    import socket
    import time

    path = _routing(tmp_path, f"sqlite:///{tmp_path}/both.db")
    _init_all(path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "ledger.cli", "--ledgers", str(path),
                             "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        def get(url: str) -> tuple[int, str]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", url)
                r = conn.getresponse()
                return r.status, r.read().decode()
            finally:
                conn.close()

        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = get("/ledgers")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, \
                    (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        assert (status, json.loads(body)) == (200, {"ledgers": ["a", "b"]})
        assert get("/ledgers/a/v1/health")[0] == 200
        assert get("/ledgers/b/v1/health")[0] == 200
        assert get("/v1/health")[0] == 404
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres",
                                                         marks=pytest.mark.postgres)])
def test_one_token_scoped_to_several_ledgers_and_no_other(tmp_path: Path, kind: str) -> None:
    """``token create --also``: the same token opens a and b, not c (which shares a's
    database: a token table holds one ledger per token, so a+c is refused)."""
    import uuid

    from tests.conftest import PG_URL, drop_schema, require_pg

    schemas = [f"m_{uuid.uuid4().hex[:10]}", f"m_{uuid.uuid4().hex[:10]}"]
    if kind == "sqlite":
        one, two = f"sqlite:///{tmp_path}/one.db", f"sqlite:///{tmp_path}/two.db"
    else:
        require_pg()
        base = PG_URL.split("?")[0]
        one, two = (f"{base}?schema={s}" for s in schemas)
    lines = []
    for name, url in (("a", one), ("b", two), ("c", one)):
        (tmp_path / f"keys-{name}").mkdir(mode=0o700)
        lines += [f"[ledgers.{name}]", f'url = "{url}"', f"keys = '{tmp_path}/keys-{name}'"]
    path = tmp_path / "ledgers.toml"
    path.write_text("\n".join(lines) + "\n")
    try:
        _init_all(path)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        env["LEDGER_LEDGERS"] = str(path)
        made = _cli(["--ledger", "a", "token", "create", "--name", "multi", "--role", "dpo",
                     "--also", "b"], env)
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip()
        shared = _cli(["--ledger", "a", "token", "create", "--name", "other", "--role",
                       "dpo", "--also", "c"], env)
        assert shared.returncode == 2
        assert "ledgers 'a' and 'c' share one token table" in shared.stderr
        again = _cli(["--ledger", "b", "token", "create", "--name", "multi", "--role",
                      "dpo", "--also", "c"], env)
        assert again.returncode == 2 and "already has a live token in ledger 'b'" \
            in again.stderr
        app = create_routed_app(load_routing(str(path)), plugins=())
        auth = {"Authorization": f"Bearer {token}"}
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.get("/ledgers/a/v1/verify", headers=auth).status_code == 200
            assert client.get("/ledgers/b/v1/verify", headers=auth).status_code == 200
            assert client.get("/ledgers/c/v1/verify", headers=auth).status_code == 401
        # revoking in one ledger leaves the other's scope as it is
        assert _cli(["--ledger", "a", "token", "revoke", "multi"], env).returncode == 0
        app = create_routed_app(load_routing(str(path)), plugins=())
        with TestClient(app, raise_server_exceptions=False) as client:
            assert client.get("/ledgers/a/v1/verify", headers=auth).status_code == 401
            assert client.get("/ledgers/b/v1/verify", headers=auth).status_code == 200
    finally:
        if kind == "postgres":
            for s in schemas:
                drop_schema(s)
