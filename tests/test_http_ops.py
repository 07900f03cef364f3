"""Operations of the server (issue 12 item 4), on SQLite and PostgreSQL: /v1/health,
/v1/ready (the database, the projections' lag), /metrics (Prometheus text format)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from ledger.app.application import Ledger
from ledger.app.routing import load_routing
from ledger.app.tokens import Tokens
from ledger.domain.policy import bundled_policy
from ledger.errors import ConfigError, StorageError
from ledger.http import RouteContext, create_app
from ledger.http.ledgers import create_routed_app
from ledger.http.metrics import MAX_REJECTION_LABELS, Metrics, field_label, rule_label
from tests.helpers import consent
from tests.http_kit import Api, api_for, event_id

SUBJECT = "jeanne.martin@example.fr"
PROJECTIONS = {"accesses", "breaches", "consent", "disclosures", "requests", "retention"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    with api_for(ledger, db_url, env, routes=None) as a:  # None: the projections' routes
        yield a


def scrape(api: Api, as_: str = "auditor") -> tuple[str, Samples]:
    r = api.get("/metrics", as_=as_)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == CONTENT_TYPE_LATEST
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return r.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def with_id(event: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": event_id(), **event}


# -- health and readiness --------------------------------------------------------------
def test_health_and_ready_need_no_token(api: Api, ledger: Ledger) -> None:
    assert api.get("/v1/health", as_=None).json() == {"status": "ok"}
    r = api.get("/v1/ready", as_=None)
    assert r.status_code == 200, r.text
    doc = r.json()
    head = ledger.head()[0]
    assert doc["status"] == "ready" and doc["database"] == "ok" and doc["head"] == head
    assert doc["max_lag"] == 10_000 and "reason" not in doc
    assert set(doc["projections"]) == PROJECTIONS
    for v in doc["projections"].values():  # nothing read yet: nothing projected
        assert v == {"lag": head, "seq": 0}
    assert api.get(f"/v1/subjects/{SUBJECT}/consent", as_="service").status_code == 200
    after = api.get("/v1/ready", as_=None).json()["projections"]
    assert after["consent"] == {"lag": 0, "seq": head}  # a read brought it up to date
    assert after["breaches"] == {"lag": head, "seq": 0}


def test_ready_is_503_while_a_projection_lags_more_than_the_setting(
        ledger: Ledger, db_url: str, env: dict[str, str]) -> None:
    with api_for(ledger, db_url, {**env, "LEDGER_READY_MAX_LAG": "2"}, routes=None) as api:
        assert api.get("/v1/ready", as_=None).status_code == 200  # head 1: lag 1
        made = api.post("/v1/events", json=[with_id(consent(f"p{i}@example.fr"))
                                             for i in range(3)])
        assert made.status_code == 201, made.text
        head = ledger.head()[0]
        r = api.get("/v1/ready", as_=None)
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        doc = r.json()
        assert doc["status"] == "not_ready" and doc["database"] == "ok"
        assert doc["head"] == head == 4 and doc["max_lag"] == 2
        assert all(v == {"lag": 4, "seq": 0} for v in doc["projections"].values())
        assert doc["reason"] == ("projection accesses is 4 entries behind the ledger's head "
                                 "(at most 2: LEDGER_READY_MAX_LAG)")
        assert "example.fr" not in r.text
        # the 503 started the catch-up (after its answer): the next probe finds them there
        again = api.get("/v1/ready", as_=None)
        assert again.status_code == 200, again.text
        assert all(v == {"lag": 0, "seq": head} for v in again.json()["projections"].values())


def test_a_plugin_reports_its_read_models_through_add_lag_source(
        ledger: Ledger, db_url: str, env: dict[str, str]) -> None:
    """The extension point itself, with a read model of the test's own."""
    done: dict[str, int] = {"mine": 0}
    runs: list[int] = []

    def register(router: APIRouter, ctx: RouteContext) -> None:
        def catch_up() -> None:
            runs.append(1)
            done["mine"] = ctx.ledger.head()[0]
        ctx.add_lag_source(lambda: dict(done), catch_up)

    def broken(router: APIRouter, ctx: RouteContext) -> None:
        ctx.add_lag_source(lambda: 1 // 0)  # type: ignore[arg-type, return-value]

    with api_for(ledger, db_url, {**env, "LEDGER_READY_MAX_LAG": "0"},
                 routes=[register]) as api:
        r = api.get("/v1/ready", as_=None)
        assert r.status_code == 503 and r.json()["projections"] == {"mine": {"lag": 1, "seq": 0}}
        assert runs == [1]  # started by the 503
        r = api.get("/v1/ready", as_=None)
        assert r.status_code == 200 and r.json()["projections"] == {"mine": {"lag": 0, "seq": 1}}
        _, s = scrape(api)
        assert value(s, "ledger_projection_lag", projection="mine") == 0
    with TestClient(create_app(db_url, env=env, routes=[broken])) as client:
        r = client.get("/v1/ready")
        assert r.status_code == 503
        assert r.json() == {"status": "not_ready", "database": "ok", "head": 1, "max_lag": 10_000,
                            "projections": {},
                            "reason": "the projections' progress could not be read"}


def test_ready_and_metrics_when_the_database_is_down(api: Api,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    served = api.client.app.state.ctx.ledger  # type: ignore[attr-defined]

    def down(*_: Any, **__: Any) -> Any:
        raise StorageError("database error: server closed the connection")

    _, before = scrape(api)
    assert value(before, "ledger_database_up") == 1
    monkeypatch.setattr(served, "head", down)
    r = api.get("/v1/ready", as_=None)
    assert r.status_code == 503
    assert r.json() == {"status": "not_ready", "database": "unavailable", "head": None,
                        "max_lag": 10_000, "projections": {},
                        "reason": "the database is unavailable"}
    assert api.get("/v1/health", as_=None).status_code == 503
    _, after = scrape(api)  # a token is checked on its own table: still answers
    assert value(after, "ledger_database_up") == 0
    assert not any(name in ("ledger_head_seq", "ledger_projection_lag") for name, _ in after)


def test_a_bad_max_lag_setting_is_refused_at_start(ledger: Ledger, db_url: str,
                                                   env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="LEDGER_READY_MAX_LAG must be a whole number"):
        create_app(db_url, env={**env, "LEDGER_READY_MAX_LAG": "ten"}, routes=[])


# -- metrics ---------------------------------------------------------------------------
def test_metrics_need_a_token_whose_role_holds_metrics_read(api: Api) -> None:
    assert api.get("/metrics", as_=None).status_code == 401
    assert api.get("/metrics", as_="garbage").status_code == 401
    r = api.get("/metrics", as_="service")
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert api.get("/metrics", as_="auditor").status_code == 200
    assert api.get("/metrics", as_="dpo").status_code == 200


def test_appends_and_rejections_are_counted(api: Api) -> None:
    _, s0 = scrape(api)
    batch = [with_id(consent(f"c{i}@example.fr")) for i in range(3)]
    assert api.post("/v1/events", json=batch).status_code == 201
    _, s1 = scrape(api)
    assert value(s1, "ledger_appends_total") == value(s0, "ledger_appends_total") + 3
    assert value(s1, "ledger_append_requests_total") == \
        value(s0, "ledger_append_requests_total") + 1
    assert api.post("/v1/events", json=batch).status_code == 200  # a retry: nothing new
    _, s2 = scrape(api)
    assert value(s2, "ledger_appends_total") == value(s1, "ledger_appends_total")
    assert value(s2, "ledger_append_requests_total") == \
        value(s1, "ledger_append_requests_total") + 1

    no_time = {k: v for k, v in consent(SUBJECT).items() if k != "occurred_at"}
    bad = api.post("/v1/events", json=no_time)
    assert bad.status_code == 422 and bad.json()["rule"] == "is required"
    for _ in range(2):
        wrong = api.post("/v1/events", json=[consent(SUBJECT, purpose="nope")])
        assert wrong.json()["rule"] == "is not a purpose of policy 2022-05-14"
    odd = api.post("/v1/events", json=consent(SUBJECT, **{SUBJECT: 1}))
    assert odd.json()["field"] == "data.(unknown key)"
    text, s3 = scrape(api)
    rejected = "ledger_rejections_total"
    assert value(s3, rejected, rule="is required", field="occurred_at") == 1
    assert value(s3, rejected, rule="is not a purpose of policy N-N-N",
                 field="data.purpose") == 2
    assert value(s3, rejected, rule="is not a field of this event (…)",
                 field="data.(unknown key)") == 1
    assert sum(v for (name, _), v in s3.items() if name == rejected) == 4
    assert value(s3, "ledger_appends_total") == value(s2, "ledger_appends_total")
    assert SUBJECT not in text and "example.fr" not in text


def test_routes_are_templates_and_no_identifier_reaches_the_metrics(api: Api) -> None:
    assert api.post("/v1/events", json=with_id(consent(SUBJECT))).status_code == 201
    for _ in range(2):
        r = api.get(f"/v1/subjects/{SUBJECT}/consent", as_="service")
        assert r.status_code == 200, r.text
    bad = api.get(f"/v1/subjects/{SUBJECT}/consent", as_="service", params={"as_of": "x"})
    assert bad.status_code == 422 and bad.json()["field"] == "as_of"
    assert api.get(f"/v1/nothing/{SUBJECT}", as_="dpo").status_code == 404
    odd = api.client.request("JEANNE", "/v1/health")  # any token is a method to HTTP
    assert odd.status_code == 405
    key = api.post("/v1/inquiries", as_="dpo", json={"from": "2024-01-01", "to": "2024-02-01",
                                                      SUBJECT: 1})  # a client's key
    assert key.status_code == 422 and key.json()["field"] == "(unknown key)"
    assert SUBJECT not in key.text
    erased = api.post(f"/v1/subjects/{SUBJECT}/erase", as_="dpo", json={})
    assert erased.status_code == 201, erased.text
    text, s = scrape(api)
    consent_route = {"method": "GET", "route": "/v1/subjects/{ref}/consent"}
    assert value(s, "ledger_http_request_duration_seconds_count", **consent_route) == 3
    assert value(s, "ledger_http_responses_total", status="200", **consent_route) == 2
    assert value(s, "ledger_http_responses_total", status="422", **consent_route) == 1
    assert value(s, "ledger_http_responses_total", method="POST",
                 route="/v1/subjects/{ref}/erase", status="201") == 1
    assert value(s, "ledger_http_responses_total", method="GET", route="(no route)",
                 status="404") == 1
    assert value(s, "ledger_http_responses_total", method="(other)", route="/v1/health",
                 status="405") == 1
    assert value(s, "ledger_rejections_total", rule="Extra inputs are not permitted",
                 field="(unknown key)") == 1
    routes = {dict(labels).get("route") for name, labels in s if "route" in dict(labels)}
    assert routes <= {"/v1/subjects/{ref}/consent", "/v1/subjects/{ref}/erase",
                      "/v1/events", "/v1/health", "/v1/inquiries", "/metrics",
                      "(no route)"}, routes
    for piece in (SUBJECT, "jeanne", "JEANNE", "example.fr", "martin"):
        assert piece not in text


def test_head_and_projection_lag_are_read_at_scrape_time(api: Api, ledger: Ledger) -> None:
    for i in range(4):
        assert api.post("/v1/events", json=with_id(consent(f"l{i}@example.fr"))).is_success
    head = ledger.head()[0]
    _, s = scrape(api)
    assert value(s, "ledger_head_seq") == head == 5
    lags = {dict(labels)["projection"]: v for (name, labels), v in s.items()
            if name == "ledger_projection_lag"}
    assert lags == dict.fromkeys(PROJECTIONS, float(head))  # nothing read: nothing projected
    assert api.get("/v1/breaches", as_="dpo").status_code == 200  # catches breaches up
    _, s = scrape(api)
    lags = {dict(labels)["projection"]: v for (name, labels), v in s.items()
            if name == "ledger_projection_lag"}
    assert lags == {**dict.fromkeys(PROJECTIONS, float(head)), "breaches": 0.0}


def test_verifications_are_counted_by_result(api: Api) -> None:
    _, s0 = scrape(api)
    assert value(s0, "ledger_verifications_total", result="ok") == 0
    started = time.time()
    r = api.get("/v1/verify", as_="auditor")
    assert r.status_code == 200 and r.json()["ok"] is True
    _, s1 = scrape(api)
    assert value(s1, "ledger_verifications_total", result="ok") == 1
    assert value(s1, "ledger_verifications_total", result="failed") == 0
    stamp = value(s1, "ledger_last_verification_timestamp", result="ok")
    assert started <= stamp <= time.time()


# -- many ledgers: a registry each -------------------------------------------------------
def test_each_ledger_of_a_routing_file_has_its_own_metrics(tmp_path: Path,
                                                           db_url: str) -> None:
    lines, tokens = [], {}
    for name in ("a", "b"):
        keys = tmp_path / f"keys-{name}"
        keys.mkdir(mode=0o700)
        lines += [f"[ledgers.{name}]", f"url = {json.dumps(db_url)}", f"keys = '{keys}'",
                  f"ledger = 'ledger-{name}'"]
        led, _ = Ledger.init(db_url, f"ledger-{name}", env={"LEDGER_KEY_DIR": str(keys)})
        led.publish_policy(bundled_policy(), actor="test",
                           occurred_at=datetime(2024, 1, 1, tzinfo=UTC))
        tokens[name] = {"Authorization": "Bearer " + Tokens(led.store).create("dpo-x", "dpo")}
        led.close()
    path = tmp_path / "ledgers.toml"
    path.write_text("\n".join(lines) + "\n")
    app = create_routed_app(load_routing(str(path)), plugins=None)
    with TestClient(app, raise_server_exceptions=False) as client:
        made = client.post("/ledgers/a/v1/events", headers=tokens["a"],
                           json=[consent(f"q{i}@example.org") for i in range(2)])
        assert made.status_code == 201, made.text
        assert client.get("/ledgers/a/v1/ready").json()["head"] == 3
        assert client.get("/ledgers/b/v1/ready").json()["head"] == 1
        assert client.get("/ledgers/b/metrics", headers=tokens["a"]).status_code == 401
        got = {}
        for name in ("a", "b"):
            r = client.get(f"/ledgers/{name}/metrics", headers=tokens[name])
            assert r.status_code == 200, r.text
            got[name] = {s.name: s.value for f in text_string_to_metric_families(r.text)
                         for s in f.samples if not s.labels}
        assert got["a"]["ledger_appends_total"] == 2 and got["a"]["ledger_head_seq"] == 3
        assert got["b"]["ledger_appends_total"] == 0 and got["b"]["ledger_head_seq"] == 1
        assert client.get("/metrics").status_code == 404  # only under a ledger's prefix
        docs = client.get("/ledgers/a/docs")  # the page under its mount point, offline
        assert docs.status_code == 200 and "url: '/ledgers/a/openapi.json'" in docs.text
        assert sorted(re.findall(r'(?:href|src)="([^"]+)"', docs.text)) == [
            f"/ledgers/a/docs/static/{n}" for n in ("favicon.png", "swagger-ui-bundle.js",
                                                    "swagger-ui.css")]
        assert client.get("/ledgers/a/docs/static/swagger-ui.css").status_code == 200


# -- the label rules (no database) ---------------------------------------------------------
def test_labels_blank_what_a_rule_may_quote_and_their_number_is_capped() -> None:
    assert rule_label("must be between 1 and the ledger's size (42)") == \
        "must be between N and the ledger's size (…)"
    assert rule_label("'x@y.fr' is not a purpose of any published policy") == \
        "'…' is not a purpose of any published policy"
    assert rule_label("is required") == "is required"
    assert field_label("data.values[3].email") == "data.values[N].email"
    assert field_label("subjects.12") == "subjects.N"
    m = Metrics()
    for i in range(MAX_REJECTION_LABELS + 5):  # field names the code never makes
        m.rejected("is required", "f" + "".join(chr(97 + int(d)) for d in str(i)))
    samples = [s for f in text_string_to_metric_families(m.exposition().decode())
               for s in f.samples if s.name == "ledger_rejections_total"]
    assert len(samples) == MAX_REJECTION_LABELS + 1
    other = [s for s in samples if s.labels == {"rule": "(other)", "field": "(other)"}]
    assert len(other) == 1 and other[0].value == 5


def test_verification_results_without_a_verdict_and_failed_ones() -> None:
    m = Metrics()
    m.verified({"ok": False, "first_bad_seq": 3})
    m.verified({"ok": False})
    m.verified(None)  # the child could not verify (database down)
    totals = {s.labels["result"]: s.value
              for f in text_string_to_metric_families(m.exposition().decode())
              for s in f.samples if s.name == "ledger_verifications_total"}
    assert totals == {"ok": 0, "failed": 2, "error": 1}
