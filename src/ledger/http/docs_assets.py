"""``/docs`` without the Internet: Swagger UI served from the installed packages.

FastAPI's own ``/docs`` page loads Swagger UI from a CDN, which a server on a closed
network cannot reach (and which would tell a third party who reads the docs, when).
The files of Swagger UI ship in the ``fastapi-offline`` package (``static/``); it is used
only as their source (``importlib.resources``): this module serves three of them at
``/docs/static/{name}``, and ``/docs`` is FastAPI's ``get_swagger_ui_html`` pointed at
them, with Swagger's online validator off.  Every URL of the page is on the server's
own origin (under the app's mount point: ``/ledgers/{name}/docs`` works too).
"""

# No `from __future__ import annotations` here: FastAPI evaluates the annotations of
# the nested route functions at run time.

from functools import cache
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from ledger.http.problems import Problem

__all__ = ["ASSETS", "DOCS", "asset", "mount"]

DOCS = "/docs"
PACKAGE = "fastapi_offline"          # the asset source: its static/ folder
#: the files served, and their media types
ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
          "swagger-ui.css": "text/css; charset=utf-8",
          "favicon.png": "image/png"}
CACHE = "public, max-age=86400"


@cache
def asset(name: str) -> bytes:
    """One of :data:`ASSETS`, read once from the installed package."""
    if name not in ASSETS:
        raise KeyError(name)
    return files(PACKAGE).joinpath("static", name).read_bytes()


def mount(app: FastAPI, title: str) -> None:
    """``GET /docs`` and ``GET /docs/static/{name}`` (outside the OpenAPI document)."""

    @app.get(DOCS, include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        static = f"{root}{DOCS}/static"
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{title} - Swagger UI",
            swagger_js_url=f"{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{static}/swagger-ui.css",
            swagger_favicon_url=f"{static}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None})  # no badge from swagger.io

    @app.get(DOCS + "/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in ASSETS:
            raise Problem(404, "no such file")
        return Response(asset(name), media_type=ASSETS[name],
                        headers={"Cache-Control": CACHE})
