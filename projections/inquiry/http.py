"""``POST /v1/inquiries`` (DPO role): builds an inquiry pack and answers it as a zip.

The body names the scope as ``ledger inquiry`` does (``from``, ``to``, ``purposes``,
``subjects``…); a bad value is answered 422 naming the field.  ``reveal`` is not offered
over HTTP: the values of subjects in scope are shown only by the CLI, whose read is
recorded before anything is written (docs/DECISIONS.md 56).
"""

# No `from __future__ import annotations`: FastAPI reads the route annotations at run time.

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ledger.app.tokens import Principal
from ledger.http.schemas import problems

from .build import build_pack
from .scope import Scope

__all__ = ["register_inquiry"]


class InquiryBody(BaseModel):
    """The scope of an inquiry (the options of ``ledger inquiry``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: str = Field(alias="from", description="start of the period (RFC 3339 or "
                       "YYYY-MM-DD: the start of that day in the policy's time zone)")
    end: str = Field(alias="to", description="end of the period (a date: its end)")
    purposes: list[str] = Field(default_factory=list, max_length=64)
    subjects: list[str] = Field(default_factory=list, max_length=1000,
                                description="identifiers or pseudonym:<hex>; others appear "
                                "as counts only")
    breaches: list[str] = Field(default_factory=list, max_length=1000)
    requests: list[str] = Field(default_factory=list, max_length=1000)
    lang: str = Field("fr", description="fr (default) or en")
    as_of: str | None = None
    known_at: str | None = None
    title: str | None = None
    reference: str | None = None
    pdf: bool = Field(True, description="print the PDF too (when chromium is installed)")


def _zip(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(folder).as_posix())
    return buf.getvalue()


def register_inquiry(router: APIRouter, ctx: Any, shared: Any) -> None:
    """Add ``POST /v1/inquiries``."""

    @router.post("/inquiries", summary="Build a CNIL inquiry pack (ledger inquiry)",
                 description="The pack of docs/FORMAT.md §16 as a zip: the report (HTML, "
                 "and PDF when the server has chromium), the registers (XLSX, CSV), "
                 "figures.json and evidence/ (audit bundle, checkpoint, proofs). Check it "
                 "offline with `ledger verify --inquiry DIR`.",
                 responses={200: {"description": "the pack", "content": {
                     "application/zip": {"schema": {"type": "string", "format": "binary"}}}},
                     **problems(401, 403, 422, 503)})
    async def inquiries(body: InquiryBody,
                        _: Annotated[Principal, Depends(ctx.require("subjects:export"))],
                        ) -> Response:
        scope = Scope.parse(start=body.start, end=body.end, zone=shared.zone,
                            purposes=body.purposes, subjects=body.subjects,
                            breaches=body.breaches, requests=body.requests, lang=body.lang,
                            as_of=body.as_of, known_at=body.known_at, title=body.title,
                            reference=body.reference, flag=lambda n: n.replace("-", "_"))

        def build() -> bytes:
            with tempfile.TemporaryDirectory(prefix="ledger-inquiry-") as tmp:
                out = Path(tmp) / "pack"
                build_pack(shared.get(), scope, out, pdf=body.pdf)
                return _zip(out)
        data = await ctx.run(build)
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": 'attachment; filename="inquiry.zip"'})
