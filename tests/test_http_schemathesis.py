"""Schemathesis against /openapi.json: generated requests never get a 5xx, and every
answer conforms to the documented statuses, media types and schemas."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from ledger.application import Ledger
from ledger.http import create_app
from tests.http_kit import issue_tokens

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]
EXAMPLES = 25  # per operation and role: bounded, so the suite stays quick


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(ledger: Ledger, db_url: str,
                                            env: dict[str, str]) -> None:
    tokens = issue_tokens(ledger)
    app = create_app(db_url, env=env, clock=ledger.clock, routes=None)  # with the plugins
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {
        "POST /v1/events", "POST /v1/subjects/{ref}/erase", "GET /v1/verify",
        "GET /v1/health", "GET /v1/checkpoints/latest", "GET /v1/proofs/inclusion/{seq}",
        "GET /v1/proofs/consistency", "GET /v1/subjects/{ref}/consent",
        "GET /v1/subjects/{ref}/export", "GET /v1/retention", "GET /v1/requests",
        "GET /v1/breaches", "GET /v1/disclosures", "GET /v1/ropa", "GET /v1/consents",
        "GET /v1/accesses"}
    with TestClient(app):
        for op in operations:
            for role in ("dpo", "service", "auditor", None):
                fuzz(op, {"Authorization": f"Bearer {tokens[role]}"} if role else {})


def fuzz(op: Any, headers: dict[str, str]) -> None:
    @given(case=op.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
