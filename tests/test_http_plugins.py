"""Routes added by other packages: ``register(router, ctx)`` from ``ledger.http_routes``."""

# No `from __future__ import annotations`: FastAPI must evaluate the route functions'
# annotations, which name a local (ctx) — route modules of other packages neither.

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from ledger.app.application import Ledger
from ledger.app.tokens import Principal
from ledger.http import RouteContext, create_app
from ledger.http.app import FACE_ENTRY_POINTS, ROUTE_ENTRY_POINTS, face_plugins, route_plugins
from ledger.http.roles import Permissions
from tests.helpers import consent
from tests.http_kit import Api, api_for


def register(router: APIRouter, ctx: RouteContext) -> None:
    """A tiny read route, as a projection package would add (only in this test)."""

    @router.get("/subjects/{ref:path}/history-size")
    async def history_size(ref: str, who: Annotated[
            Principal, Depends(ctx.require("consent:read"))]) -> JSONResponse:
        entries = await ctx.run(lambda: sum(1 for _ in ctx.ledger.log(ref)))
        return JSONResponse({"entries": entries, "asked_by": who.name})

    ctx.permissions.define("tally:read", ["auditor"])

    @router.get("/tally")
    def tally(_: Annotated[Principal, Depends(ctx.require("tally:read"))]) -> dict[str, int]:
        return {"head": ctx.ledger.head()[0]}  # a def route: run in the worker threads


@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    with api_for(ledger, db_url, env, routes=[register]) as a:
        yield a


def test_plugin_routes_are_served_under_v1_with_their_roles(api: Api) -> None:
    assert api.post("/v1/events", json=consent("a@example.fr")).status_code == 201
    r = api.get("/v1/subjects/a@example.fr/history-size", as_="service")
    assert r.status_code == 200 and r.json() == {"entries": 1, "asked_by": "crm"}
    assert api.get("/v1/subjects/a@example.fr/history-size", as_="auditor").status_code == 403
    assert api.get("/v1/subjects/a@example.fr/history-size", as_=None).status_code == 401
    assert api.get("/v1/tally", as_="auditor").json() == {"head": 2}
    assert api.get("/v1/tally", as_="dpo").status_code == 200  # the DPO holds every permission
    assert api.get("/v1/tally", as_="service").status_code == 403
    paths = api.get("/openapi.json", as_=None).json()["paths"]
    assert "/v1/subjects/{ref}/history-size" in paths and "/v1/tally" in paths


def test_entry_points_are_loaded(monkeypatch: pytest.MonkeyPatch, ledger: Ledger,
                                 db_url: str, env: dict[str, str]) -> None:
    found = [EntryPoint("sizes", f"{__name__}:register", ROUTE_ENTRY_POINTS)]

    def entry_points(*, group: str) -> list[EntryPoint]:
        return found if group == ROUTE_ENTRY_POINTS else []

    monkeypatch.setattr("importlib.metadata.entry_points", entry_points)
    assert route_plugins() == [register]
    app = create_app(db_url, env=env)  # routes=None: from the entry points
    assert "/v1/tally" in app.openapi()["paths"]
    app.state.ctx.ledger.close()


def test_unknown_permission_is_refused_at_registration(ledger: Ledger, db_url: str,
                                                       env: dict[str, str]) -> None:
    def typo(router: APIRouter, ctx: RouteContext) -> None:
        ctx.require("proofs:raed")

    with pytest.raises(ValueError, match="unknown permission"):
        create_app(db_url, env=env, routes=[typo])


def test_permission_table_holds_the_issue_rules() -> None:
    table = Permissions().table()
    roles: dict[str, set[str]] = {}
    for permission, holders in table.items():
        for role in holders:
            roles.setdefault(role, set()).add(permission)
    assert roles["service"] == {"events:append", "consent:read"}
    assert roles["auditor"] == {"verify:read", "checkpoints:read", "proofs:read",
                                "metrics:read"}
    assert roles["dpo"] == set(table)
    p = Permissions()
    with pytest.raises(ValueError, match="unknown roles"):
        p.define("x:read", ["admin"])
    p.define("x:read", [])
    assert p.table()["x:read"] == ["dpo"]
    with pytest.raises(ValueError, match="already defined"):
        p.define("x:read", ["service"])


def test_faces_mount_their_own_routes_outside_v1(ledger: Ledger, db_url: str,
                                                 env: dict[str, str]) -> None:
    """A face (``ledger.http_faces``: the console) adds routes to the app itself."""
    seen: list[RouteContext] = []

    def mount(app: FastAPI, ctx: RouteContext) -> None:
        seen.append(ctx)

        @app.get("/face/head", include_in_schema=False)
        def head() -> dict[str, int]:
            return {"head": ctx.ledger.head()[0]}

    app = create_app(db_url, env=env, routes=[], faces=[mount])
    try:
        with TestClient(app) as client:
            assert client.get("/face/head").json() == {"head": ledger.head()[0]}
        assert seen == [app.state.ctx]
        assert "/face/head" not in app.openapi()["paths"]
    finally:
        app.state.ctx.ledger.close()


def test_a_face_failing_to_mount_closes_the_ledger(monkeypatch: pytest.MonkeyPatch,
                                                   ledger: Ledger, db_url: str,
                                                   env: dict[str, str]) -> None:
    closed: list[bool] = []
    real_close = Ledger.close

    def close(self: Ledger) -> None:
        closed.append(True)
        real_close(self)

    monkeypatch.setattr(Ledger, "close", close)

    def broken(app: FastAPI, ctx: RouteContext) -> None:
        raise RuntimeError("no templates")

    with pytest.raises(RuntimeError, match="no templates"):
        create_app(db_url, env=env, routes=[], faces=[broken])
    assert closed == [True]


def test_face_entry_points_are_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    found = [EntryPoint("sizes", f"{__name__}:register", FACE_ENTRY_POINTS)]

    def entry_points(*, group: str) -> list[EntryPoint]:
        return found if group == FACE_ENTRY_POINTS else []

    monkeypatch.setattr("importlib.metadata.entry_points", entry_points)
    assert face_plugins() == [register] and route_plugins() == []
