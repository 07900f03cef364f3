"""The console's machinery: templates, languages, the session guard, CSRF-checked forms.

A page module is a function ``register(router, console)`` (see ``__init__.PAGES``)
that adds routes to the console's router (under ``/console``) with two dependencies:

- ``Depends(console.page("permission"))`` gives a GET route the caller's
  :class:`Session` — or sends the browser to the login page, or answers a 403 page
  when the session's role lacks the permission (the permission table of the API,
  :mod:`ledger.http.roles`: the console shows nothing the role may not read there);
- ``Depends(console.form("permission"))`` does the same for a POST and checks its
  CSRF token and its ``Origin``; it gives a :class:`Form` (the session and the fields).

``console.render(request, "page.html.j2", session, **values)`` answers the page, in the
session's language (French unless the person chose English), with times in the
policy's zone (filters ``when``, ``day``; numbers: ``num``).  A page that shows
personal values records the read first, as the API does (``console.record_reads``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData

from ledger import __version__

from ..http import SharedReader, shared_reader
from ..inquiry.render import show_time
from .i18n import LANGUAGES, LOCALES, choose, translations
from .security import local_path, same_origin, tokens_match
from .sessions import Session, SessionStore

__all__ = ["LANG_COOKIE", "SESSION_COOKIE", "Console", "Form", "LoginNeeded", "NavItem",
           "Refused", "env_minutes"]

SESSION_COOKIE = "ledger_console"
LANG_COOKIE = "ledger_lang"
LOGIN_COOKIE = "ledger_login"   # the login form's CSRF token, before there is a session


class LoginNeeded(Exception):
    """No live session: the browser goes to the login page."""


class Refused(Exception):
    """A 403 page: the role may not, or a form came without its CSRF token."""

    def __init__(self, why: str, session: Session | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.session = session


@dataclass(frozen=True, slots=True)
class Form:
    """A POST that passed the guard: who sent it, and its fields."""

    session: Session
    fields: FormData

    def get(self, name: str) -> str | None:
        value = self.fields.get(name)
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class NavItem:
    """A page of the navigation: its route name, label (English text) and permission."""

    route: str
    label: str
    permission: str


def env_minutes(env: Mapping[str, str], name: str, default: int) -> timedelta:
    raw = env.get(name)
    if raw is None:
        return timedelta(minutes=default)
    if not raw.isdigit() or not 1 <= int(raw) <= 24 * 60:
        from ledger.errors import ConfigError  # noqa: PLC0415

        raise ConfigError(f"{name} must be a number of minutes from 1 to 1440")
    return timedelta(minutes=int(raw))


@cache
def _environment(lang: str) -> Environment:
    env = Environment(loader=PackageLoader("projections.console", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


class Console:
    """One ledger's console: its sessions, its reader, its navigation."""

    prefix = "/console"

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        env = ctx.ledger.env
        self.sessions = SessionStore(idle=env_minutes(env, "LEDGER_CONSOLE_IDLE_MINUTES", 15),
                                     lifetime=env_minutes(env, "LEDGER_CONSOLE_MAX_MINUTES",
                                                          8 * 60))
        self.shared: SharedReader = shared_reader(ctx)
        self.nav: list[NavItem] = []

    # -- pages ------------------------------------------------------------------------
    def add_nav(self, route: str, label: str, permission: str) -> None:
        self.nav.append(NavItem(route, label, permission))

    def lang(self, request: Request) -> str:
        return choose(request.cookies.get(LANG_COOKIE))

    def owns(self, request: Request) -> bool:
        """The request is for a path of the console."""
        path = local_path(request.scope)
        return path == self.prefix or path.startswith(self.prefix + "/")

    def zone(self) -> str:
        return self.shared.zone()

    def render(self, request: Request, template: str, session: Session | None,
               status: int = 200, **values: Any) -> HTMLResponse:
        lang = self.lang(request)
        zone = self.zone()
        locale = LOCALES[lang]

        def url(name: str, **params: Any) -> str:
            return self.path(request, name, **params)

        env = _environment(lang)
        page = env.get_template(template).render(
            request=request, session=session, lang=lang, languages=LANGUAGES, zone=zone,
            version=__version__, ledger_name=self.ctx.name, url=url,
            static=lambda path: url("console-static", path=path),
            nav=[item for item in self.nav if session is not None
                 and self.ctx.permissions.allows(session.role, item.permission)],
            here=request.scope.get("route") and getattr(request.scope["route"], "name", None),
            when=lambda t: show_time(t, zone, lang), num=lambda n: _number(n, locale),
            csrf=session.csrf if session is not None else "", **values)
        return HTMLResponse(page, status_code=status)

    def root(self, request: Request) -> str:
        """The app's prefix: ``/ledgers/NAME`` under a routing file, else empty."""
        return str(request.scope.get("root_path", ""))

    def base(self, request: Request) -> str:
        """The console's own path (the cookies' path, the registers' links)."""
        return self.root(request) + self.prefix

    def path(self, request: Request, name: str, **params: Any) -> str:
        """The path of a console route, under the ledger's prefix when there is one
        (``/ledgers/NAME``: a routing file).  Not ``request.url_for``: it searches the
        top app's routes, where every ledger's console has the same route names."""
        return self.root(request) + str(request.app.url_path_for(name, **params))

    def redirect(self, request: Request, name: str, **params: Any) -> Response:
        """303 See Other to a console route (after a POST: the browser GETs it)."""
        return RedirectResponse(self.path(request, name, **params), status_code=303)

    # -- guards -----------------------------------------------------------------------
    async def _session(self, request: Request, permission: str) -> Session:
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE))
        if session is None:
            raise LoginNeeded
        who = await self.ctx.run(self.ctx.tokens.authenticate, session.token)
        if who is None:  # revoked since the login: the session ends with it
            self.sessions.close(session.id)
            raise LoginNeeded
        request.state.actor = who.name  # the access log names the token, as on the API
        if not self.ctx.permissions.allows(session.role, permission):
            raise Refused("role", session)
        return session

    def page(self, permission: str) -> Callable[[Request], Coroutine[Any, Any, Session]]:
        """A GET route's dependency: the session whose role holds ``permission``."""
        self.ctx.permissions.roles(permission)  # a typo fails when the page is registered

        async def guard(request: Request) -> Session:
            return await self._session(request, permission)

        return guard

    def form(self, permission: str) -> Callable[[Request], Coroutine[Any, Any, Form]]:
        """A POST route's dependency: the session, its CSRF token checked, the fields."""
        self.ctx.permissions.roles(permission)

        async def guard(request: Request) -> Form:
            session = await self._session(request, permission)
            fields = await request.form()
            if not tokens_match(fields.get("csrf"), session.csrf) or not same_origin(
                    request.headers.get("origin"), request.headers.get("host"),
                    request.url.scheme):
                raise Refused("csrf", session)
            return Form(session, fields)

        return guard


def _number(n: float | None, locale: str) -> str:
    return "—" if n is None else format_decimal(n, locale=locale)

