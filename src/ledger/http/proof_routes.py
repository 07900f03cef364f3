"""Evidence for auditors over HTTP: the latest signed checkpoint and Merkle proofs.

    GET /v1/checkpoints/latest             checkpoints:read (auditor, dpo)
    GET /v1/checkpoints/cosigned           checkpoints:read: the newest one witnesses cosigned
    GET /v1/proofs/inclusion/{seq}?size=   proofs:read      (auditor, dpo)
    GET /v1/proofs/consistency?old=&new=   proofs:read      (auditor, dpo)

The answers are those of ``ledger checkpoint --list`` (last one), ``ledger prove
SEQ --json`` and ``ledger prove --consistency OLD NEW --json``: no personal data,
only sizes and hashes.  A checkpoint is answered as JSON, or as the signed note
itself (C2SP tlog-checkpoint) when the client accepts ``text/plain`` only.
"""

# No `from __future__ import annotations` here: FastAPI evaluates the annotations of
# the nested route functions at run time, and they name local variables (ctx).

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from ledger.app.proofs import Prover, prover_of
from ledger.app.proving import latest_checkpoint_of
from ledger.app.tokens import Principal
from ledger.app.witnessing import latest_cosigned_of
from ledger.errors import InputError
from ledger.http.context import SERVED_BY, RouteContext
from ledger.http.problems import Problem
from ledger.http.schemas import json_response, problems

__all__ = ["register"]

AUTH = (401, 403)
HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
CHECKPOINT: dict[str, Any] = {"type": "object", "properties": {
    "tree_size": {"type": "integer"}, "root": HEX, "note": {"type": "string"},
    "created_at": {"type": "string"}}}
COSIGNED: dict[str, Any] = {"type": "object", "properties": {
    **CHECKPOINT["properties"], "cosignatures": {"type": "integer"}}}
INCLUSION: dict[str, Any] = {"type": "object", "properties": {
    "seq": {"type": "integer"}, "leaf_index": {"type": "integer"},
    "tree_size": {"type": "integer"}, "leaf_hash": HEX, "root": HEX,
    "path": {"type": "array", "items": HEX}}}
CONSISTENCY: dict[str, Any] = {"type": "object", "properties": {
    "old_size": {"type": "integer"}, "new_size": {"type": "integer"}, "old_root": HEX,
    "new_root": HEX, "path": {"type": "array", "items": HEX}}}
# the CLI's argument names, as the HTTP parameters are named
_PARAMS = {"SEQ": "seq", "--size": "size", "OLD": "old", "NEW": "new"}


def _renamed(exc: InputError) -> InputError:
    return type(exc)(_PARAMS.get(exc.field, exc.field), exc.rule)


#: ?min_seq=N: the answer must see entry N (a receipt just returned); docs/OPERATIONS.md
MIN_SEQ = Query(ge=1, description="serve from a replica only once it holds this entry "
                "(else, after a bounded wait, from the primary); the `Ledger-Served-By` "
                "header says which served")


def register(router: APIRouter, ctx: RouteContext) -> None:
    _register_checkpoints(router, ctx)
    _register_cosigned(router, ctx)
    _register_proofs(router, ctx, prover_of(ctx.ledger))


def _register_checkpoints(router: APIRouter, ctx: RouteContext) -> None:
    @router.get("/checkpoints/latest", summary="The latest signed checkpoint",
                description="The stored checkpoint of the largest tree size (`ledger "
                "checkpoint` signs one). JSON, or the C2SP signed note itself when the "
                "request accepts `text/plain` only. 404 when none was signed yet.",
                responses={200: {"description": "the checkpoint", "content": {
                    "application/json": {"schema": CHECKPOINT},
                    "text/plain": {"schema": {"type": "string"}}}},
                           **problems(*AUTH, 404, 422, 503)})
    async def latest(request: Request, _: Annotated[
            Principal, Depends(ctx.require("checkpoints:read"))],
            min_seq: Annotated[int | None, MIN_SEQ] = None) -> Response:
        cp, by = await ctx.read(latest_checkpoint_of, min_seq)
        if cp is None:
            raise Problem(404, "no checkpoint has been signed yet (ledger checkpoint)",
                          headers={SERVED_BY: by})
        return _note_or_json(request, cp, {SERVED_BY: by})


def _register_cosigned(router: APIRouter, ctx: RouteContext) -> None:
    @router.get("/checkpoints/cosigned", summary="The newest checkpoint witnesses cosigned",
                description="The largest checkpoint with at least one witness cosignature "
                "(C2SP tlog-cosignature), its note carrying every cosignature stored "
                "(`ledger checkpoint --cosigned`). JSON, or the note itself when the request "
                "accepts `text/plain` only. 404 when no witness cosigned one yet.",
                responses={200: {"description": "the cosigned checkpoint", "content": {
                    "application/json": {"schema": COSIGNED},
                    "text/plain": {"schema": {"type": "string"}}}},
                           **problems(*AUTH, 404, 503)})
    async def cosigned(request: Request, _: Annotated[
            Principal, Depends(ctx.require("checkpoints:read"))]) -> Response:
        cp = await ctx.run(latest_cosigned_of, ctx.ledger)
        if cp is None:
            raise Problem(404, "no checkpoint has been cosigned yet (ledger witness attach)")
        return _note_or_json(request, cp, {})


def _note_or_json(request: Request, cp: dict[str, Any], headers: dict[str, str]) -> Response:
    """The C2SP note itself when the request accepts ``text/plain`` only, else JSON."""
    accept = request.headers.get("accept", "")
    if "text/plain" in accept and "json" not in accept:
        return PlainTextResponse(cp["note"], headers=headers)
    return JSONResponse(cp, headers=headers)


def _register_proofs(router: APIRouter, ctx: RouteContext, prover: Prover) -> None:
    @router.get("/proofs/inclusion/{seq}", summary="Inclusion proof of one entry (RFC 9162)",
                description="Proves entry `seq` is leaf `seq - 1` of the tree of `size` "
                "entries (default: the whole ledger). 404 when `seq` (without `size`) or "
                "`size` is larger than the ledger; 422 when `seq` is larger than `size` "
                "(a rule between two parameters, which the schema cannot state).",
                responses={200: json_response("the proof", INCLUSION),
                           **problems(*AUTH, 404, 422, 503)})
    async def inclusion(seq: Annotated[int, Path(ge=1)],
                        _: Annotated[Principal, Depends(ctx.require("proofs:read"))],
                        size: Annotated[int | None, Query(ge=1)] = None,
                        min_seq: Annotated[int | None, MIN_SEQ] = None) -> JSONResponse:
        try:
            need = max(min_seq or 1, seq if size is None else size)  # a replica holding it
            out, by = await ctx.read(lambda led: _prover(led).inclusion(seq, size), need)
            return JSONResponse(out, headers={SERVED_BY: by})
        except InputError as exc:
            raise await _beyond_head(exc, seq if size is None else size) from None

    @router.get("/proofs/consistency",
                summary="Consistency proof between two tree sizes (RFC 9162)",
                description="Proves the tree of `old` entries is a prefix of the tree of "
                "`new` entries (default: the whole ledger). 404 when `new` (or `old` "
                "without `new`) is larger than the ledger; 422 when `old` is larger than "
                "`new` (a rule between two parameters, which the schema cannot state).",
                responses={200: json_response("the proof", CONSISTENCY),
                           **problems(*AUTH, 404, 422, 503)})
    async def consistency(_: Annotated[Principal, Depends(ctx.require("proofs:read"))],
                          old: Annotated[int, Query(ge=1)],
                          new: Annotated[int | None, Query(ge=1)] = None,
                          min_seq: Annotated[int | None, MIN_SEQ] = None) -> JSONResponse:
        try:
            need = max(min_seq or 1, old if new is None else new)
            out, by = await ctx.read(lambda led: _prover(led).consistency(old, new), need)
            return JSONResponse(out, headers={SERVED_BY: by})
        except InputError as exc:
            raise await _beyond_head(exc, old if new is None else new) from None

    def _prover(led: Any) -> Prover:
        return prover if led is ctx.ledger else prover_of(led)

    async def _beyond_head(exc: InputError, size: int) -> Exception:
        """404 when the tree asked for is larger than the ledger (``size``: the seq or
        size that must not exceed the head); else the 422 of a rule between two
        parameters (seq ≤ size, old ≤ new)."""
        head, _ = await ctx.run(ctx.ledger.head)
        if size > head:
            field = _PARAMS.get(exc.field, exc.field)
            return Problem(404, f"{field}: the ledger holds {head} entries",
                           field=field, rule=f"must be at most the ledger's size ({head})")
        return _renamed(exc)
