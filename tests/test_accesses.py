"""Reads of personal data are recorded (issue 10 item 6), on SQLite and PostgreSQL.

Every command and route that shows decrypted personal values appends one
``PersonalDataAccessed`` per subject shown before showing anything; a refused read records
nothing; ``ledger accesses`` / ``GET /v1/accesses`` list them with their filters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from ledger.app.accesses import REASON_SETTING
from ledger.app.application import Ledger
from ledger.cli.main import main
from ledger.errors import InputError
from tests.conftest import Clock
from tests.helpers import collect, consent
from tests.http_kit import TOKEN_NAMES, api_for

A, B, C = "camille.durand@example.fr", "bob.martin@example.fr", "chloe@example.fr"
SECRETS = (A, B, "Durand", "Martin")
Run = Callable[..., tuple[int, str, str]]


def history(ledger: Ledger) -> None:
    ledger.append([consent(A), collect(A, values={"email": A, "last_name": "Durand"}),
                   consent(B), collect(B, values={"email": B, "last_name": "Martin"}),
                   consent(C)])  # seqs 2..6; C has no personal field


def stored(ledger: Ledger) -> list[dict[str, Any]]:
    return [json.loads(r.state) for r in ledger.store.entries()]


def accesses(ledger: Ledger) -> list[dict[str, Any]]:
    return [e for e in stored(ledger) if e["type"] == "PersonalDataAccessed"]


@pytest.fixture
def run(ledger: Ledger, db_url: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Run:
    history(ledger)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("LEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("LEDGER_ACTOR", "dpo:alice")
    monkeypatch.delenv(REASON_SETTING, raising=False)

    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err
    return call


def test_show_records_one_access_with_its_fields(run: Run, ledger: Ledger) -> None:
    head = ledger.head()[0]
    code, out, _ = run("show", "3", "--json", "--reason", "complaint 2024-17")
    assert code == 0 and json.loads(out)["data"]["values"]["last_name"] == "Durand"
    [a] = accesses(ledger)
    assert a["seq"] == head + 1 and a["subject"] == ledger.pseudonym(A)
    assert a["actor"] == "dpo:alice"
    assert a["payload"] == {"view": "show", "channel": "cli", "reason": "complaint 2024-17",
                            "scope": "seq 3", "first_seq": 3, "last_seq": 3, "entries": 1}
    # no personal field shown: a consent without evidence, the policy: nothing recorded
    assert run("show", "2")[0] == 0 and run("show", "1")[0] == 0
    assert len(accesses(ledger)) == 1
    assert run("show", "3", "--actor", "dpo:bob")[0] == 0
    assert [a["actor"] for a in accesses(ledger)] == ["dpo:alice", "dpo:bob"]


def test_log_records_each_subject_shown_in_one_append(run: Run, ledger: Ledger) -> None:
    head = ledger.head()[0]
    code, out, _ = run("log", "--json")
    assert code == 0
    shown = [json.loads(line) for line in out.splitlines()]
    assert [e["seq"] for e in shown] == list(range(1, head + 1))  # not its own records
    recs = accesses(ledger)
    assert {a["subject"]: (a["payload"]["first_seq"], a["payload"]["entries"])
            for a in recs} == {ledger.pseudonym(A): (3, 1), ledger.pseudonym(B): (5, 1)}
    assert [a["seq"] for a in recs] == [head + 1, head + 2]
    assert len({a["recorded_at"] for a in recs}) == 1          # one transaction
    assert {a["payload"]["view"] for a in recs} == {"log"}
    assert run("log", "--subject", B)[0] == 0
    assert accesses(ledger)[-1]["subject"] == ledger.pseudonym(B)
    assert len(accesses(ledger)) == 3
    # listing the access records (or consents) shows no personal value: not recorded
    assert run("log", "--type", "PersonalDataAccessed")[0] == 0
    assert run("log", "--type", "ConsentGiven")[0] == 0
    assert len(accesses(ledger)) == 3


def test_export_and_replay_record_one_access(run: Run, ledger: Ledger,
                                             tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    assert run("export", A, "-o", str(out), "--reason", "Art. 15 request")[0] == 0
    [a] = accesses(ledger)
    assert a["subject"] == ledger.pseudonym(A)
    assert a["payload"]["view"] == "export" and a["payload"]["reason"] == "Art. 15 request"
    code, text, _ = run("replay", "--subject", B, "--json")
    assert code == 0 and json.loads(text)["entries"]
    b = accesses(ledger)[-1]
    assert b["subject"] == ledger.pseudonym(B) and b["payload"]["view"] == "replay"
    assert (b["payload"]["first_seq"], b["payload"]["last_seq"]) == (5, 5)
    assert run("replay")[0] == 0                       # every subject shown: A and B
    assert {a["subject"] for a in accesses(ledger)[2:]} == {ledger.pseudonym(A),
                                                             ledger.pseudonym(B)}
    assert len(accesses(ledger)) == 4


@pytest.mark.parametrize("command", [("show", "3"), ("log",), ("export", A), ("replay",)])
def test_a_refused_read_shows_and_records_nothing(run: Run, ledger: Ledger,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  command: tuple[str, ...]) -> None:
    head = ledger.head()
    monkeypatch.setenv(REASON_SETTING, "1")
    code, out, err = run(*command)
    assert code == 2 and out == "" and "--reason" in err
    # the read cannot be recorded (an invalid actor): nothing is shown
    code, out, err = run(*command, "--reason", "audit", "--actor", "not a name")
    assert code == 2 and out == "" and "actor" in err
    assert ledger.head() == head
    assert run(*command, "--reason", "audit")[0] == 0
    assert accesses(ledger) and all(a["payload"]["reason"] == "audit"
                                    for a in accesses(ledger))


def test_show_of_a_missing_entry_records_nothing(run: Run, ledger: Ledger) -> None:
    head = ledger.head()
    assert run("show", "99")[0] == 2
    assert ledger.head() == head


def test_reads_of_an_erased_subject_are_still_recorded(run: Run, ledger: Ledger,
                                                       tmp_path: Path) -> None:
    ledger.erase(A, ground="consent_withdrawn")
    assert run("export", A, "-o", str(tmp_path / "e.json"))[0] == 0
    code, out, _ = run("log", "--subject", A, "--json")
    assert code == 0 and "Durand" not in out and "[erased]" in out
    recs = accesses(ledger)
    assert [a["payload"]["view"] for a in recs] == ["export", "log"]
    assert {a["subject"] for a in recs} == {ledger.pseudonym(A)}


def test_accesses_register_and_its_filters(run: Run, ledger: Ledger, clock: Clock) -> None:
    def read(subject: str, actor: str, at: str) -> dict[str, Any]:
        return {"type": "PersonalDataAccessed", "subject": subject, "actor": actor,
                "occurred_at": at, "data": {"view": "export", "channel": "api",
                                            "reason": "test"}}
    clock.now += timedelta(days=1)   # recorded 2024-06-02
    first = ledger.append([read(A, "dpo:alice", "2024-05-10T10:00:00Z"),
                           read(B, "dpo:bob", "2024-05-20T10:00:00Z")])
    clock.now += timedelta(days=1)   # recorded 2024-06-03 (the last one back-dated)
    last = ledger.append([read(A, "dpo:bob", "2024-05-15T10:00:00Z")])[0]

    def seqs(*args: str) -> list[int]:
        code, out, err = run("accesses", "--json", *args)
        assert code == 0, err
        return [a["seq"] for a in json.loads(out)["accesses"]]
    s1, s2, s3 = first[0].seq, first[1].seq, last.seq
    assert seqs() == [s1, s2, s3]
    assert seqs("--subject", A) == [s1, s3]
    assert seqs("--subject", f"pseudonym:{ledger.pseudonym(B)}") == [s2]
    assert seqs("--actor", "dpo:bob") == [s2, s3]
    assert seqs("--as-of", "2024-05-16") == [s1, s3]
    assert seqs("--known-at", "2024-06-02") == [s1, s2]
    assert seqs("--as-of", "2024-05-16", "--known-at", "2024-06-02") == [s1]
    assert seqs("--from", "2024-05-15", "--to", "2024-05-20T10:00:00Z") == [s2, s3]
    code, out, _ = run("accesses", "--subject", A)
    assert code == 0 and "reads of personal data: 2" in out and A not in out
    row = json.loads(run("accesses", "--json", "--actor", "dpo:alice")[1])["accesses"][0]
    assert row["view"] == "export" and row["channel"] == "api" and row["reason"] == "test"
    assert run("accesses", "--as-of", "yesterday")[0] == 2


def test_the_chain_verifies_and_holds_no_personal_value(run: Run, ledger: Ledger,
                                                        tmp_path: Path) -> None:
    assert run("log")[0] == 0
    assert run("show", "5", "--reason", "check")[0] == 0
    assert run("export", B, "-o", str(tmp_path / "b.json"))[0] == 0
    assert run("replay", "--subject", A)[0] == 0
    assert len(accesses(ledger)) == 5
    assert ledger.verify().ok
    table = json.dumps([json.loads(r.state) for r in ledger.store.entries()])
    for secret in SECRETS:
        assert secret not in table


@pytest.fixture
def api_env(env: dict[str, str]) -> dict[str, str]:
    return dict(env)


def test_http_export_records_the_token_and_reason(ledger: Ledger, db_url: str,
                                                  api_env: dict[str, str]) -> None:
    history(ledger)
    with api_for(ledger, db_url, api_env, routes=None) as api:
        url = f"/v1/subjects/{quote(A, safe='')}/export"
        for role in ("auditor", "service"):
            assert api.get(url, as_=role).status_code == 403
        assert api.get(url, as_=None).status_code == 401
        assert accesses(ledger) == []                            # refused: not recorded
        r = api.get(url, headers={"Ledger-Access-Reason": "Art. 15 request"})
        assert r.status_code == 200 and "Durand" in r.text
        [a] = accesses(ledger)
        assert a["actor"] == TOKEN_NAMES["dpo"] and a["subject"] == ledger.pseudonym(A)
        assert a["payload"]["view"] == "export" and a["payload"]["channel"] == "http"
        assert a["payload"]["reason"] == "Art. 15 request"
        assert api.get(url, params={"format": "csv"}).status_code == 200
        assert len(accesses(ledger)) == 2
        # the register over HTTP: the registers' roles (dpo only)
        for role in ("auditor", "service"):
            assert api.get("/v1/accesses", as_=role).status_code == 403
        r = api.get("/v1/accesses", params={"subject": A})
        assert r.status_code == 200 and r.json()["count"] == 2
        assert r.json()["accesses"][0]["reason"] == "Art. 15 request"
        assert api.get("/v1/accesses", params={"actor": "nobody"}).json()["count"] == 0
        r = api.get("/v1/accesses", params={"as_of": "soon"})
        assert r.status_code == 422 and r.json()["field"] == "as_of"
    assert ledger.verify().ok


def test_http_reason_required_by_the_setting(ledger: Ledger, db_url: str,
                                             api_env: dict[str, str]) -> None:
    history(ledger)
    api_env[REASON_SETTING] = "1"
    with api_for(ledger, db_url, api_env, routes=None) as api:
        url = f"/v1/subjects/{quote(B, safe='')}/export"
        r = api.get(url)
        assert r.status_code == 422 and r.json()["field"] == "Ledger-Access-Reason"
        assert "Martin" not in r.text and accesses(ledger) == []
        r = api.get(url, headers={"Ledger-Access-Reason": " "})
        assert r.status_code == 422 and r.json()["field"] == "Ledger-Access-Reason"
        assert api.get(url, headers={"Ledger-Access-Reason": "audit"}).status_code == 200
        assert len(accesses(ledger)) == 1


def test_auditor_proofs_and_verification_are_not_personal_reads(
        ledger: Ledger, db_url: str, api_env: dict[str, str]) -> None:
    history(ledger)
    with api_for(ledger, db_url, api_env, routes=None) as api:
        assert api.get("/v1/verify", as_="auditor").status_code == 200
    assert accesses(ledger) == []


def require_reasons(ledger: Ledger) -> None:
    """Publish a policy (in force from now) that asks every read to say why."""
    import dataclasses

    from ledger.domain.policy import bundled_policy

    policy = dataclasses.replace(bundled_policy(), version="2024-06-01-reasons",
                                 effective_at=ledger.clock() - timedelta(hours=1),
                                 access_reason_required=True)
    ledger.publish_policy(policy, actor="dpo")


def test_a_policy_can_require_a_reason_for_every_read(run: Run, ledger: Ledger) -> None:
    assert run("show", "3")[0] == 0  # the bundled policy asks none
    require_reasons(ledger)
    before = len(accesses(ledger))
    code, out, err = run("show", "3")
    assert code == 2 and "--reason: is required: policy 2024-06-01-reasons" in err, err
    assert "Durand" not in out + err and len(accesses(ledger)) == before
    assert run("export", A, "-o", "-")[0] == 2 and len(accesses(ledger)) == before
    assert run("show", "3", "--reason", "complaint 2024-17")[0] == 0
    assert len(accesses(ledger)) == before + 1
    # the rule holds on every path, the Python API included
    with pytest.raises(InputError) as err_api:
        ledger.append([{"type": "PersonalDataAccessed", "subject": A,
                        "occurred_at": "2024-06-01T12:00:00Z",
                        "data": {"view": "show", "channel": "cli"}}])
    assert err_api.value.field == "data.reason"


def test_http_reason_required_by_the_policy(ledger: Ledger, db_url: str,
                                            api_env: dict[str, str]) -> None:
    history(ledger)
    require_reasons(ledger)
    with api_for(ledger, db_url, api_env, routes=None) as api:
        url = f"/v1/subjects/{quote(B, safe='')}/export"
        r = api.get(url)
        assert r.status_code == 422 and r.json()["field"] == "Ledger-Access-Reason", r.text
        assert "Martin" not in r.text and accesses(ledger) == []
        assert api.get(url, headers={"Ledger-Access-Reason": "audit"}).status_code == 200
        assert len(accesses(ledger)) == 1
