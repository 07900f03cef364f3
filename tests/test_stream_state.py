"""The folded stream state (issue 15): an append reads one state row per stream and index
look-ups, never the stream's whole history, and decides exactly as a fold of the whole
history would; the stored state equals a replay of the chain; an old ledger (no state)
has it built by its next append; the rows an append reads do not grow with history."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.app.append import policies
from ledger.app.application import Ledger
from ledger.app.stream_state import fold_rows
from ledger.domain.events import Draft, payload_of
from ledger.domain.rules import BreachState, Recorded, SubjectState, check_draft
from ledger.errors import InputError
from ledger.storage import AppendTx
from ledger.storage.common import CountingCursor
from tests.helpers import collect, consent

BASE = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
PURPOSES = ["recruitment", "visitor_insights", "service_improvement"]


def _at(day: int, minute: int) -> str:
    return (BASE + timedelta(days=day, minutes=minute)).isoformat()


def _event(kind: str, who: str, *, day: int, minute: int, n: int,
           ids: list[tuple[str, str]],
           purpose: str) -> dict[str, Any]:
    """One event of ``kind`` for subject ``who`` (``n`` picks ids among few, so that
    duplicates, unknown ids and re-uses happen)."""
    at = _at(day, minute)
    s = {"subject": who, "occurred_at": at}
    ref = f"r{n % 3}"
    if kind in ("ConsentGiven", "ConsentWithdrawn", "ConsentRefused"):
        if purpose == "service_improvement":  # not consent-based: consent to the others
            purpose = "visitor_insights" if n % 2 else "recruitment"
        if kind == "ConsentGiven":  # earlier, so that more collections are covered
            s["occurred_at"] = _at(day // 3, minute)
        return {"type": kind, **s, "data": {"purpose": purpose, "method": "form"}}
    if kind == "DataCollected":
        cat = "connection_browsing" if purpose != "recruitment" else "identification_contact"
        values = {"ip_address": "10.0.0.1"} if cat == "connection_browsing" else {"email": who}
        return {**collect(who, values=values, at=at, category=cat, purpose=purpose),
                "event_id": str(uuid.uuid4())}
    if kind == "DataRectified":
        cid, category = ids[n % len(ids)] if ids and n % 6 else (str(uuid.uuid4()), "")
        field = "email" if (category == "identification_contact") == bool(n % 5) \
            else "ip_address"  # mostly a field of the collection's category
        return {"type": kind, **s, "data": {"collection_id": cid, "values": {field: "x"}}}
    data: dict[str, Any] = {
        "RightsRequestReceived": {"request_id": ref, "right": "access", "channel": "email"},
        "RightsRequestExtended": {"request_id": ref, "reason": "complex"},
        "RightsRequestFulfilled": {"request_id": ref},
        "LegalHoldPlaced": {"hold_id": ref, "basis": "litigation"},
        "LegalHoldReleased": {"hold_id": ref},
        "ProcessingRestricted": {"restriction_id": ref, "ground": "accuracy_contested",
                                 **({"purposes": [purpose]} if n % 2 else {})},
        "RestrictionLifted": {"restriction_id": ref},
        "DataAnonymised": {"categories": ["connection_browsing"], "method": "suppression"},
        "SubjectErased": {"ground": "no_longer_necessary"},
        "PersonalDataAccessed": {"view": "show", "channel": "cli", "reason": "audit"},
    }[kind]
    return {"type": kind, **s, "data": data}


def _breach(kind: str, breach_id: str, day: int, n: int) -> dict[str, Any]:
    at = _at(day, 0)
    if kind == "BreachDetected":
        return {"type": kind, "occurred_at": at, "data": {
            "breach_id": breach_id, "nature": ["confidentiality"], "risk": "risk",
            "description": "lost laptop"}}
    return {"type": "BreachNotified", "occurred_at": at, "data": {
        "breach_id": breach_id, "authority": "cnil", **({"supplementary": True} if n % 2
                                                         else {})}}


SUBJECT_KINDS = ["ConsentGiven", "ConsentGiven", "ConsentWithdrawn", "ConsentRefused",
                 "DataCollected", "DataCollected", "DataCollected", "DataRectified",
                 "DataRectified", "DataRectified", "RightsRequestReceived",
                 "RightsRequestExtended", "RightsRequestFulfilled", "LegalHoldPlaced",
                 "LegalHoldReleased", "ProcessingRestricted", "RestrictionLifted",
                 "DataAnonymised", "SubjectErased", "PersonalDataAccessed"]
OPS = st.lists(st.tuples(
    st.sampled_from([*SUBJECT_KINDS, "BreachDetected", "BreachNotified"]),
    st.integers(0, 1),           # which subject / breach
    st.integers(0, 390),         # day: events are often back-dated
    st.integers(0, 600),         # minute
    st.integers(0, 11),          # picks ids
    st.sampled_from(PURPOSES)), min_size=12, max_size=40)


def _personal(d: Draft, payload: dict[str, Any]) -> bool:
    """Whether the append seals a value of this draft (what the stored payload shows)."""
    for name, fs in type(d.event).specs():
        if name in payload and (fs.kind == "values" or fs.personal or (
                fs.kind == "object" and any(sfs.personal and sub in payload[name]
                                            for sub, sfs in fs.sub))):
            return True
    return False


def _expected(ledger: Ledger, raws: list[dict[str, Any]]) -> str:
    """The decision of the previous design on a batch: the whole history of each stream
    folded in memory, then each draft checked and folded in, in batch order."""
    drafts = ledger.parse(raws)

    def decide(tx: AppendTx) -> str:
        head = tx.head()
        seq = 0 if head is None else head.seq
        payloads = [payload_of(d.event) for d in drafts]
        names = [ledger.ring.pseudonym(d.subject) if d.subject else
                 f"breach/{p['breach_id']}" for d, p in zip(drafts, payloads, strict=True)]
        folded = fold_rows(tx.streams(sorted(set(names))))
        book = policies(ledger, tx)
        for line, (d, payload, name) in enumerate(zip(drafts, payloads, names, strict=True),
                                                  start=1):
            subject = folded.subjects.setdefault(name, SubjectState()) \
                if d.subject else SubjectState()
            breach = folded.breaches.setdefault(name, BreachState())
            try:
                check_draft(d, payload, book=book, subject=subject, breach=breach)
            except InputError as exc:
                return f"line {line}: {exc.field}: {exc.rule}"
            seq += 1
            rec = Recorded(seq, d.event_id, d.type, d.occurred_at, payload)
            if d.subject:
                subject.apply(rec)
                subject.personal_since_erasure |= _personal(d, payload)
            else:
                breach.apply(rec)
        return "ok"

    decision: str = ledger.store.read(decide)
    return decision


def _decided(ledger: Ledger, raws: list[dict[str, Any]]) -> str:
    try:
        ledger.append(raws)
    except InputError as exc:
        return f"line {exc.line}: {exc.field}: {exc.rule}"
    return "ok"


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS, cuts=st.lists(st.sampled_from([1, 1, 1, 2, 3]), min_size=40, max_size=40))
def test_random_streams_decide_as_a_full_fold_and_state_equals_a_replay(
        ledger: Ledger, ops: list[tuple[str, int, int, int, int, str]],
        cuts: list[int]) -> None:
    """Random batches (1 to 3 events) of random events, often back-dated, on two subjects
    and two breaches: each batch is accepted or refused (with the same line, field and
    rule) exactly as a fold of the whole history decides; the stored state then equals a
    replay of the chain."""
    ledger.clock = lambda: datetime(2025, 7, 1, tzinfo=UTC)
    run = uuid.uuid4().hex[:8]  # examples share the ledger: their own subjects and breaches
    ids: list[tuple[str, str]] = []  # DataCollected ids and categories of both subjects:
    # rectifications cross them
    raws = []
    for kind, who_n, day, minute, n, purpose in ops:
        if kind.startswith("Breach"):
            raws.append(_breach(kind, f"b-{run}-{who_n}", day, n))
        else:
            raws.append(_event(kind, f"s{who_n}-{run}@x.fr", day=day, minute=minute, n=n,
                               ids=ids, purpose=purpose))
            if kind == "DataCollected":
                ids.append((raws[-1]["event_id"], raws[-1]["data"]["category"]))
    start = 0
    for cut in cuts:
        batch = raws[start:start + cut]
        start += cut
        if batch:
            expected = _expected(ledger, batch)
            assert _decided(ledger, batch) == expected, batch
            event("batch accepted" if expected == "ok" else "batch refused")
            event(f"{len(ids)} collections" if len(ids) < 3 else "3+ collections")
    result = ledger.check_state()
    assert result.same, result.differences
    assert result.built_seq == ledger.head()[0]


def _history(ledger: Ledger, who: str, n: int) -> None:
    ledger.append([consent(who, purpose="visitor_insights")])
    batch = [collect(who, values={"ip_address": "10.0.0.1"}, category="connection_browsing",
                     purpose="visitor_insights", at=_at(0, 10 + i % 500)) for i in range(n)]
    for i in range(0, n, 500):
        ledger.append(batch[i:i + 500])


def _rows_read(ledger: Ledger, raws: list[dict[str, Any]]) -> tuple[int, int]:
    """Rows fetched and statements run by the append transactions of ``raws``."""
    watched: list[CountingCursor] = []
    AppendTx.watch = watched
    try:
        ledger.append(raws)
    finally:
        AppendTx.watch = None
    return sum(c.rows for c in watched), sum(c.statements for c in watched)


def test_an_append_reads_the_same_rows_whatever_the_history(ledger: Ledger) -> None:
    _history(ledger, "short@x.fr", 10)
    _history(ledger, "long@x.fr", 2000)
    ledger.append([consent("probe@x.fr")])  # the policy cache is warm for both below

    def probe(who: str) -> list[dict[str, Any]]:
        # a consent rule (index seek), a rectification (look-up by event id), a request
        first = next(e for e in ledger.log(who) if e["type"] == "DataCollected")
        return [collect(who, values={"ip_address": "10.0.0.2"}, category="connection_browsing",
                        purpose="visitor_insights", at=_at(1, 0)),
                {"type": "DataRectified", "subject": who, "occurred_at": _at(1, 1),
                 "data": {"collection_id": first["event_id"],
                          "values": {"ip_address": "10.0.0.3"}}},
                {"type": "RightsRequestReceived", "subject": who, "occurred_at": _at(1, 2),
                 "data": {"request_id": "q1", "right": "access", "channel": "email"}}]

    short = _rows_read(ledger, probe("short@x.fr"))
    long = _rows_read(ledger, probe("long@x.fr"))
    assert short == long
    assert long[0] < 30  # a handful of rows, not the 2,000 of the history


def test_an_old_ledger_has_its_state_built_by_the_next_append(ledger: Ledger,
                                                              db_url: str) -> None:
    who = "old@x.fr"
    ledger.append([consent(who), collect(who),
                   {"type": "LegalHoldPlaced", "subject": who,
                    "occurred_at": "2024-05-02T10:00:00Z",
                    "data": {"hold_id": "h1", "basis": "litigation"}}])
    erase = {"type": "SubjectErased", "subject": who, "occurred_at": "2024-05-03T10:00:00Z",
             "data": {"ground": "no_longer_necessary"}}
    before = _decided(ledger, [erase])
    assert before.startswith("line 1: subject: a legal hold is active (h1)")

    def forget(tx: AppendTx) -> None:  # what a ledger of the previous version holds
        for table in ("ledger_stream_state", "ledger_consent_choices",
                      "ledger_stream_state_built"):
            tx.c.execute(tx._sql(f"DELETE FROM {tx.t.q(table)}"))

    ledger.store.append(forget)
    assert not ledger.check_state().same
    # the decisions are the same: the hold still blocks, the consent still covers
    assert _decided(ledger, [erase]) == before
    assert _decided(ledger, [collect(who, at="2024-05-02T11:00:00Z")]) == "ok"
    result = ledger.check_state()
    assert result.same, result.differences
    assert result.streams == 1 and result.choices == 1


def test_the_state_holds_no_personal_value(ledger: Ledger) -> None:
    who = "jeanne.durand@example.fr"
    ledger.append([consent(who, evidence="signed by Jeanne Durand"),
                   collect(who, values={"email": who, "last_name": "Durand"})])

    def stored(tx: AppendTx) -> str:
        return json.dumps([tx.all_stream_states(), tx.all_choices()])

    text = ledger.store.read(stored)
    assert "Durand" not in text and "jeanne" not in text.lower()
    assert ledger.pseudonym(who) in text  # it is the subject's state, by pseudonym


def test_state_commands(cli_env: dict[str, str], ledger: Ledger) -> None:
    ledger.append([consent("cli@x.fr"), collect("cli@x.fr")])

    def ledger_cmd(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ledger.cli", *args], env=cli_env,
                              capture_output=True, text=True, check=False)

    out = ledger_cmd("state", "check")
    assert out.returncode == 0 and "same as a replay of the chain" in out.stdout, out
    ledger.store.append(lambda tx: tx.c.execute(tx._sql(
        f"UPDATE {tx.t.q('ledger_stream_state')} SET state='{{}}'")))
    out = ledger_cmd("state", "check", "--json")
    assert out.returncode == 1 and json.loads(out.stdout)["same"] is False, out
    out = ledger_cmd("state", "rebuild")
    assert out.returncode == 0 and "rebuilt from the chain: 1 stream" in out.stdout, out
    assert json.loads(ledger_cmd("state", "check", "--json").stdout)["same"] is True


def test_a_ledger_without_entries_checks_same(db_url: str, env: dict[str, str]) -> None:
    """Right after `ledger init` nothing is built and nothing needs to be."""
    led, _ = Ledger.init(db_url, env=env)
    try:
        result = led.check_state()
        assert result.same and result.head == 0, result
    finally:
        led.close()


@pytest.mark.parametrize("n", [0, 3])
def test_consent_choices_answer_back_dated_questions(ledger: Ledger, n: int) -> None:
    """The latest choice by (occurred_at, seq) at or before T, whatever the order they
    were recorded in: a withdrawal recorded first but occurring later still wins."""
    who = f"late{n}@x.fr"
    ledger.append([consent(who, at="2024-05-01T10:00:00Z")])
    ledger.append([{"type": "ConsentWithdrawn", "subject": who,
                    "occurred_at": "2024-05-10T10:00:00Z",
                    "data": {"purpose": "recruitment", "method": "form"}}])
    for i in range(n):  # more grants, back-dated before the withdrawal
        ledger.append([consent(who, at=f"2024-05-0{2 + i}T10:00:00Z")])
    assert _decided(ledger, [collect(who, at="2024-05-11T10:00:00Z")]).startswith(
        "line 1: data.purpose: is consent-based")
    assert _decided(ledger, [collect(who, at="2024-05-09T10:00:00Z")]) == "ok"


def test_concurrent_appends_to_one_subject_keep_the_state_equal_to_a_replay(
        ledger: Ledger, db_url: str, env: dict[str, str]) -> None:
    """Three connections append to the same subject at once: each append reads the state
    under the append lock, so no update is lost."""
    import threading

    who = "shared@x.fr"
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            with Ledger.open(db_url, env=env) as mine:
                for i in range(8):
                    mine.append([consent(who, at=_at(k, i)),
                                 {"type": "LegalHoldPlaced", "subject": who,
                                  "occurred_at": _at(k, i),
                                  "data": {"hold_id": f"h{k}-{i}", "basis": "litigation"}}])
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = ledger.check_state()
    assert result.same, result.differences
    state = json.loads({s: st_ for s, _, st_ in ledger.store.read(
        lambda tx: tx.all_stream_states())}[ledger.pseudonym(who)])
    assert state["events"] == 48 and len(state["holds"]) == 24


@pytest.mark.postgres
def test_first_appends_of_an_older_postgres_ledger_create_the_state_once(
        env: dict[str, str]) -> None:
    """Eight ledgers of one schema whose state tables are absent (an older version) make
    their first appends at the same instant: every one is acknowledged (the tables are
    created under the init lock; without it PostgreSQL refused 7 of 8 here)."""
    import threading

    import psycopg

    from ledger.domain.policy import bundled_policy
    from tests.conftest import PG_URL, drop_schema, require_pg

    require_pg()
    schema = f"t_race_{uuid.uuid4().hex[:8]}"
    url = f"{PG_URL}?schema={schema}"
    names = [f"race{i}" for i in range(8)]
    try:
        for name in names:
            led, _ = Ledger.init(url, name, env=env)
            led.publish_policy(bundled_policy())
            led.close()
        with psycopg.connect(PG_URL.split("?")[0], autocommit=True) as conn:
            for table in ("ledger_stream_state", "ledger_consent_choices",
                          "ledger_stream_state_built"):
                conn.execute(f'DROP TABLE "{schema}".{table}')
        ledgers = [Ledger.open(url, name, env=env) for name in names]
        errors: list[Exception] = []
        barrier = threading.Barrier(len(ledgers))

        def first_append(led: Ledger) -> None:
            barrier.wait()
            try:
                led.append([consent("a@x.fr")])
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=first_append, args=(led,)) for led in ledgers]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        for led in ledgers:
            assert led.head()[0] == 2 and led.check_state().same
            led.close()
    finally:
        drop_schema(schema)
