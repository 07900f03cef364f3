"""Conflicting retries (issue 10 item 5): an event_id reused with other content is refused
(exit 2 / HTTP 409, naming the event_id and the first differing field, never its value);
the same content stays an idempotent replay — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from ledger.app.application import Ledger
from ledger.errors import ConflictError
from ledger.http.commit import GroupCommitter
from tests.helpers import collect, consent
from tests.http_kit import Api, api_for
from tests.test_http_group_commit import ided, run_together

EID = "0b7c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
EID2 = "2b7c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"


def first(event: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": EID, "actor": "crm", **event}


def changed(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(event))
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = out
        for p in parents:
            node = node[p]
        node[last] = value
    return out


CONSENT = first(consent("a@x.fr", evidence="form-1", age=30))
COLLECT = first(collect("a@x.fr", values={"email": "a@x.fr", "last_name": "Durand"})) | {
    "event_id": EID2}

DIFFERENCES = [
    (CONSENT, {"data__purpose": "visitor_insights"}, "data.purpose"),
    (CONSENT, {"occurred_at": "2024-05-01T10:00:01+02:00"}, "occurred_at"),
    (CONSENT, {"data__method": "banner"}, "data.method"),
    (CONSENT, {"actor": "crm:other"}, "actor"),
    (CONSENT, {"data__evidence": "form-2"}, "data.evidence"),          # personal
    (CONSENT, {"data__age": 31}, "data.age"),                          # personal
    (CONSENT, {"data__policy_version": "1999-01-01"}, "data.policy_version"),
    (CONSENT, {"subject": "b@x.fr"}, "subject"),
    (CONSENT, {"type": "ConsentRefused", "data": {"purpose": "recruitment",
                                                  "method": "form"}}, "type"),
    (COLLECT, {"data__values__last_name": "Martin"}, "data.values.last_name"),  # personal
    (COLLECT, {"data__values": {"email": "a@x.fr"}}, "data.values.last_name"),
    (COLLECT, {"data__source": "third_party"}, "data.source"),
]


@pytest.mark.parametrize(("event", "change", "field"), DIFFERENCES,
                         ids=[f for _, _, f in DIFFERENCES])
def test_each_difference_is_refused_and_stores_nothing(ledger: Ledger, event: dict[str, Any],
                                                       change: dict[str, Any],
                                                       field: str) -> None:
    ledger.append([first(consent("a@x.fr")) | {"event_id": "1b7c1d2e-3f40-4a5b-8c6d-"
                                                             "7e8f90a1b2c3"}]
                  if event is COLLECT else [])
    stored = ledger.append([event])[0]
    head = ledger.head()
    retry = changed(event, **change)
    with pytest.raises(ConflictError) as err:
        ledger.append([consent("new@x.fr"), retry])          # in a batch with a new event
    assert err.value.field == field and err.value.event_id == event["event_id"]
    assert err.value.seq == stored.seq and err.value.line == 2
    message = str(err.value)
    assert event["event_id"] in message and field in message
    for value in ("Martin", "form-2", "31", "visitor_insights", "banner", "third_party"):
        assert value not in message
    assert ledger.head() == head                                  # the whole batch refused


def test_the_same_content_is_a_replay(ledger: Ledger) -> None:
    ledger.append([first(consent("a@x.fr")) | {"event_id": "1b7c1d2e-3f40-4a5b-8c6d-"
                                                             "7e8f90a1b2c3"}])
    stored = ledger.append([CONSENT, COLLECT])
    head = ledger.head()
    same_instant = changed(CONSENT, occurred_at="2024-05-01T08:00:00Z")
    # the policy version the ledger filled in, given explicitly this time
    explicit = changed(COLLECT, data__policy_version=ledger.show(stored[1].seq)["data"]
                       ["policy_version"])
    again = ledger.append([consent("new@x.fr"), same_instant, explicit])
    assert [(r.seq, r.hash, r.new) for r in again[1:]] == \
        [(r.seq, r.hash, False) for r in stored]
    assert again[0].new and ledger.head()[0] == head[0] + 1
    assert ledger.verify().ok


def test_twice_in_one_batch_with_other_content_is_refused(ledger: Ledger) -> None:
    head = ledger.head()
    with pytest.raises(ConflictError) as err:
        ledger.append([CONSENT, changed(CONSENT, data__method="banner")])
    assert err.value.field == "data.method" and err.value.line == 2
    assert ledger.head() == head


def test_after_erasure_personal_values_are_not_compared(ledger: Ledger) -> None:
    """Keys destroyed: the answer must not depend on a personal value (a guess about an
    erased person cannot be confirmed): only non-personal fields are compared."""
    ledger.append([first(consent("a@x.fr")) | {"event_id": "1b7c1d2e-3f40-4a5b-8c6d-"
                                                             "7e8f90a1b2c3"}])
    stored = ledger.append([COLLECT])[0]
    ledger.erase("a@x.fr", ground="consent_withdrawn")
    head = ledger.head()
    for guess in ("Durand", "Martin"):      # right and wrong guesses: the same answer
        retry = changed(COLLECT, data__values__last_name=guess)
        again = ledger.append([retry])[0]
        assert (again.seq, again.hash, again.new) == (stored.seq, stored.hash, False)
    with pytest.raises(ConflictError) as err:
        ledger.append([changed(COLLECT, data__source="third_party")])
    assert err.value.field == "data.source"
    with pytest.raises(ConflictError) as err:      # which personal fields exist: not a value
        ledger.append([changed(COLLECT, data__values={"email": "a@x.fr"})])
    assert err.value.field == "data.values.last_name"
    assert ledger.head() == head


def cli(cli_env: dict[str, str], *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], env=cli_env,
                          input=stdin, capture_output=True, text=True, timeout=120,
                          check=False)


def test_cli_exit_2_names_the_event_id_and_field(ledger: Ledger,
                                                 cli_env: dict[str, str]) -> None:
    ledger.append([first(consent("a@x.fr")) | {"event_id": "1b7c1d2e-3f40-4a5b-8c6d-"
                                                             "7e8f90a1b2c3"}, COLLECT])
    head = ledger.head()
    same = cli(cli_env, "append", stdin=json.dumps(COLLECT) + "\n")
    assert same.returncode == 0, same.stderr
    assert "1 already present" in same.stderr
    retry = changed(COLLECT, data__values__last_name="Martin")
    out = cli(cli_env, "append", stdin=json.dumps(consent("n@x.fr")) + "\n" +
              json.dumps(retry) + "\n")
    assert out.returncode == 2
    assert EID2 in out.stderr and "data.values.last_name" in out.stderr
    assert "line 2" in out.stderr and "Martin" not in out.stderr
    assert ledger.head() == head


@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    with api_for(ledger, db_url, env) as a:
        yield a


def test_http_409_problem_details(api: Api, ledger: Ledger) -> None:
    ledger.append([first(consent("a@x.fr")) | {"event_id": "1b7c1d2e-3f40-4a5b-8c6d-"
                                                             "7e8f90a1b2c3"}])
    created = api.post("/v1/events", json=COLLECT)
    assert created.status_code == 201
    replay = api.post("/v1/events", json=COLLECT)
    assert replay.status_code == 200 and replay.json() == {**created.json(), "new": False}
    head = ledger.head()
    retry = changed(COLLECT, data__values__last_name="Martin")
    r = api.post("/v1/events", json=[consent("n@x.fr"), retry])
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == "urn:problem:ledger:conflict"
    assert body["event_id"] == EID2 and body["field"] == "data.values.last_name"
    assert body["index"] == 1 and "Martin" not in r.text
    assert ledger.head() == head


def test_group_commit_a_conflict_fails_only_its_request(ledger: Ledger) -> None:
    ledger.append([first(consent("a@x.fr")) | {"event_id": "1b7c1d2e-3f40-4a5b-8c6d-"
                                                             "7e8f90a1b2c3"}, COLLECT])
    head = ledger.head()[0]
    committer = GroupCommitter(ledger)
    good = [[ided(consent(f"s{i}@example.fr"))] for i in range(2)]
    conflict = [ided(consent("t@example.fr")), changed(COLLECT, data__source="observed")]
    batches = [ledger.parse(b) for b in (good[0], conflict, good[1])]
    outcomes = run_together(committer, batches)
    assert isinstance(outcomes[1], ConflictError)
    assert outcomes[1].line == 2 and outcomes[1].field == "data.source"
    assert outcomes[1].event_id == EID2
    assert [[r.seq for r in o] for o in (outcomes[0], outcomes[2])] == \
        [[head + 1], [head + 2]]


def test_http_erase_retry_with_other_content_is_409(api: Api, ledger: Ledger) -> None:
    ledger.append([consent("a@x.fr")])
    body = {"event_id": EID, "ground": "consent_withdrawn",
            "occurred_at": "2024-05-02T10:00:00Z"}
    url = "/v1/subjects/a%40x.fr/erase"
    assert api.post(url, as_="dpo", json=body).status_code == 201
    assert api.post(url, as_="dpo", json=body).status_code == 200
    r = api.post(url, as_="dpo", json=body | {"ground": "objection"})
    assert r.status_code == 409
    assert r.json()["field"] == "data.ground" and r.json()["event_id"] == EID
