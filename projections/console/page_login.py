"""Login, logout, the language, the console's home.

``GET /console/login`` shows the form; ``POST /console/login`` exchanges a token of
the API (``ledger token create``) for a session cookie.  The token is typed, never
put in a URL; a wrong one gets the same answer whether it is unknown, malformed or
revoked.  A ``service`` token has no page in the console (its role reads consent by
the API only) and is refused with that reason.  The login form carries its own CSRF
token (a cookie and a hidden field that must match): a page of another site cannot
log a browser in under someone else's token.
"""

# No `from __future__ import annotations`: FastAPI reads the route annotations at run time.

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from .i18n import choose
from .security import tokens_match
from .sessions import Session
from .web import LANG_COOKIE, LOGIN_COOKIE, SESSION_COOKIE, Console, Form, Refused

__all__ = ["register"]

CONSOLE_ROLES = ("dpo", "auditor")


def _set_cookie(response: Response, request: Request, console: Console, name: str,
                value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=console.base(request),
                        httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def login_page(request: Request, console: Console, *, error: str | None = None,
               status: int = 200) -> Response:
    nonce = secrets.token_urlsafe(32)
    response = console.render(request, "login.html.j2", None, status=status, error=error,
                              login_csrf=nonce)
    _set_cookie(response, request, console, LOGIN_COOKIE, nonce)
    return response


def register(router: APIRouter, console: Console) -> None:
    _register_login(router, console)
    _register_language_and_home(router, console)


def _register_login(router: APIRouter, console: Console) -> None:
    ctx = console.ctx

    @router.get("/login", name="console-login")
    async def login_form(request: Request) -> Response:
        return login_page(request, console)

    @router.post("/login", name="console-login-post")
    async def login(request: Request) -> Response:
        fields = await request.form()
        if not tokens_match(fields.get("csrf"), request.cookies.get(LOGIN_COOKIE) or "-"):
            return login_page(request, console, error="csrf", status=403)
        token = fields.get("token")
        who = None
        if isinstance(token, str) and token.strip():
            who = await ctx.run(ctx.tokens.authenticate, token.strip())
        if who is None:
            return login_page(request, console, error="token", status=401)
        if who.role not in CONSOLE_ROLES:
            return login_page(request, console, error="role", status=403)
        session = console.sessions.open(token.strip(), who.name, who.role)  # type: ignore[union-attr]
        response = console.redirect(request, "console-home")
        _set_cookie(response, request, console, SESSION_COOKIE, session.id)
        response.delete_cookie(LOGIN_COOKIE, path=console.base(request))
        return response

    @router.post("/logout", name="console-logout")
    async def logout(request: Request, form: Annotated[Form, Depends(console.form(
            "verify:read"))]) -> Response:
        console.sessions.close(form.session.id)
        response = console.redirect(request, "console-login")
        response.delete_cookie(SESSION_COOKIE, path=console.base(request))
        return response



def _register_language_and_home(router: APIRouter, console: Console) -> None:
    ctx = console.ctx

    @router.post("/language", name="console-language")
    async def language(request: Request) -> Response:
        """The language, chosen on any page (the login page too: its own CSRF token)."""
        fields = await request.form()
        session = console.sessions.get(request.cookies.get(SESSION_COOKIE))
        expected = session.csrf if session is not None else \
            request.cookies.get(LOGIN_COOKIE) or "-"
        if not tokens_match(fields.get("csrf"), expected):
            raise Refused("csrf", session)
        wanted = fields.get("lang")
        lang = choose(wanted if isinstance(wanted, str) else None)
        back = fields.get("next")
        prefix = console.base(request)
        target = back if isinstance(back, str) and back.startswith(prefix + "/") \
            and "//" not in back and "\\" not in back else prefix + "/"
        response = Response(status_code=303, headers={"Location": target})
        _set_cookie(response, request, console, LANG_COOKIE, lang, max_age=365 * 86400)
        return response

    @router.get("/", name="console-home")
    async def home(request: Request, session: Annotated[Session, Depends(console.page(
            "verify:read"))]) -> Response:
        first = next((item for item in console.nav
                      if ctx.permissions.allows(session.role, item.permission)), None)
        if first is None:
            return console.render(request, "empty.html.j2", session)
        return console.redirect(request, first.route)


