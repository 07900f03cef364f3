"""The inquiry page (issue 12): a form for the scope of an inquiry pack, which builds it
and answers the zip as a download.

``GET /console/inquiry`` shows the form; ``POST /console/inquiry`` (permission
``subjects:export``, CSRF-checked) reads the scope with the API's rules
(:meth:`projections.inquiry.scope.Scope.parse`, fields named as ``POST /v1/inquiries``
names them) and builds the pack with the API's code (:func:`projections.inquiry.http.
pack_zip`: ``build_pack`` then a zip); the PDF is printed only when asked and the
server has Chromium, as on the API.  The subjects in scope are typed in the form (a
POST), never put in a URL.  A bad scope re-renders the form with 422, naming the field.
"""

# No `from __future__ import annotations`: FastAPI reads the route annotations at run time.

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ledger.errors import InputError

from ..inquiry.http import field_name, pack_zip
from ..inquiry.scope import Scope
from .i18n import N_
from .sessions import Session
from .web import Console, Form

__all__ = ["register"]




TEXTS = ("from", "to", "breaches", "requests", "subjects", "lang", "as_of", "known_at",
         "title", "reference")
LABELS = {"from": N_("Period from"), "to": N_("Period to"), "purposes": N_("Purposes"),
          "breaches": N_("Breaches (ids)"), "requests": N_("Rights requests (ids)"),
          "subjects": N_("Subjects in scope (one identifier a line)"),
          "lang": N_("Language of the report"), "as_of": N_("As of"),
          "known_at": N_("Known at"), "title": N_("Title"),
          "reference": N_("Reference of the inquiry")}
RULES = (N_("is required (the start of the period asked about)"),
         N_("is required (the end of the period asked about)"),
         N_("must not be later than to"),
         N_("must not be earlier than to (the registers are read as they stood at the end "
            "of the period)"),
         N_("is not a purpose of any published policy"))
_SPLIT = re.compile(r"[\s,;]+")


def _ids(text: str) -> list[str]:
    return [t for t in _SPLIT.split(text) if t]


def scope_of(values: dict[str, Any], zone: Any) -> Scope:
    """The scope from the form's values, by the API's rules (InputError names the field)."""
    return Scope.parse(
        start=values["from"] or None, end=values["to"] or None, zone=zone,
        purposes=values["purposes"], breaches=_ids(values["breaches"]),
        requests=_ids(values["requests"]),
        subjects=[s.strip() for s in values["subjects"].splitlines() if s.strip()],
        lang=values["lang"] or "fr", as_of=values["as_of"] or None,
        known_at=values["known_at"] or None, title=values["title"] or None,
        reference=values["reference"] or None, flag=field_name)


def _purposes(console: Console) -> list[dict[str, str]]:
    """The purposes of the policy in force (id, name) for the form's choices."""
    try:
        doc = console.shared.get().ropa()
    except InputError:  # no policy yet: the form offers none (every purpose)
        return []
    return [{"id": p["id"], "name": p["name"]} for p in doc["purposes"]]


def register(router: APIRouter, console: Console) -> None:
    console.add_nav("console-inquiry", N_("Inquiry"), "subjects:export")

    @router.get("/inquiry", name="console-inquiry")
    async def form(request: Request, session: Annotated[Session, Depends(console.page(
            "subjects:export"))]) -> Response:
        values: dict[str, Any] = dict.fromkeys(TEXTS, "")
        values.update(lang=console.lang(request), purposes=[], pdf=False)
        return await _page(console, request, session, values)

    @router.post("/inquiry", name="console-inquiry-post")
    async def build(request: Request, form: Annotated[Form, Depends(console.form(
            "subjects:export"))]) -> Response:
        values: dict[str, Any] = {k: (form.get(k) or "").strip() for k in TEXTS}
        values["subjects"] = form.get("subjects") or ""
        values["purposes"] = [p for p in form.fields.getlist("purposes") if isinstance(p, str)]
        values["pdf"] = form.get("pdf") == "true"
        try:
            scope = scope_of(values, console.zone)
            data = await console.ctx.run(lambda: pack_zip(console.shared.get(), scope,
                                                          pdf=values["pdf"]))
        except InputError as exc:
            return await _page(console, request, form.session, values, error=exc)
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": 'attachment; filename="inquiry.zip"'})


async def _page(console: Console, request: Request, session: Session,
                values: dict[str, Any], *, error: InputError | None = None) -> Response:
    purposes = await console.ctx.run(lambda: _purposes(console))
    return console.render(request, "inquiry.html.j2", session,
                          status=200 if error is None else 422, values=values,
                          purposes=purposes, error=error, labels=LABELS)
