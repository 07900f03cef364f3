"""The HTTP API (``ledger serve``): FastAPI over the same Ledger as the CLI.

    app.py           create_app(url, name, …): the app, its route modules, its lifespan
    context.py       RouteContext given to route modules: ledger, role check, threads
    roles.py         the permission → roles table
    routes.py        the core routes: POST /events, POST /subjects/{ref}/erase,
                     GET /verify
    ops.py           operations: GET /v1/health, GET /v1/ready, GET /metrics
    metrics.py       the app's Prometheus registry and what it counts
    docs_assets.py   /docs (Swagger UI) with its files served by the app, no CDN
    verification.py  GET /verify's runner (a child `ledger verify`, one at a time)
    body.py          JSON bodies: media type, size limit before parsing, syntax
    problems.py      RFC 9457 problem details for every error
    logs.py          access log by route template (no URL, no personal data)
    ledgers.py       many ledgers (a routing file), each under /ledgers/{name}
    schemas.py       OpenAPI schemas of the hand-parsed bodies

Docs: docs/API.md.
"""

from __future__ import annotations

from ledger.http.app import ROUTE_ENTRY_POINTS, create_app
from ledger.http.context import Limits, RouteContext
from ledger.http.ledgers import create_routed_app

__all__ = ["ROUTE_ENTRY_POINTS", "Limits", "RouteContext", "create_app", "create_routed_app"]
