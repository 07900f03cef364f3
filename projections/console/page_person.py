"""A person: the search by identifier, the person's page, the exports (issue 12).

``GET /console/person`` shows the search form; ``POST /console/person`` turns the
identifier typed (never in a URL, a log or a title) into the person's pseudonym and
answers 303 to ``/console/person/{pseudonym}``.  An identifier the ledger does not
know is answered 404, naming the field, with no pseudonym shown.

The person's page shows decrypted values: the read is recorded first
(``PersonalDataAccessed``: the session's token name, the reason typed with the search
when the server's ``LEDGER_REQUIRE_REASON`` asks for one), as ``GET
/v1/subjects/{ref}/export`` does; so is each download (JSON, CSV in a zip, XLSX).
The legal acts (rights requests, erasure) are in :mod:`.page_person_acts`.
"""

# No `from __future__ import annotations`: FastAPI reads the route annotations at run time.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from ledger.app.accesses import REASON_SETTING, check_text
from ledger.app.actors import token_reader
from ledger.domain.events import MAX_SUBJECT
from ledger.errors import InputError

from ..http import recorded_export
from ..portability import export_zip
from . import page_person_acts
from .i18n import N_
from .page_person_view import (
    LABELS,
    PSEUDONYM,
    RULES,
    UNKNOWN,
    Recall,
    export_xlsx,
    person_view,
)
from .sessions import Session
from .web import Console, Form

__all__ = ["register"]

REASON_FIELD = "reason"
FILES = {"json": ("application/json", "json"), "csv": ("application/zip", "zip"),
         "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "xlsx")}




class PersonPages:
    """The reads the Person pages share (the console, the identifiers typed)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.ctx = console.ctx
        self.recall = Recall()

    @property
    def env(self) -> Any:
        return self.ctx.ledger.env

    def reason_required(self) -> bool:
        return str(self.env.get(REASON_SETTING, "")) in ("1", "true", "yes")

    def search_page(self, request: Request, session: Session, *, error: InputError | None
                    = None, status: int = 200, note: str | None = None) -> Response:
        return self.console.render(request, "person_search.html.j2", session, status=status,
                                   error=error, note=note, rules=RULES,
                                   ask_reason=self.reason_required())

    async def known(self, pseudonym: str) -> str | None:
        """``pseudonym:<hex>`` when the ledger knows that person, else None."""
        if not PSEUDONYM.match(pseudonym):
            return None
        ref = f"pseudonym:{pseudonym}"
        reader = self.console.shared.get()
        return ref if await self.ctx.run(reader.known, ref) else None

    def missing(self, request: Request, session: Session) -> Response:
        return self.search_page(request, session, status=404, error=InputError(
            "identifier", UNKNOWN))

    async def read(self, session: Session, pseudonym: str, ref: str) -> dict[str, Any]:
        """The person's export, its read recorded first (InputError: a reason lacks)."""
        _, reason = self.recall.get(session.id, pseudonym)
        by = token_reader(session.name, reason, REASON_FIELD, self.env)
        return await recorded_export(self.ctx, self.console.shared, ref, by)


def register(router: APIRouter, console: Console) -> None:
    pages = PersonPages(console)
    console.add_nav("console-person", N_("A person"), "subjects:export")
    _register_search(router, pages)
    _register_person(router, pages)
    _register_exports(router, pages)
    page_person_acts.register(router, pages)


def _register_search(router: APIRouter, pages: PersonPages) -> None:
    console = pages.console

    @router.get("/person", name="console-person")
    async def search_form(request: Request, session: Annotated[Session, Depends(
            console.page("subjects:export"))]) -> Response:
        return pages.search_page(request, session)

    @router.post("/person", name="console-person-search")
    async def search(request: Request, form: Annotated[Form, Depends(console.form(
            "subjects:export"))]) -> Response:
        session = form.session
        identifier = (form.get("identifier") or "").strip()
        reason = (form.get(REASON_FIELD) or "").strip() or None
        try:
            check_text(identifier, "identifier", MAX_SUBJECT)
            token_reader(session.name, reason, REASON_FIELD, pages.env)
        except InputError as exc:
            return pages.search_page(request, session, error=exc, status=422)
        reader = console.shared.get()
        if not await pages.ctx.run(reader.known, identifier):
            return pages.missing(request, session)
        pseudonym = await pages.ctx.run(reader.pseudonym, identifier)
        typed = None if identifier.startswith("pseudonym:") else identifier
        pages.recall.put(session.id, pseudonym, typed, reason)
        return console.redirect(request, "console-person-page", pseudonym=pseudonym)


def _register_person(router: APIRouter, pages: PersonPages) -> None:
    console, ctx = pages.console, pages.ctx

    @router.get("/person/{pseudonym}", name="console-person-page")
    async def person(request: Request, pseudonym: str, session: Annotated[
            Session, Depends(console.page("subjects:export"))]) -> Response:
        ref = await pages.known(pseudonym)
        if ref is None:
            return pages.missing(request, session)
        try:
            doc = await pages.read(session, pseudonym, ref)
        except InputError:  # a reason is required and none was given with a search
            return pages.search_page(request, session, note="reason")
        reader = console.shared.get()

        def registers() -> tuple[Any, ...]:
            return (reader.consent(ref), reader.retention(subject=ref),
                    reader.requests(subject=ref), reader.accesses(subject=ref))

        view = person_view(doc, *await ctx.run(registers))
        role = session.role
        return console.render(
            request, "person.html.j2", session, pseudonym=pseudonym, labels=LABELS, rules=RULES,
            can_append=ctx.permissions.allows(role, "events:append"),
            can_erase=ctx.permissions.allows(role, "subjects:erase"), **view)


def _register_exports(router: APIRouter, pages: PersonPages) -> None:
    console = pages.console

    @router.get("/person/{pseudonym}/export/{fmt}", name="console-person-export")
    async def export(request: Request, pseudonym: str, fmt: str, session: Annotated[
            Session, Depends(console.page("subjects:export"))]) -> Response:
        ref = await pages.known(pseudonym)
        if ref is None or fmt not in FILES:
            return pages.missing(request, session)
        try:
            doc = await pages.read(session, pseudonym, ref)
        except InputError:
            return pages.search_page(request, session, note="reason")
        media, suffix = FILES[fmt]
        name = {"Content-Disposition": f'attachment; filename="export-{pseudonym[:12]}.'
                f'{suffix}"'}
        if fmt == "json":
            return JSONResponse(doc, headers=name)
        body = export_zip(doc) if fmt == "csv" else export_xlsx(doc)
        return Response(body, media_type=media, headers=name)
