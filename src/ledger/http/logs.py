"""The access log, without personal data; and the last line of defence (500).

URLs may hold personal identifiers (``/v1/subjects/{ref}/…``), so the server
never logs one: uvicorn's access log is off, and this middleware logs the
*route template* instead — ``POST /v1/subjects/{ref}/erase 201 3.1ms
actor=dpo-desk`` — never the path as sent, nor the query string, nor a body.

Each answer is also observed by the app's metrics (``ledger.http.metrics``), by
method, the same route template and status, with its duration.

It also catches what no handler answered: the client gets a 500 problem
without detail, the log gets the exception's type and the route only (an
exception's message could quote a value), and nothing is re-raised to the
server (which would print a traceback with the message).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.http.problems import Problem, problem_response

if TYPE_CHECKING:
    from ledger.http.metrics import Metrics

__all__ = ["AccessLog"]

log = logging.getLogger("ledger.http.access")
errors = logging.getLogger("ledger.http")


def _template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if path:
        return str(path)
    endpoint = scope.get("endpoint")  # plain routes (/openapi.json, /docs) set no "route"
    for candidate in getattr(scope.get("app"), "routes", ()):
        if endpoint is not None and getattr(candidate, "endpoint", None) is endpoint:
            return str(getattr(candidate, "path", "(no route)"))
    return "(no route)"


class AccessLog:
    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:  # noqa: BLE001 - answered, logged without its message
            errors.error("unexpected %s in %s %s", type(exc).__name__, scope.get("method"),
                         _template(scope))
            if status == 0:
                status = 500
                response = problem_response(Problem(500, "the server could not complete "
                                                         "the request"))
                await response(scope, receive, send)
        seconds = time.perf_counter() - start
        state: dict[str, Any] = scope.get("state") or {}
        actor = state.get("actor")
        method, route = str(scope.get("method")), _template(scope)
        log.info("%s %s %d %.1fms%s", method, route, status, seconds * 1000,
                 f" actor={actor}" if actor else "")
        if self.metrics is not None:
            self.metrics.request(method, route, status, seconds)
