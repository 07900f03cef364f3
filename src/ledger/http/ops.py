"""The operations routes: ``/v1/health``, ``/v1/ready`` and ``/metrics``.

* ``GET /v1/health`` (no token): the process answers and the database does.
* ``GET /v1/ready`` (no token): 200 when the database answers and every projection
  is at most ``LEDGER_READY_MAX_LAG`` entries behind the ledger's head (default
  :data:`DEFAULT_MAX_LAG`), else 503 with the same body and a ``reason``.  Its
  answer holds counts and projection names only.  Projections are a plug-in: they
  tell how far they are through ``ctx.add_lag_source`` (:mod:`ledger.http.context`);
  when one is too far behind, the 503 starts their catch-up in the background
  (one at a time), since they otherwise catch up only when read.
* ``GET /metrics`` (a token whose role holds ``metrics:read``): the Prometheus text
  format of the app's own registry (:mod:`ledger.http.metrics`).
"""

# No `from __future__ import annotations` here: FastAPI evaluates the annotations of
# the nested route functions at run time, and they name local variables (ctx).

import logging
import threading
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.background import BackgroundTask

from ledger.app.tokens import Principal
from ledger.errors import ConfigError
from ledger.http.context import RouteContext
from ledger.http.schemas import json_response, problems

__all__ = ["DEFAULT_MAX_LAG", "MAX_LAG_SETTING", "max_lag_setting", "mount", "progress",
           "readiness", "register"]

MAX_LAG_SETTING = "LEDGER_READY_MAX_LAG"
DEFAULT_MAX_LAG = 10_000
log = logging.getLogger("ledger.http")

READY_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["status", "database", "head", "projections", "max_lag"],
    "properties": {
        "status": {"enum": ["ready", "not_ready"]},
        "database": {"enum": ["ok", "unavailable"]},
        "head": {"type": ["integer", "null"], "minimum": 0},
        "max_lag": {"type": "integer", "minimum": 0},
        "projections": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["lag", "seq"],
            "properties": {"lag": {"type": "integer", "minimum": 0},
                           "seq": {"type": "integer", "minimum": 0}}}},
        "reason": {"type": "string"}}}


def max_lag_setting(env: Mapping[str, str]) -> int:
    """``LEDGER_READY_MAX_LAG``: the most entries a projection may lag behind the head
    of a ready server (default :data:`DEFAULT_MAX_LAG`)."""
    text = env.get(MAX_LAG_SETTING)
    if not text:
        return DEFAULT_MAX_LAG
    if not text.isdigit():
        raise ConfigError(f"{MAX_LAG_SETTING} must be a whole number ≥ 0")
    return int(text)


def progress(ctx: RouteContext) -> tuple[int, dict[str, int]]:
    """The ledger's head and the seq each projection has processed (blocking)."""
    head = ctx.ledger.head()[0]
    seqs: dict[str, int] = {}
    for source in ctx.lag_sources:
        seqs.update(source.progress())
    return head, seqs


def readiness(ctx: RouteContext, max_lag: int) -> dict[str, Any]:
    """The body of ``GET /v1/ready`` (blocking); ``status`` says which answer it is."""
    doc: dict[str, Any] = {"status": "not_ready", "database": "ok", "head": None,
                           "max_lag": max_lag, "projections": {}}
    try:
        head = ctx.ledger.head()[0]
    except Exception as exc:  # noqa: BLE001 - reported as the answer, logged by its type
        log.warning("readiness: the database did not answer (%s)", type(exc).__name__)
        return {**doc, "database": "unavailable", "reason": "the database is unavailable"}
    doc["head"] = head
    seqs: dict[str, int] = {}
    try:
        for source in ctx.lag_sources:
            seqs.update(source.progress())
    except Exception as exc:  # noqa: BLE001 - idem
        log.warning("readiness: a projection's progress could not be read (%s)",
                    type(exc).__name__)
        return {**doc, "reason": "the projections' progress could not be read"}
    lags = {name: {"lag": max(head - seq, 0), "seq": seq} for name, seq in sorted(seqs.items())}
    doc["projections"] = lags
    behind = [name for name, v in lags.items() if v["lag"] > max_lag]
    if behind:
        worst = max(behind, key=lambda n: lags[n]["lag"])
        return {**doc, "reason": f"projection {worst} is {lags[worst]['lag']} entries behind "
                f"the ledger's head (at most {max_lag}: {MAX_LAG_SETTING})"}
    return {**doc, "status": "ready"}


class _CatchUp:
    """Brings the projections up to date, one run at a time (in a worker thread)."""

    def __init__(self, ctx: RouteContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()

    def __call__(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # a run is going: it will get there
        try:
            for source in self.ctx.lag_sources:
                if source.catch_up is not None:
                    source.catch_up()
        except Exception as exc:  # noqa: BLE001 - the next probe tries again
            log.warning("readiness: the projections' catch-up failed (%s)",
                        type(exc).__name__)
        finally:
            self._lock.release()


def register(router: APIRouter, ctx: RouteContext) -> None:
    """``/v1/health`` and ``/v1/ready`` (under the app's /v1 router)."""
    ledger = ctx.ledger
    max_lag = max_lag_setting(ledger.env if ledger.env is not None else {})
    catch_up = _CatchUp(ctx)

    @router.get(
        "/health", summary="Liveness and database reachability (no token needed)",
        responses={200: json_response("up", {"type": "object", "properties": {
                       "status": {"const": "ok"}}}),
                   **problems(503)})
    async def health() -> JSONResponse:
        await ctx.run(ledger.head)
        return JSONResponse({"status": "ok"})

    @router.get(
        "/ready", summary="Readiness: the database answers and the projections are caught "
        "up (no token needed)",
        description="200 when the database answers and every projection is at most "
        f"`max_lag` entries behind the ledger's head (`{MAX_LAG_SETTING}`, default "
        f"{DEFAULT_MAX_LAG}); 503 with the same body, `status: not_ready` and a `reason` "
        "otherwise. A projection too far behind is brought up to date in the background.",
        responses={200: json_response("ready", READY_SCHEMA),
                   503: json_response("not ready", READY_SCHEMA)})
    async def ready() -> JSONResponse:
        doc = await ctx.run(readiness, ctx, max_lag)
        if doc["status"] == "ready":
            return JSONResponse(doc)
        task = None
        if doc["projections"] and any(s.catch_up for s in ctx.lag_sources):
            task = BackgroundTask(ctx.run, catch_up)
        return JSONResponse(doc, status_code=503, headers={"Retry-After": "5"},
                            background=task)


def mount(app: FastAPI, ctx: RouteContext) -> None:
    """``GET /metrics`` on the app itself (outside /v1, where Prometheus looks)."""
    ctx.metrics.watch(lambda: progress(ctx))

    @app.get(
        "/metrics", summary="Metrics in the Prometheus text format",
        description="Counters of appends, rejections (by rule and field), verifications; "
        "request latencies by route template; the head and the projections' lag "
        "(docs/OPERATIONS.md). Needs a token whose role holds `metrics:read` "
        "(auditor, dpo).",
        responses={200: {"description": "the metrics", "content": {
                       "text/plain": {"schema": {"type": "string"}}}},
                   **problems(401, 403)},
        response_class=Response)
    async def metrics(_: Annotated[Principal, Depends(ctx.require("metrics:read"))]) \
            -> Response:
        return Response(await ctx.run(ctx.metrics.exposition),
                        media_type=CONTENT_TYPE_LATEST)
