"""Sealing and crypto-shredding: nothing personal in clear, erasure is final."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import psycopg
import pytest

from ledger.app.application import ERASED, Ledger
from ledger.errors import KeyError_
from tests.conftest import PG_URL
from tests.helpers import collect, consent

SUBJECT = "camille.durand@example.fr"
VALUES = {"email": SUBJECT, "last_name": "Durandissime", "phone": "+33 6 12 34 56 78"}


def everything_stored(db_url: str) -> bytes:
    """Every byte the database holds for the ledger (files for SQLite, rows for PG)."""
    if db_url.startswith("sqlite:///"):
        base = Path(db_url[len("sqlite:///"):])
        return b"".join(p.read_bytes() for p in base.parent.glob(base.name + "*")
                        if p.is_file())
    schema = db_url.split("schema=")[1]
    out = []
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema=%s",
            (schema,)).fetchall()]
        for t in tables:
            for row in conn.execute(f'SELECT * FROM "{schema}"."{t}"').fetchall():
                for v in row:
                    out.append(bytes(v) if isinstance(v, (bytes, memoryview)) else
                               str(v).encode())
    return b"\n".join(out)


def wrapped_keys(ledger: Ledger, pseudonym: str) -> list[bytes]:
    return [k.wrapped for k in ledger.store.read(lambda tx: tx.keys([pseudonym]))
            if k.wrapped is not None]


def test_nothing_personal_is_stored_in_clear(ledger: Ledger, db_url: str) -> None:
    ledger.append([consent(SUBJECT, evidence="signed form #A-77"),
                   collect(SUBJECT, values=VALUES)])
    blob = everything_stored(db_url)
    for secret in [SUBJECT, "Durandissime", "+33 6 12 34 56 78", "signed form #A-77"]:
        assert secret.encode() not in blob
    pseudonym = ledger.pseudonym(SUBJECT)
    assert pseudonym.encode() in blob  # events are indexed by the pseudonym
    shown = ledger.show(3)
    assert shown is not None and shown["data"]["values"] == VALUES


def test_erasure_shreds_keys_and_keeps_the_chain(ledger: Ledger, db_url: str) -> None:
    ledger.append([consent(SUBJECT, evidence="signed form #A-77"),
                   collect(SUBJECT, values=VALUES), consent("other@example.fr"),
                   collect("other@example.fr")])
    pseudonym = ledger.pseudonym(SUBJECT)
    keys = wrapped_keys(ledger, pseudonym)
    assert len(keys) == 2  # one for the subject's own fields, one per data category
    stored_before = everything_stored(db_url)
    assert all(k in stored_before for k in keys)  # the scan below can see them
    before = [r.hash for r in ledger.store.entries()]
    ledger.erase(SUBJECT, ground="consent_withdrawn")
    assert wrapped_keys(ledger, pseudonym) == []
    # hashes unchanged, chain valid
    assert [r.hash for r in ledger.store.entries()][:-1] == before
    assert ledger.verify().ok
    # every command now shows [erased] for this subject, the other subject is intact
    mine = list(ledger.log(SUBJECT))
    assert mine[0]["data"]["evidence"] == ERASED
    assert set(mine[1]["data"]["values"].values()) == {ERASED}
    assert mine[-1]["type"] == "SubjectErased"
    theirs = list(ledger.log("other@example.fr"))
    assert theirs[1]["data"]["values"]["email"] == "other@example.fr"
    # no byte of the wrapped keys is left anywhere the database keeps data
    blob = everything_stored(db_url)
    for k in keys:
        assert k not in blob
        assert base64.b64encode(k) not in blob
    assert SUBJECT.encode() not in blob and b"Durandissime" not in blob


def test_new_data_after_erasure_gets_a_new_key(ledger: Ledger) -> None:
    ledger.append([consent(SUBJECT), collect(SUBJECT)])
    ledger.erase(SUBJECT, ground="consent_withdrawn")
    ledger.append([consent(SUBJECT, at="2024-05-20T10:00:00Z"),
                   collect(SUBJECT, at="2024-05-20T10:01:00Z",
                           values={"email": "new@example.fr"})])
    entries = list(ledger.log(SUBJECT))
    assert entries[1]["data"]["values"]["email"] == ERASED
    assert entries[-1]["data"]["values"]["email"] == "new@example.fr"
    sealed = json.loads(next(iter(ledger.store.entries(start=6))).state)
    assert ":2:" in sealed["payload"]["values"]["email"]  # epoch 2


def test_anonymisation_shreds_only_its_categories(ledger: Ledger) -> None:
    ledger.append([consent(SUBJECT), collect(SUBJECT, values={"email": SUBJECT}),
                   collect(SUBJECT, category="application", values={"cv": "cv-2024.pdf"}),
                   {"type": "DataAnonymised", "subject": SUBJECT,
                    "occurred_at": "2024-05-03T10:00:00Z",
                    "data": {"categories": ["application"], "method": "suppression"}}])
    entries = list(ledger.log(SUBJECT))
    assert entries[1]["data"]["values"]["email"] == SUBJECT
    assert entries[2]["data"]["values"]["cv"] == ERASED


def test_sealed_values_are_bound_to_their_place(ledger: Ledger) -> None:
    """A sealed value copied into another event (same subject, same key) does not open."""
    ledger.append([consent(SUBJECT, evidence="form-1"), consent(SUBJECT, evidence="form-2",
                                                                purpose="visitor_insights")])
    e2, e3 = (json.loads(r.state) for r in ledger.store.entries(start=2))
    from ledger.app.tx_keys import TxKeys as _Keys
    from ledger.keys.sealing import parse_sealed
    keys = _Keys(ledger.ring, ledger.store.read(lambda tx: tx.keys([e2["subject"]])))
    ref = parse_sealed(e2["payload"]["evidence"])
    key = keys.for_opening(e2["subject"], ref.scope, ref.epoch)
    assert key is not None
    with pytest.raises(KeyError_, match="does not open"):
        ledger.ring.open(ref, key=key, subject=e3["subject"], event_id=e3["event_id"],
                         path="data.evidence")


def test_wrong_master_key_is_refused(db_url: str, env: dict[str, str], tmp_path: Path) -> None:
    Ledger.init(db_url, env=env)[0].close()
    other = {"LEDGER_KEY_DIR": str(tmp_path / "other-keys")}
    Path(other["LEDGER_KEY_DIR"]).mkdir(mode=0o700)
    (Path(other["LEDGER_KEY_DIR"]) / "master.key").write_text(
        base64.b64encode(b"k" * 32).decode())
    with pytest.raises(KeyError_, match="does not belong to this ledger"):
        Ledger.open(db_url, env=other)


def test_erasure_in_the_same_batch_as_the_data(ledger: Ledger, db_url: str) -> None:
    """Keys created and destroyed in one transaction leave nothing behind."""
    erase = {"type": "SubjectErased", "subject": SUBJECT, "occurred_at": "2024-05-02T10:00:00Z",
             "data": {"ground": "consent_withdrawn"}}
    ledger.append([consent(SUBJECT, evidence="form"), collect(SUBJECT, values=VALUES), erase])
    assert wrapped_keys(ledger, ledger.pseudonym(SUBJECT)) == []
    assert set(next(iter(ledger.log(SUBJECT, start=3)))["data"]["values"].values()) == {ERASED}
    assert ledger.verify().ok
