"""Many ledgers, one service: each ledger of a routing file under ``/ledgers/{name}``.

``create_routed_app(routes)`` builds one app per ledger (:func:`ledger.http.app.create_app`:
its own database, keys, tokens, replicas) and mounts it at ``/ledgers/{name}``, so its
routes are ``/ledgers/{name}/v1/...``.  A token lives in its ledger's token table: a token
of ledger A is unknown to ledger B (401 there) and nothing of B is reachable through it.
``GET /ledgers`` (no token) lists the names only.  A single-ledger ``ledger serve``
(no routing file) keeps ``/v1/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from ledger import __version__
from ledger.app.routing import Route, env_of
from ledger.http.app import RouteRegistrar, create_app
from ledger.http.context import Limits

__all__ = ["PREFIX", "create_routed_app"]

PREFIX = "/ledgers"


def create_routed_app(routes: Mapping[str, Route], *, limits: Limits | None = None,
                      env: Mapping[str, str] | None = None,
                      clock: Callable[[], datetime] | None = None,
                      plugins: Sequence[RouteRegistrar] | None = None) -> FastAPI:
    """One app serving every ledger of ``routes`` under its own prefix."""
    apps: dict[str, FastAPI] = {}
    try:
        for name, route in routes.items():
            apps[name] = create_app(route.url, route.ledger, env=env_of(route, env),
                                    clock=clock, limits=limits, routes=plugins,
                                    read_urls=route.read_urls)
    except BaseException:
        for sub in apps.values():  # their lifespans never ran: close what they opened
            sub.state.ctx.close()
            sub.state.ctx.ledger.close()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Starlette runs the lifespan of the top app only: each ledger's is entered here
        async with AsyncExitStack() as stack:
            for sub in apps.values():
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            yield

    app = FastAPI(title="Personal-data ledgers", version=__version__, lifespan=lifespan,
                  description="Each ledger's API is under /ledgers/{name}/v1 (its OpenAPI "
                  "at /ledgers/{name}/openapi.json); tokens are each ledger's own.",
                  docs_url=None, redoc_url=None)

    @app.get(PREFIX, summary="The ledgers this service serves (names only)")
    async def ledgers() -> JSONResponse:
        return JSONResponse({"ledgers": sorted(apps)})

    for name, sub in apps.items():
        app.mount(f"{PREFIX}/{name}", sub)
    return app
