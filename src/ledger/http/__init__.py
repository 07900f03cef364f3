"""The HTTP API (``ledger serve``): FastAPI over the same Ledger as the CLI.

    app.py           create_app(url, name, …): the app, its route modules, its lifespan
    context.py       RouteContext given to route modules: ledger, role check, threads
    roles.py         the permission → roles table
    routes.py        the core routes: POST /events, POST /subjects/{ref}/erase,
                     GET /verify, GET /health
    verification.py  GET /verify's runner (a child `ledger verify`, one at a time)
    body.py          JSON bodies: media type, size limit before parsing, syntax
    problems.py      RFC 9457 problem details for every error
    logs.py          access log by route template (no URL, no personal data)
    schemas.py       OpenAPI schemas of the hand-parsed bodies

Docs: docs/API.md.
"""

from __future__ import annotations

from ledger.http.app import ROUTE_ENTRY_POINTS, create_app
from ledger.http.context import Limits, RouteContext

__all__ = ["ROUTE_ENTRY_POINTS", "Limits", "RouteContext", "create_app"]
