"""Concurrent clients against a real ``ledger serve``: retries store each event once."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from ledger.app.application import Ledger
from ledger.app.tokens import Tokens
from tests.helpers import consent
from tests.http_kit import served

CLIENTS = 8
ROUNDS = 3


@pytest.mark.slow
def test_concurrent_retries_store_each_event_once(ledger: Ledger, db_url: str,
                                                  env: dict[str, str]) -> None:
    tokens = Tokens(ledger.store)
    service = {"Authorization": f"Bearer {tokens.create('crm', 'service')}"}
    auditor = {"Authorization": f"Bearer {tokens.create('audit', 'auditor')}"}
    events = [{"event_id": str(uuid.uuid4()), **consent(f"p{i}@example.fr")}
              for i in range(40)]
    batches = [events[i:i + 10] for i in range(0, len(events), 10)]

    with served(db_url, env) as base:
        def client(k: int) -> tuple[list[int], list[tuple[str, int, str]]]:
            order = random.Random(k)
            statuses: list[int] = []
            receipts: list[tuple[str, int, str]] = []
            with httpx.Client(base_url=base, headers=service, timeout=120) as http:
                for _ in range(ROUNDS):  # every client sends every batch, again and again
                    for batch in order.sample(batches, len(batches)):
                        r = http.post("/v1/events", json=batch)
                        statuses.append(r.status_code)
                        receipts += [(x["event_id"], x["seq"], x["hash"]) for x in r.json()]
            return statuses, receipts

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(client, range(CLIENTS)))
        verdict = httpx.get(base + "/v1/verify", headers=auditor, timeout=120)

    statuses = [s for r in results for s in r[0]]
    assert len(statuses) == CLIENTS * ROUNDS * len(batches)
    # each (disjoint) batch was stored by exactly one request; every other one was a retry
    assert statuses.count(201) == len(batches)
    assert statuses.count(200) == len(statuses) - len(batches)
    seen: dict[str, set[tuple[int, str]]] = {}
    for _, receipts in results:
        for event_id, seq, digest in receipts:
            seen.setdefault(event_id, set()).add((seq, digest))
    assert set(seen) == {e["event_id"] for e in events}
    assert all(len(v) == 1 for v in seen.values())  # one seq and hash per event, always
    assert sorted(seq for v in seen.values() for seq, _ in v) == list(range(2, 42))
    assert ledger.head()[0] == 41
    assert verdict.status_code == 200
    assert verdict.json()["ok"] is True and verdict.json()["entries"] == 41
