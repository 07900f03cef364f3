"""The ASGI application: ``create_app(url, name)`` over the same Ledger as the CLI.

Routes come from route modules, each a ``register(router, ctx)`` function:
the core ones (:mod:`ledger.http.routes`), then every entry point of the group
``ledger.http_routes`` (other packages: projections, proofs), in name order,
or the ``routes`` given to :func:`create_app`.  All are mounted under ``/v1``.

Faces other than the API (the DPO's console, ``projections.console``) come from
the entry points of the group ``ledger.http_faces``: each is a function
``mount(app, ctx)`` called once the API is built, which adds its own routes
(outside ``/v1``) to the FastAPI app, or the ``faces`` given to :func:`create_app`.

Operations (:mod:`ledger.http.ops`): ``/v1/health``, ``/v1/ready`` and ``/metrics``
(the app's own Prometheus registry); ``/docs`` is Swagger UI served by the app itself,
no CDN (:mod:`ledger.http.docs_assets`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

from ledger import __version__
from ledger.app.application import Ledger
from ledger.app.auto_checkpoints import start_timer
from ledger.app.replicas import Replicas
from ledger.app.token_admin import tokens_of
from ledger.http import docs_assets, ops, proof_routes
from ledger.http import routes as core_routes
from ledger.http.context import Limits, RouteContext
from ledger.http.logs import AccessLog
from ledger.http.params import refuse_unknown_query
from ledger.http.problems import install_handlers
from ledger.http.roles import Permissions

__all__ = ["FACE_ENTRY_POINTS", "ROUTE_ENTRY_POINTS", "FaceMounter", "RouteRegistrar",
           "create_app", "face_plugins", "route_plugins"]

ROUTE_ENTRY_POINTS = "ledger.http_routes"
FACE_ENTRY_POINTS = "ledger.http_faces"
RouteRegistrar = Callable[[APIRouter, RouteContext], None]
FaceMounter = Callable[[FastAPI, RouteContext], None]


def _plugins(group: str) -> list[Any]:
    from importlib.metadata import entry_points

    return [ep.load() for ep in sorted(entry_points(group=group), key=lambda e: e.name)]


def route_plugins() -> list[RouteRegistrar]:
    """The ``register`` functions of the ``ledger.http_routes`` entry points, by name."""
    return _plugins(ROUTE_ENTRY_POINTS)


def face_plugins() -> list[FaceMounter]:
    """The ``mount`` functions of the ``ledger.http_faces`` entry points, by name."""
    return _plugins(FACE_ENTRY_POINTS)


TITLE = "Personal-data ledger"


def _fastapi(ctx: RouteContext, router: APIRouter,
             lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]]) -> FastAPI:
    """The FastAPI app of the API's routes, its error handlers and its access log."""
    app = FastAPI(
        title=TITLE, version=__version__, lifespan=lifespan,
        description="Hash-chained, crypto-shredded ledger of personal-data processing. "
        "Every route but /v1/health and /v1/ready needs `Authorization: Bearer <token>` "
        "(`ledger token create`); errors are RFC 9457 problem details. See docs/API.md.",
        openapi_url="/openapi.json", docs_url=None, redoc_url=None)  # /docs: docs_assets
    app.include_router(router)
    install_handlers(app, on_rejection=ctx.metrics.rejected)
    app.add_middleware(AccessLog, metrics=ctx.metrics)
    return app


def create_app(url: str, name: str = "main", *, env: Mapping[str, str] | None = None,
               clock: Callable[[], datetime] | None = None, limits: Limits | None = None,
               routes: Sequence[RouteRegistrar] | None = None,
               faces: Sequence[FaceMounter] | None = None,
               read_urls: Sequence[str] = ()) -> FastAPI:
    """Open the ledger (with its master key) and build the app serving it.

    ``routes=None`` (``faces=None``) loads the entry points; a list replaces them (tests).  The
    ledger is closed when the app shuts down (the end of its lifespan).  ``read_urls``:
    its hot-standby replicas, which serve the reads that can (:mod:`ledger.app.replicas`).
    """
    ledger = Ledger.open(url, name, env)
    try:
        if clock is not None:
            ledger.clock = clock
        tokens = tokens_of(ledger)
        tokens.check_ready()
        ctx = RouteContext(ledger, url, name, tokens=tokens, permissions=Permissions(),
                           limits=limits or Limits())
        if read_urls:
            ctx.replicas = Replicas(ledger, read_urls)
            ctx.on_close(ctx.replicas.close)
        router = APIRouter(prefix="/v1", dependencies=[Depends(refuse_unknown_query)])
        core_routes.register(router, ctx)
        ops.register(router, ctx)
        proof_routes.register(router, ctx)
        for register in route_plugins() if routes is None else routes:
            register(router, ctx)
    except BaseException:
        ledger.close()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.started()
        stop_checkpoints = start_timer(ledger)  # issue 16: every T seconds, if behind
        try:
            yield
        finally:
            try:
                stop_checkpoints()
                ctx.close()
            finally:
                ledger.close()

    app = _fastapi(ctx, router, lifespan)
    app.state.ctx = ctx
    _mount_faces(app, ctx, face_plugins() if faces is None else faces)
    return app


def _mount_faces(app: FastAPI, ctx: RouteContext, faces: Sequence[FaceMounter]) -> None:
    """The routes outside /v1: /metrics, the offline /docs, the plug-in faces (the
    console); the ledger is closed if one fails to mount."""
    try:
        ops.mount(app, ctx)
        docs_assets.mount(app, TITLE)
        for mount in faces:
            mount(app, ctx)
    except BaseException:
        ctx.ledger.close()
        raise
