"""A person's legal acts: a rights request recorded and answered, the erasure (issue 12).

``GET /console/person/{p}/requests`` (events:append) shows the person's open requests,
a form to record a new one (``RightsRequestReceived``) and, for each open request, a
form for its answer (``RightsRequestFulfilled``, ``…Refused`` or ``…Extended``).
``GET /console/person/{p}/erase`` (subjects:erase) states what erasing would destroy
(the ledger's erasure preview: keys, categories, events made unreadable, legal holds)
and asks for a ground and a confirmation; ``POST`` erases as ``POST
/v1/subjects/{ref}/erase`` does.  Every event is parsed by the API's parser (the
token's name is the actor) and appended through the group commit; bad input
re-renders the form with 422 naming the field and the rule, and stores nothing.
"""

# No `from __future__ import annotations`: FastAPI reads the route annotations at run time.

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ledger.app.actors import token_drafts
from ledger.app.erasing import erasure_drafts
from ledger.errors import InputError

from .page_person_view import (
    AGAIN,
    ANSWERS,
    CHANNELS,
    GROUNDS,
    LABELS,
    NOT_THIS,
    RIGHTS,
    RULES,
    TICK,
    local_time,
    one_of,
)
from .sessions import Session
from .web import Form

if TYPE_CHECKING:
    from .page_person import PersonPages

__all__ = ["register"]

# the event's field -> the form's field, in error messages
_REQUEST_FIELDS = {"occurred_at": "received_at", "data.request_id": "request_id",
                   "data.right": "right", "data.channel": "channel", "data.details": "details"}
_ANSWER_FIELDS = {"data.summary": "text", "data.reason": "text",
                  "data.request_id": "request_id", "occurred_at": "answered_at"}


def _named(exc: InputError, names: dict[str, str]) -> InputError:
    """The error, naming the form's field rather than the event's."""
    return InputError(names.get(exc.field, exc.field.removeprefix("data.")), exc.rule)


async def identifier_of(pages: "PersonPages", form: Form, pseudonym: str) -> str:
    """The person's identifier: the one the session typed in the search, else the one
    typed in this form, checked against the page's pseudonym."""
    known, _ = pages.recall.get(form.session.id, pseudonym)
    if known is not None:
        return known
    typed = (form.get("identifier") or "").strip()
    if not typed:
        raise InputError("identifier", AGAIN)
    reader = pages.console.shared.get()
    if typed.startswith("pseudonym:") or await pages.ctx.run(reader.pseudonym,
                                                             typed) != pseudonym:
        raise InputError("identifier", NOT_THIS)
    return typed


def register(router: APIRouter, pages: "PersonPages") -> None:
    _register_requests(router, pages)
    _register_answer(router, pages)
    _register_erase(router, pages)


async def _requests_page(pages: "PersonPages", request: Request, session: Session,
                         pseudonym: str, *, error: InputError | None = None,
                         status: int = 200, which: str = "new",
                         values: dict[str, Any] | None = None) -> Response:
    """The person's open requests, each with its answer form, and the new-request form
    (``which``: the form an error belongs to)."""
    reader = pages.console.shared.get()
    ref = f"pseudonym:{pseudonym}"
    doc = await pages.ctx.run(lambda: reader.requests(subject=ref, open_only=True))
    known, _ = pages.recall.get(session.id, pseudonym)
    return pages.console.render(
        request, "person_requests.html.j2", session, status=status, error=error,
        which=which, values=values or {}, pseudonym=pseudonym,
        open_requests=doc["requests"], rights=RIGHTS, channels=CHANNELS,
        answers=list(ANSWERS), labels=LABELS, rules=RULES, ask_identifier=known is None)


def _received(values: dict[str, str], identifier: str, zone: str, now: Any) \
        -> dict[str, Any]:
    """The raw RightsRequestReceived of the new-request form."""
    data: dict[str, Any] = {k: values[k].strip() for k in ("request_id", "right", "channel")}
    if values["details"].strip():
        data["details"] = values["details"].strip()
    return {"type": "RightsRequestReceived", "subject": identifier, "data": data,
            "occurred_at": local_time(values["received_at"], "received_at", zone, now)}


def _answered(values: dict[str, str], identifier: str, zone: str, now: Any) \
        -> dict[str, Any]:
    """The raw answer (fulfilled, refused, extended) of an open request's form."""
    outcome = one_of(values["outcome"], "outcome", ANSWERS)
    text = values["text"].strip()
    data: dict[str, Any] = {"request_id": values["request_id"]}
    if text or outcome != "fulfilled":
        data["summary" if outcome == "fulfilled" else "reason"] = text
    return {"type": ANSWERS[outcome], "subject": identifier, "data": data,
            "occurred_at": local_time(None, "answered_at", zone, now)}


def _register_requests(router: APIRouter, pages: "PersonPages") -> None:
    console, ctx = pages.console, pages.ctx

    @router.get("/person/{pseudonym}/requests", name="console-person-requests")
    async def requests_form(request: Request, pseudonym: str, session: Annotated[
            Session, Depends(console.page("events:append"))]) -> Response:
        if await pages.known(pseudonym) is None:
            return pages.missing(request, session)
        return await _requests_page(pages, request, session, pseudonym)

    @router.post("/person/{pseudonym}/requests", name="console-person-request")
    async def record(request: Request, pseudonym: str, form: Annotated[
            Form, Depends(console.form("events:append"))]) -> Response:
        if await pages.known(pseudonym) is None:
            return pages.missing(request, form.session)
        values = {k: form.get(k) or "" for k in ("request_id", "right", "channel",
                                                 "received_at", "details")}
        try:
            identifier = await identifier_of(pages, form, pseudonym)
            raw = _received(values, identifier, console.zone(), ctx.ledger.clock())
            await _append(pages, form, raw, _REQUEST_FIELDS)
        except InputError as exc:
            return await _requests_page(pages, request, form.session, pseudonym,
                                        error=exc, status=422, values=values)
        return console.redirect(request, "console-person-requests", pseudonym=pseudonym)


def _register_answer(router: APIRouter, pages: "PersonPages") -> None:
    console, ctx = pages.console, pages.ctx

    @router.post("/person/{pseudonym}/answer", name="console-person-answer")
    async def answer(request: Request, pseudonym: str, form: Annotated[
            Form, Depends(console.form("events:append"))]) -> Response:
        if await pages.known(pseudonym) is None:
            return pages.missing(request, form.session)
        values = {k: form.get(k) or "" for k in ("request_id", "outcome", "text")}
        try:
            identifier = await identifier_of(pages, form, pseudonym)
            raw = _answered(values, identifier, console.zone(), ctx.ledger.clock())
            await _append(pages, form, raw, _ANSWER_FIELDS)
        except InputError as exc:
            return await _requests_page(pages, request, form.session, pseudonym,
                                        error=exc, status=422, which=values["request_id"],
                                        values=values)
        return console.redirect(request, "console-person-requests", pseudonym=pseudonym)


async def _append(pages: "PersonPages", form: Form, raw: dict[str, Any],
                  names: dict[str, str]) -> None:
    """Parse ``raw`` as POST /v1/events does (the session's token name as actor) and
    append it through the group commit; errors name the form's fields."""
    try:
        drafts = await pages.ctx.run(token_drafts, pages.ctx.ledger, [raw],
                                     form.session.name)
        await pages.ctx.append(drafts)
    except InputError as exc:
        raise _named(exc, names) from None


def _register_erase(router: APIRouter, pages: "PersonPages") -> None:
    console, ctx = pages.console, pages.ctx

    async def erase_page(request: Request, session: Session, pseudonym: str, *,
                         error: InputError | None = None, status: int = 200,
                         ground: str = "") -> Response:
        preview = await ctx.run(ctx.ledger.erasure_preview, f"pseudonym:{pseudonym}")
        known, _ = pages.recall.get(session.id, pseudonym)
        return console.render(request, "erase.html.j2", session, status=status, error=error,
                              pseudonym=pseudonym, preview=preview, grounds=GROUNDS,
                              ground=ground, labels=LABELS, rules=RULES,
                              ask_identifier=known is None)

    @router.get("/person/{pseudonym}/erase", name="console-person-erase")
    async def confirm(request: Request, pseudonym: str, session: Annotated[
            Session, Depends(console.page("subjects:erase"))]) -> Response:
        if await pages.known(pseudonym) is None:
            return pages.missing(request, session)
        return await erase_page(request, session, pseudonym)

    @router.post("/person/{pseudonym}/erase", name="console-person-erase-post")
    async def erase(request: Request, pseudonym: str, form: Annotated[
            Form, Depends(console.form("subjects:erase"))]) -> Response:
        if await pages.known(pseudonym) is None:
            return pages.missing(request, form.session)
        ground = form.get("ground") or ""
        try:
            one_of(ground, "ground", GROUNDS)
            one_of(form.get("confirm") or "", "confirm", ("yes",), TICK)
            identifier = await identifier_of(pages, form, pseudonym)
            drafts = await ctx.run(lambda: erasure_drafts(ctx.ledger, identifier,
                                                          {"ground": ground},
                                                          actor=form.session.name))
            await ctx.append(drafts)
        except InputError as exc:
            return await erase_page(request, form.session, pseudonym, status=422,
                                    ground=ground, error=_named(exc, {}))
        _, reason = pages.recall.get(form.session.id, pseudonym)
        pages.recall.put(form.session.id, pseudonym, None, reason)  # nothing to act on now
        return console.redirect(request, "console-person-page", pseudonym=pseudonym)
