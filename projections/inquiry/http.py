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
from ledger.domain.events import MAX_SUBJECT
from ledger.http.params import REF, TIME, text_schema
from ledger.http.schemas import problems

from .build import build_pack
from .scope import Scope

__all__ = ["field_name", "pack_zip", "register_inquiry"]

WHEN: dict[str, Any] = {"pattern": TIME}
PURPOSE = r"^[a-z][a-z0-9_]{0,63}$"


def _pattern(regex: str) -> dict[str, Any]:
    return {"pattern": regex}


def _enum(*values: str) -> dict[str, Any]:
    return {"enum": list(values)}


NAMES = {"purpose": "purposes", "subject": "subjects", "breach": "breaches",
         "request": "requests"}


def field_name(option: str) -> str:
    """An option of ``ledger inquiry`` as the HTTP faces name its field (errors)."""
    return NAMES.get(option, option.replace("-", "_"))


class InquiryBody(BaseModel):
    """The scope of an inquiry (the options of ``ledger inquiry``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: str = Field(alias="from", description="start of the period (RFC 3339 or "
                       "YYYY-MM-DD: the start of that day in the policy's time zone)",
                       json_schema_extra=WHEN)
    end: str = Field(alias="to", description="end of the period (a date: its end)",
                     json_schema_extra=WHEN)
    purposes: list[Annotated[str, Field(json_schema_extra=_pattern(PURPOSE))]] = Field(
        default_factory=list, max_length=64, description="default: every purpose")
    subjects: list[Annotated[str, Field(json_schema_extra=text_schema(MAX_SUBJECT))]] = \
        Field(default_factory=list, max_length=100, description="identifiers or "
              "pseudonym:<hex>; other subjects appear as counts only")
    breaches: list[Annotated[str, Field(json_schema_extra=_pattern(REF))]] = Field(
        default_factory=list, max_length=100)
    requests: list[Annotated[str, Field(json_schema_extra=_pattern(REF))]] = Field(
        default_factory=list, max_length=100)
    lang: str = Field("fr", description="fr (default) or en",
                      json_schema_extra=_enum("fr", "en"))
    as_of: str | None = Field(None, json_schema_extra=WHEN, description="registers as of "
                              "(default: `to`, not earlier)")
    known_at: str | None = Field(None, json_schema_extra=WHEN)
    title: str | None = Field(None, json_schema_extra=text_schema(200))
    reference: str | None = Field(None, json_schema_extra=text_schema(200))
    pdf: bool = Field(False, description="print the PDF too (seconds more; when the "
                      "server has chromium)")


def _zip(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(folder).as_posix())
    return buf.getvalue()


def pack_zip(reader: Any, scope: Scope, *, pdf: bool) -> bytes:
    """The pack of ``scope`` as a zip (built in a temporary folder, then removed): the
    API's answer and the console's download (blocking: run it in a worker thread)."""
    with tempfile.TemporaryDirectory(prefix="ledger-inquiry-") as tmp:
        out = Path(tmp) / "pack"
        build_pack(reader, scope, out, pdf=pdf)
        return _zip(out)


def register_inquiry(router: APIRouter, ctx: Any, shared: Any) -> None:
    """Add ``POST /v1/inquiries``."""

    @router.post("/inquiries", summary="Build a CNIL inquiry pack (ledger inquiry)",
                 description="The pack of docs/FORMAT.md §17 as a zip: the report (HTML, "
                 "and PDF when the server has chromium), the registers (XLSX, CSV), "
                 "figures.json and evidence/ (audit bundle, checkpoint, proofs). Check it "
                 "offline with `ledger verify --inquiry DIR`.",
                 responses={200: {"description": "the pack", "content": {
                     "application/zip": {"schema": {"type": "string", "format": "binary"}}}},
                     **problems(400, 401, 403, 422, 503)})
    async def inquiries(body: InquiryBody,
                        _: Annotated[Principal, Depends(ctx.require("subjects:export"))],
                        ) -> Response:
        scope = Scope.parse(start=body.start, end=body.end, zone=shared.zone,
                            purposes=body.purposes, subjects=body.subjects,
                            breaches=body.breaches, requests=body.requests, lang=body.lang,
                            as_of=body.as_of, known_at=body.known_at, title=body.title,
                            reference=body.reference,
                            flag=field_name)

        data = await ctx.run(lambda: pack_zip(shared.get(), scope, pdf=body.pdf))
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": 'attachment; filename="inquiry.zip"'})
