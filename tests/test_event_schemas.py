"""The per-type schemas of POST /v1/events say what the event parser enforces (issue 13
item 12), checked both ways without HTTP:

* every event the ledger accepts (the demo day, and one example of each type the day
  lacks, each first checked by the parser) is valid under its schema, and under the
  body's schema;
* every mutation of such an event that the parser refuses for its form (a field of the
  wrong kind, an unknown field, a required field left out, a subject where the type
  forbids one) is invalid under the schema too — and the parser refuses it, naming the
  field.

Schemathesis (tests/test_http_schemathesis.py) then fuzzes the route itself.
"""

from __future__ import annotations

import copy
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from ledger.domain.event_parse import parse_unverified_event
from ledger.domain.events import CATALOGUE
from ledger.errors import InputError
from ledger.http.event_schemas import event_schema
from ledger.http.schemas import EVENTS_BODY

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import demo_day

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
AT = "2026-03-03T10:00:00+01:00"
UUID = "5b0f3c1e-8d2a-4f7b-9c6e-1a2b3c4d5e6f"
EXTRA: list[dict[str, Any]] = [
    {"type": "DataAnonymised", "subject": "s1", "occurred_at": AT,
     "data": {"categories": ["contact"], "method": "aggregation"}},
    {"type": "DataRectified", "subject": "s1", "occurred_at": AT,
     "data": {"collection_id": UUID, "values": {"email": "a@example.fr"}}},
    {"type": "LegalHoldReleased", "subject": "s1", "occurred_at": AT,
     "data": {"hold_id": "HOLD-1"}},
    {"type": "NoticePublished", "occurred_at": AT,
     "data": {"notice_id": "N-1", "kind": "banner", "language": "fr", "text": "Cookies"}},
    {"type": "ObjectionRecorded", "subject": "s1", "occurred_at": AT,
     "data": {"purpose": "newsletter"}},
    {"type": "PersonalDataAccessed", "subject": "s1", "occurred_at": AT,
     "data": {"view": "export", "channel": "cli"}},
    {"type": "PolicyPublished", "occurred_at": AT, "data": {"policy": {"version": "1"}}},
    {"type": "ProcessingRestricted", "subject": "s1", "occurred_at": AT,
     "data": {"restriction_id": "R-1", "ground": "accuracy_contested"}},
    {"type": "RestrictionLifted", "subject": "s1", "occurred_at": AT,
     "data": {"restriction_id": "R-1"}},
    {"type": "RightsRequestExtended", "subject": "s1", "occurred_at": AT,
     "data": {"request_id": "REQ-1", "reason": "complex request"}},
    {"type": "RightsRequestRefused", "subject": "s1", "occurred_at": AT,
     "data": {"request_id": "REQ-1", "reason": "manifestly unfounded"}},
]
EXAMPLES = demo_day.day() + EXTRA
BODY = jsonschema_rs.validator_for(EVENTS_BODY["content"]["application/json"]["schema"])
# a value of the wrong kind for each kind of field, and for the envelope
WRONG = {"code": "Not A Code", "codes": [], "enum_list": ["nope"], "ref": "-bad",
         "uuid": "not-a-uuid", "text": "   ", "long_text": "", "language": "French",
         "int": "12", "bool": "yes", "time": "yesterday", "enum": "nope", "country": "France",
         "value": None, "values": {}, "object": [], "object_any": "policy"}


def _id(event: dict[str, Any]) -> str:
    return str(event["type"])


def test_every_type_has_an_example() -> None:
    assert {e["type"] for e in EXAMPLES} == set(CATALOGUE)


@pytest.mark.parametrize("event", EXAMPLES, ids=_id)
def test_accepted_events_are_schema_valid(event: dict[str, Any]) -> None:
    if event["type"] != "PolicyPublished":  # its document is checked at append (append.py)
        parse_unverified_event(event, now=NOW)
    assert jsonschema_rs.validator_for(event_schema(event["type"])).is_valid(event)
    assert BODY.is_valid(event) and BODY.is_valid([event, event])


def _mutations(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(the field the parser must name, a copy of ``event`` wrong in its form there)."""
    out: list[tuple[str, dict[str, Any]]] = []
    cls = CATALOGUE[event["type"]]
    for name, fs in cls.specs():
        bad = copy.deepcopy(event)
        bad.setdefault("data", {})[name] = WRONG[fs.kind]
        if WRONG[fs.kind] is not None or fs.required:
            out.append((f"data.{name}", bad))
        if fs.required and name in event.get("data", {}):
            gone = copy.deepcopy(event)
            del gone["data"][name]
            out.append((f"data.{name}", gone))
    unknown = copy.deepcopy(event)
    unknown.setdefault("data", {})["surely_not_a_field"] = 1
    out.append(("data.surely_not_a_field", unknown))
    if cls.SUBJECT == "forbidden":
        out.append(("subject", {**event, "subject": "someone"}))
    elif cls.SUBJECT == "required":
        out.append(("subject", {k: v for k, v in event.items() if k != "subject"}))
    out.append(("occurred_at", {**event, "occurred_at": "2026-03-03 10:00"}))
    out.append(("actor", {**event, "actor": "-not an actor"}))
    return out


@pytest.mark.parametrize("event", EXAMPLES, ids=_id)
def test_form_errors_are_schema_invalid(event: dict[str, Any]) -> None:
    schema = jsonschema_rs.validator_for(event_schema(event["type"]))
    for field, bad in _mutations(event):
        assert not schema.is_valid(bad), field
        assert not BODY.is_valid(bad), field
        if event["type"] == "PolicyPublished" and field == "data.policy":
            continue  # the document's own rules: append.py (and the schema's description)
        with pytest.raises(InputError) as refused:
            parse_unverified_event(bad, now=NOW)
        assert refused.value.field.startswith(field.split(".surely")[0]), (field, refused.value)


def test_an_integral_number_is_an_integer() -> None:
    """JSON's data model (and JSON Schema's "integer") make 349.0 the integer 349."""
    event = {"type": "ConsentGiven", "subject": "s1", "occurred_at": AT,
             "data": {"purpose": "newsletter", "method": "checkbox", "age": 30.0}}
    draft = parse_unverified_event(event, now=NOW)
    assert draft.event.age == 30 and type(draft.event.age) is int  # type: ignore[attr-defined]
    with pytest.raises(InputError, match="must be an integer"):
        parse_unverified_event({**event, "data": {**event["data"], "age": 30.5}}, now=NOW)
