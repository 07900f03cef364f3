"""Schemathesis against /openapi.json, in its positive and negative modes, with every check.

Generated requests never get a 5xx; every answer conforms to the documented statuses,
media types, headers and schemas; a request the schema calls invalid is refused
(``negative_data_rejection``) and — the point of issue 13 item 12 — a request the schema
calls valid is not refused for its form (``positive_data_acceptance``): the schema says
every constraint the server checks (ledger.http.params, docs/API.md "What the schema
promises").

What a schema cannot say is answered 422 for a *named* rule, and only those rules are
tolerated here (:data:`UNSTATABLE`), each matched on the problem's ``field`` and ``rule``:

* relations between two parameters: ``from`` later than ``to``, ``at`` and ``as_of``
  both given and different, a proof's ``seq`` larger than its ``size``, ``old`` larger
  than ``new``;
* the server's clock: an ``occurred_at`` more than 5 minutes in the future;
* a local time that leaves the years 0001-9999 once converted to UTC;
* on the two writing routes, a ``rule-violation`` problem: a rule of the policy, the law
  or the ledger's state (docs/events.md), not of form.

401 and 403 are expected answers to a well-formed request (the fuzzing runs with every
role, and without a token): a refusal for authorisation is not a "valid request
rejected" (``POSITIVE_EXPECTED``); 404 answers what the ledger does not hold (an unknown
subject's export, a ``seq`` beyond the ledger, an unpublished purpose).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from ledger.app.application import Ledger
from ledger.domain.events import OUT_OF_RANGE
from ledger.http import create_app
from tests.http_kit import issue_tokens

# per operation, mode and role: bounded, so the test stays within a few minutes
# (the DPO may use every route: roles.py; the other roles are often refused, 401/403)
EXAMPLES = {"dpo": 25, "service": 8, "auditor": 8, "none": 5}
POSITIVE_EXPECTED = ["2xx", "401", "403", "404", "409"]
ROUTES = {
    "POST /v1/events", "POST /v1/subjects/{ref}/erase", "GET /v1/verify",
    "GET /v1/health", "GET /v1/checkpoints/latest", "GET /v1/checkpoints/cosigned",
    "GET /v1/proofs/inclusion/{seq}",
    "GET /v1/proofs/consistency", "GET /v1/subjects/{ref}/consent",
    "GET /v1/subjects/{ref}/export", "GET /v1/retention", "GET /v1/requests",
    "GET /v1/breaches", "GET /v1/disclosures", "GET /v1/ropa", "GET /v1/consents",
    "GET /v1/accesses", "POST /v1/inquiries", "GET /v1/ready", "GET /metrics"}
# nothing to make invalid: no negative case exists (with a token given, not even that)
NO_INPUT = {"GET /v1/health", "GET /v1/ready"}
NO_INPUT_BUT_TOKEN = NO_INPUT | {"GET /v1/verify", "GET /v1/checkpoints/latest",
                                 "GET /v1/checkpoints/cosigned", "GET /metrics"}
WRITES = {"POST /v1/events", "POST /v1/subjects/{ref}/erase"}
# (field, rule) of the 422s a schema cannot prevent; see the module's docstring
UNSTATABLE = [
    ("from", re.compile(r"must not be later than to\Z")),
    ("at", re.compile(r"is the old name of as_of: give one of them\Z")),
    ("seq", re.compile(r"must be between 1 and the tree size \(\d+\)\Z")),
    ("old", re.compile(r"must be between 1 and NEW \(\d+\)\Z")),
    ("occurred_at", re.compile(r"must not be in the future \(more than 5 minutes after "
                               r"the ledger's clock\)\Z")),
    (None, re.compile(re.escape(OUT_OF_RANGE) + r"\Z")),
    # POST /v1/inquiries: a purpose no policy names; registers read before the period ends
    ("purposes", re.compile(r"'.*' is not a purpose of any published policy\Z")),
    ("as_of", re.compile(r"must not be earlier than to \(.*\)\Z")),
    # a relation between the body and the credential: who appends is the token's name
    ("actor", re.compile(r"must be this token's name \([^)]*\) or start with '[^']*:' "
                         r"\(the API records who appends\)\Z")),
]
# POST /v1/events has one schema per event type (ledger.http.event_schemas); what it
# cannot state: a time of `data` later than occurred_at, the rules inside a free-form
# value (depth, size once encoded, inner strings, numbers, keys), a policy document's
# own rules (docs/POLICY.md)
EVENT_RELATIONS = [
    ("data.guardian.authorised_at", re.compile(r"must not be later than occurred_at\Z")),
    ("data.discovered_at", re.compile(r"must not be later than occurred_at\Z")),
]
FREE_VALUE = re.compile(
    r"(must not be nested more than \d+ levels deep \(arrays and objects\)"
    r"|must be at most \d+ characters once encoded"
    r"|its strings must not contain control characters or bidirectional or invisible "
    r"format characters|numbers must be integers \(no fractions or exponents\)"
    r"|keys must match \[a-z_\]\[a-z0-9_\]\*|integers must lie within ±\(2\^53 - 1\)"
    r"|strings must be valid Unicode \(no lone surrogates\))\Z")
FREE_FIELDS = re.compile(r"data\.(evidence|values|details|grounds|guardian\.name)(\.|\[|\Z)")
POLICY_DOCUMENT = re.compile(r"data\.policy(\.|\Z)")


def unstatable(label: str, problem: dict[str, Any]) -> bool:
    """Whether a 422 is one of the documented rules the schema cannot state."""
    field, rule = problem.get("field", ""), problem.get("rule", "")
    if label in WRITES and problem.get("type") == "urn:problem:ledger:rule-violation":
        return True
    if label == "POST /v1/events" and (
            any(name == field and pattern.match(rule) for name, pattern in EVENT_RELATIONS)
            or (FREE_FIELDS.match(field) and FREE_VALUE.match(rule))
            or POLICY_DOCUMENT.match(field)):
        return True
    return any((name is None or name == field) and pattern.match(rule)
               for name, pattern in UNSTATABLE)


def accepts_valid_requests(ctx: Any, response: Any, case: Any) -> bool | None:
    """``positive_data_acceptance``, but for the 422s of :data:`UNSTATABLE`."""
    if response.status_code == 422:
        try:
            problem = json.loads(response.content)
        except ValueError:
            problem = {}
        if unstatable(case.operation.label, problem):
            return None
    return positive_data_acceptance(ctx, response, case)  # type: ignore[no-any-return]


def test_tolerated_rules_are_exactly_those_named() -> None:
    """The tolerance cannot swallow an ordinary refusal of form."""
    assert unstatable("GET /v1/consents", {"field": "from", "rule": "must not be later than to"})
    assert not unstatable("GET /v1/consents", {"field": "from", "rule": "is not a valid "
                                               "calendar date"})
    assert not unstatable("GET /v1/retention", {"field": "status", "rule": "must be one of "
                                                "active"})
    assert not unstatable("GET /v1/ropa", {"type": "urn:problem:ledger:rule-violation",
                                           "field": "as_of", "rule": "x"})
    assert not unstatable("POST /v1/events", {"field": "actor", "rule": "must be 1-128 "
                                              "characters [A-Za-z0-9._:@/-]"})


@pytest.mark.slow
def test_schemathesis_finds_no_failure(ledger: Ledger, db_url: str, env: dict[str, str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # POST /v1/inquiries with pdf: the contract is fuzzed here, not the browser (the PDF is
    # tested in tests/test_inquiry_browser.py): no chromium, the pack says it is missing
    monkeypatch.setenv("LEDGER_CHROMIUM", "/nonexistent/chromium")
    tokens = issue_tokens(ledger)
    app = create_app(db_url, env=env, clock=ledger.clock, routes=None)  # with the plugins
    config = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
        "expected-statuses": POSITIVE_EXPECTED}}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == ROUTES
    with TestClient(app):
        for op in operations:
            for role in ("dpo", "service", "auditor", None):
                headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
                for mode in GenerationMode:
                    try:
                        fuzz(op, headers, mode, EXAMPLES[role or "none"])
                    except Unsatisfiable:  # no invalid request of these exists
                        assert mode is GenerationMode.NEGATIVE, op.label
                        assert op.label in NO_INPUT if role is None else \
                            op.label in NO_INPUT_BUT_TOKEN, op.label


def fuzz(op: Any, headers: dict[str, str], mode: GenerationMode, examples: int) -> None:
    # the token is fixed in the generated case (a negative case must not drop it while
    # the call adds it back) and given to the call (the checks then know it is real)
    @given(case=op.as_strategy(generation_mode=mode, headers=headers))
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance],
                               additional_checks=[accepts_valid_requests])

    run()
