"""The core routes under /v1: append, verify, erase (health and readiness:
:mod:`ledger.http.ops`).

Registered like any plugin's routes (``register(router, ctx)``); see
:mod:`ledger.http.context`.
"""

# No `from __future__ import annotations` here: FastAPI evaluates the annotations of
# the nested route functions at run time, and they name local variables (ctx).

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from ledger.app.actors import check_token_actors, token_drafts
from ledger.app.erasing import ERASURE_FIELDS, erasure_drafts
from ledger.app.tokens import Principal
from ledger.errors import ConflictError, InputError
from ledger.http.body import read_json
from ledger.http.context import SERVED_BY, RouteContext
from ledger.http.fields import UNKNOWN
from ledger.http.params import subject_schema
from ledger.http.problems import URN, Problem, input_problem
from ledger.http.schemas import (
    ERASE_SCHEMA,
    EVENTS_BODY,
    RECEIPT,
    RECEIPTS,
    VERIFICATION,
    json_response,
    problems,
)

__all__ = ["check_actors", "register"]

AUTH_ERRORS = (401, 403)
#: the actor rule of the API, now in the application (ledger.app.actors); kept importable
check_actors = check_token_actors


def _receipts_response(receipts: list[Any], *, batch: bool) -> JSONResponse:
    body = [dict(r.as_dict(), new=r.new) for r in receipts]
    status = 201 if any(r.new for r in receipts) else 200
    return JSONResponse(body if batch else body[0], status_code=status)


def register(router: APIRouter, ctx: RouteContext) -> None:
    _register_events(router, ctx)
    _register_erase(router, ctx)
    _register_verify(router, ctx)


def _events_in(raw: Any, ctx: RouteContext) -> list[Any]:
    """The events of a POST /events body: one object or a non-empty array, within limits."""
    if not isinstance(raw, list | dict):
        raise Problem(422, "body: must be an event object or an array of events",
                      field="body", rule="must be an event object or an array of events")
    raws = raw if isinstance(raw, list) else [raw]
    if not raws:
        raise Problem(422, "body: must hold at least one event", field="body",
                      rule="must hold at least one event")
    if len(raws) > ctx.limits.max_events:
        raise Problem(413, f"at most {ctx.limits.max_events} events per request",
                      field="body", rule=f"must hold at most {ctx.limits.max_events} "
                      "events")
    return raws


def _erasure_fields(body: Any) -> dict[str, Any]:
    """The optional fields of an erasure request (an object of ERASURE_FIELDS only)."""
    if not isinstance(body, dict):
        raise Problem(422, "body: must be an object", field="body",
                      rule="must be an object")
    for key in body:
        if key not in ERASURE_FIELDS:
            rule = "is not a field of an erasure (ground, request_id, event_id, " \
                   "occurred_at)"
            raise Problem(422, f"{UNKNOWN}: {rule}", type_=URN + "invalid-input",
                          title="Invalid request", field=UNKNOWN, rule=rule)
    return body


def _register_events(router: APIRouter, ctx: RouteContext) -> None:
    ledger = ctx.ledger

    @router.post(
        "/events", summary="Append one event or a batch, all or nothing",
        description="The body is one event object or a JSON array of them (at most "
        f"{ctx.limits.max_events}; at most {ctx.limits.max_body_bytes} bytes). The answer "
        "has the same shape: one receipt or an array of receipts, in order. 201 when at "
        "least one event was stored, 200 when every `event_id` was already stored (a "
        "retry); in a mixed batch (201) `new` tells which receipts are new. 409 when an "
        "`event_id` is already stored with different content (the problem names the "
        "`event_id` and the first differing `field`; nothing is stored).",
        openapi_extra={"requestBody": EVENTS_BODY},
        responses={200: json_response("every event was already stored", RECEIPTS),
                   201: json_response("at least one event was stored", RECEIPTS),
                   **problems(400, *AUTH_ERRORS, 409, 413, 415, 422, 503)},
        status_code=201, response_class=JSONResponse)
    async def post_events(request: Request, who: Annotated[
            Principal, Depends(ctx.require("events:append"))]) -> JSONResponse:
        raw = await read_json(request, ctx.limits.max_body_bytes)
        batch = isinstance(raw, list)
        raws = _events_in(raw, ctx)
        try:
            drafts = await ctx.run(token_drafts, ledger, raws, who.name)
            receipts = await ctx.append(drafts)
        except InputError as exc:
            raise input_problem(exc, batch=batch) from None
        return _receipts_response(receipts, batch=batch)


def _register_erase(router: APIRouter, ctx: RouteContext) -> None:
    ledger = ctx.ledger

    @router.post(
        "/subjects/{ref:path}/erase", summary="Erase a subject (SubjectErased)",
        description="Records `SubjectErased` for the subject `ref` (its identifier, "
        "URL-encoded) and destroys its data keys. Optional body: `ground` (default "
        "`no_longer_necessary`), `request_id`, `event_id` (a retry with the same id "
        "answers 200 with the stored receipt), `occurred_at` (default now; at most 5 "
        "minutes after the ledger's clock, a rule on the server's clock the schema cannot "
        "state: 422).",
        openapi_extra={"requestBody": ERASE_SCHEMA},
        responses={200: json_response("already erased with this event_id", RECEIPT),
                   201: json_response("erased", RECEIPT),
                   # 404: a `ref` with a line break matches no route
                   **problems(400, *AUTH_ERRORS, 404, 409, 413, 415, 422, 503)},
        status_code=201, response_class=JSONResponse)
    async def erase(ref: Annotated[str, Path(json_schema_extra=subject_schema())],
                    request: Request, who: Annotated[
            Principal, Depends(ctx.require("subjects:erase"))]) -> JSONResponse:
        given = _erasure_fields(await read_json(request, ctx.limits.max_body_bytes, empty={}))
        try:
            drafts = await ctx.run(lambda: erasure_drafts(ledger, ref, given, actor=who.name))
            receipts = await ctx.append(drafts)
        except InputError as exc:
            field = exc.field.removeprefix("data.")
            if isinstance(exc, ConflictError):
                raise input_problem(exc) from None
            raise input_problem(type(exc)(field, exc.rule)) from None
        return _receipts_response(receipts, batch=False)


def _register_verify(router: APIRouter, ctx: RouteContext) -> None:
    @router.get(
        "/verify", summary="Verify the whole chain (ledger verify --json)",
        description="Runs `ledger verify` in a child process, one run at a time; a request "
        "made while a run is going waits and shares the next run. 200 with `ok: false` "
        "when the chain does not verify.",
        responses={200: json_response("the verdict", VERIFICATION),
                   **problems(*AUTH_ERRORS, 503)})
    async def verify(_: Annotated[Principal, Depends(ctx.require("verify:read"))]) \
            -> JSONResponse:
        result, by = await ctx.verifier.run_served()
        return JSONResponse(result, headers={SERVED_BY: by})
