"""The use cases the faces call (issue 15 item 1): the actor rule (ledger.app.actors) and
the erasure asked for over HTTP (ledger.app.erasing), without a database."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from ledger.app.actors import check_token_actors, cli_actor, cli_reader, token_reader
from ledger.app.erasing import erasure_event
from ledger.errors import InputError

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_the_cli_actor_is_the_option_then_the_setting_then_the_login() -> None:
    assert cli_actor("dpo:jane", {"LEDGER_ACTOR": "crm"}) == "dpo:jane"
    assert cli_actor(None, {"LEDGER_ACTOR": "crm"}) == "crm"
    assert cli_actor("", {"LEDGER_ACTOR": ""}) == f"cli:{getpass.getuser()}"


def test_the_cli_actor_without_a_login_is_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_login() -> str:
        raise OSError("no login")

    monkeypatch.setattr(getpass, "getuser", no_login)
    assert cli_actor(None, {}) == "cli"


def test_a_token_may_only_append_as_itself_or_a_sub_actor() -> None:
    drafts: Any = [SimpleNamespace(actor="crm"), SimpleNamespace(actor="crm:import")]
    check_token_actors(drafts, "crm")
    for other in ("crm2", "web:crm", None):
        with pytest.raises(InputError) as caught:
            check_token_actors([*drafts, SimpleNamespace(actor=other)], "crm")
        assert (caught.value.field, caught.value.line) == ("actor", 3)
        assert "must be this token's name (crm) or start with 'crm:'" in str(caught.value)


def test_readers_are_recorded_with_their_face_and_refused_without_a_required_reason() -> None:
    by = cli_reader("dpo:jane", "CNIL inquiry 42", {})
    assert (by.actor, by.channel, by.reason) == ("dpo:jane", "cli", "CNIL inquiry 42")
    required = {"LEDGER_REQUIRE_ACCESS_REASON": "1", "LEDGER_ACTOR": "desk"}
    with pytest.raises(InputError, match="--reason: is required"):
        cli_reader(None, None, required)
    with pytest.raises(InputError, match="Ledger-Access-Reason: is required"):
        token_reader("dpo-desk", None, "Ledger-Access-Reason", required)
    by = token_reader("dpo-desk", "audit", "Ledger-Access-Reason", required)
    assert (by.actor, by.channel, by.reason_field) == ("dpo-desk", "http",
                                                       "Ledger-Access-Reason")


def test_an_erasure_without_fields_is_for_no_longer_necessary_data_now() -> None:
    assert erasure_event("julien@example.com", {}, NOW) == {
        "type": "SubjectErased", "subject": "julien@example.com",
        "data": {"ground": "no_longer_necessary"},
        "occurred_at": "2026-03-01T09:30:00.000000Z"}


def test_an_erasure_keeps_the_fields_given_even_null_for_the_rules_to_name() -> None:
    given = {"ground": "objection", "request_id": "REQ-7", "occurred_at": None,
             "event_id": "0b6d5a3e-8c5e-4b8e-9d1f-3a2b1c0d9e8f"}
    assert erasure_event("j", given, NOW) == {
        "type": "SubjectErased", "subject": "j",
        "data": {"ground": "objection", "request_id": "REQ-7"},
        "occurred_at": None, "event_id": "0b6d5a3e-8c5e-4b8e-9d1f-3a2b1c0d9e8f"}
