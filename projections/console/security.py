"""What every console answer carries, and what every console form must carry.

Headers (every path under ``/console``, pages and static files alike):

- a strict Content-Security-Policy: scripts, styles, images and requests only from the
  server itself, no inline script or style, no plug-in, no frame, forms only to
  the server, no ``<base>``; htmx is served by the console (``static/htmx.min.js``)
  and configured not to inject its inline style;
- ``Cache-Control: no-store`` (pages may show personal values: no copy on disk),
  ``Referrer-Policy: same-origin`` (no URL of the console ever reaches another site;
  ``no-referrer`` would make browsers send ``Origin: null``), ``X-Content-Type-Options:
  nosniff``,
  ``X-Frame-Options: DENY``, ``Cross-Origin-Opener-Policy: same-origin`` and a
  ``Permissions-Policy`` that turns off the camera, microphone and location.

Forms: every POST carries the session's CSRF token in a hidden ``csrf`` field, compared
in constant time; a POST whose ``Origin`` header names another origin is refused too
(the cookie is already SameSite=Strict: three locks on one door).
"""

from __future__ import annotations

import hmac

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "HEADERS", "ConsoleHeaders", "local_path", "same_origin", "tokens_match"]

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",  # no-referrer would make the browser send "Origin: null"
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def local_path(scope: Scope) -> str:
    """The path within the app (without the ``/ledgers/NAME`` prefix of a routing file)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


class ConsoleHeaders:
    """ASGI middleware: :data:`HEADERS` on every answer under ``prefix``."""

    def __init__(self, app: ASGIApp, prefix: str = "/console") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = local_path(scope) if scope["type"] == "http" else ""
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def tokens_match(sent: object, expected: str) -> bool:
    """A form's CSRF token against the session's, in constant time."""
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), expected.encode())


def same_origin(origin: str | None, host: str | None, scheme: str) -> bool:
    """A POST's ``Origin`` header (when the browser sends one) names this server."""
    if origin is None:
        return True
    return host is not None and origin == f"{scheme}://{host}"
