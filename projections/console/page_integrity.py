"""The integrity page (auditor and DPO): verification, checkpoints, a proof, the key.

``GET /console/integrity`` (``verify:read``; the auditor's and the DPO's) shows the last
verification with a "Verify now" button, the latest signed checkpoint (its note as
signed, size, root, time, witness cosignatures), the verifier key to copy (and
``GET /console/integrity/ledger.pub``, the ``ledger pubkey`` file), and, for a ``seq``
typed in its form (``?seq=N``: a position, not personal data), the inclusion proof of
that entry: its leaf hash, the audit path, and whether it verifies against the signed
checkpoint with the pure verifier of :mod:`ledger.trust`.  A ``seq`` that is not an
entry of the ledger: the page again, status 422, naming ``seq`` and the rule.

``POST /console/verify`` (the same permission, CSRF-checked) runs ``ledger verify``
through the server's runner and goes back to the page it came from (overview or
integrity).  It appends nothing and shows no personal value: the verdict is counts,
hashes and a reason.
"""

# No `from __future__ import annotations`: FastAPI reads the route annotations at run time.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response

from ledger.errors import InputError

from .i18n import N_
from .integrity_facts import (
    checkpoint_facts,
    inclusion_facts,
    parse_seq,
    verifications,
    verifier_key,
)
from .sessions import Session
from .web import Console, Form

__all__ = ["register"]

PERMISSION = "verify:read"
BACK = ("console-overview", "console-integrity")




def register(router: APIRouter, console: Console) -> None:
    console.add_nav("console-integrity", N_("Integrity"), PERMISSION)
    ctx = console.ctx

    @router.get("/integrity", name="console-integrity")
    async def integrity(request: Request,
                        session: Annotated[Session, Depends(console.page(PERMISSION))],
                        seq: Annotated[str | None, Query()] = None) -> Response:
        def read() -> dict[str, Any]:
            facts = checkpoint_facts(ctx.ledger)
            key = verifier_key(ctx.ledger)
            out: dict[str, Any] = {"integrity": facts, "key": key, "proof": None,
                                   "error": None}
            try:
                wanted = parse_seq(seq, facts["head"])
            except InputError as exc:
                out["error"] = exc
                return out
            if wanted is not None:
                out["proof"] = inclusion_facts(ctx.ledger, wanted, key)
            return out
        values = await ctx.run(read)
        return console.render(request, "integrity.html.j2", session,
                              status=422 if values["error"] else 200, seq=seq or "",
                              **verifications(ctx).shown(), **values)

    @router.get("/integrity/ledger.pub", name="console-pubkey")
    async def pubkey(_s: Annotated[Session, Depends(console.page(PERMISSION))]) -> Response:
        key = await ctx.run(verifier_key, ctx.ledger)
        if key is None:
            return PlainTextResponse("no verifier key yet (ledger init)\n", status_code=404)
        return PlainTextResponse(key + "\n", headers={
            "Content-Disposition": 'attachment; filename="ledger.pub"'})

    @router.post("/verify", name="console-verify")
    async def verify(request: Request,
                     form: Annotated[Form, Depends(console.form(PERMISSION))]) -> Response:
        await verifications(ctx).run()
        back = form.get("back")
        return console.redirect(request, back if back in BACK else "console-integrity")
