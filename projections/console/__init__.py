"""The DPO's console: web pages on ``ledger serve``, under ``/console/`` (issue 12).

Mounted by the ``ledger.http_faces`` entry point (:func:`mount`); server-rendered
(Jinja2, autoescaping) with progressive enhancement (htmx, shipped in ``static/``);
French by default, English on demand (``i18n``: gettext catalogues through Babel).

- ``web``: the machinery (templates, the session guard, CSRF-checked forms);
- ``sessions``: login sessions in memory; ``security``: headers and CSRF checks;
- ``page_*``: the pages, each ``register(router, console)``, listed in :data:`PAGES`.

The console reads and writes through the same use cases as the API: the projections'
shared Reader for the registers, the ledger for appends (the group commit), the
verifier for integrity; its roles are the API's roles (docs/CONSOLE.md).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import page_inquiry, page_integrity, page_login, page_overview, page_person, page_registers
from .security import ConsoleHeaders
from .web import SESSION_COOKIE, Console, LoginNeeded, Refused

__all__ = ["PAGES", "mount"]

# the page modules, in the navigation's order (the first a role may see is its home)
PAGES: list[Callable[[APIRouter, Console], None]] = [
    page_login.register,
    page_overview.register,
    page_person.register,
    page_registers.register,
    page_inquiry.register,
    page_integrity.register,
]


def mount(app: FastAPI, ctx: Any) -> None:
    """Add the console to the app of one ledger (``ledger.http_faces`` entry point)."""
    console = Console(ctx)
    router = APIRouter(prefix=console.prefix, include_in_schema=False)
    for register in PAGES:
        register(router, console)
    app.include_router(router)
    app.mount(console.prefix + "/static", StaticFiles(packages=[(__name__, "static")]),
              name="console-static")
    app.add_middleware(ConsoleHeaders, prefix=console.prefix)

    async def login_needed(request: Request, exc: Exception) -> Response:
        return console.redirect(request, "console-login")

    async def refused(request: Request, exc: Exception) -> Response:
        why = exc.why if isinstance(exc, Refused) else "role"
        session = exc.session if isinstance(exc, Refused) else None
        return console.render(request, "refused.html.j2", session, status=403, why=why)

    app.add_exception_handler(LoginNeeded, login_needed)
    app.add_exception_handler(Refused, refused)
    _answer_missing_pages(app, console)
    app.state.console = console


def _answer_missing_pages(app: FastAPI, console: Console) -> None:
    """A console path that is no page (404, 405) gets a page of the console saying so;
    every other path keeps the API's problem details (the handler already installed)."""
    api_answer = app.exception_handlers.get(StarletteHTTPException)

    async def missing(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        if status in (404, 405) and console.owns(request):
            session = console.sessions.get(request.cookies.get(SESSION_COOKIE))
            return console.render(request, "missing.html.j2", session, status=status)
        if api_answer is None:
            raise exc
        answer = api_answer(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(StarletteHTTPException, missing)
