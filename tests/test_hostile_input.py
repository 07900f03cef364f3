"""Issue 13 items 1, 3, 4 and 5: hostile input over HTTP and ``ledger append``, on both
databases.  Deep nesting, duplicate keys, encodings other than UTF-8 and text-disguising
format characters are refused with a 4xx / exit 2 naming the field, and store nothing;
what an older ledger already stored is shown safely by every reader.
"""

from __future__ import annotations

import codecs
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from ledger.app.application import Ledger
from ledger.domain.json_input import TOO_DEEP_SHOWN
from tests.helpers import collect, consent
from tests.http_kit import Api, api_for
from tests.test_cli import run

AT = "2024-05-01T10:00:00+02:00"
PERSON = "zoe.hostile@example.fr"


def nested(levels: int, leaf: Any = "x") -> Any:
    value = leaf
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


def deep_text(levels: int) -> str:
    """The JSON text of :func:`nested` built as text (no recursion in the test either)."""
    opens, closes = [], []
    for i in reversed(range(levels)):
        opens.append("[" if i % 2 else '{"k":')
        closes.append("]" if i % 2 else "}")
    return "".join(opens) + '"x"' + "".join(reversed(closes))


def fill(template: str, **values: str) -> str:
    """``template`` with ``<NAME>`` replaced (JSON texts are full of braces)."""
    for name, value in {"P": PERSON, "T": AT, **values}.items():
        template = template.replace(f"<{name}>", value)
    return template


def with_value(kind: str, text: str) -> str:
    """An event whose free-form field ``kind`` holds the JSON text ``text``."""
    if kind == "evidence":
        return fill('{"type":"ConsentGiven","subject":"<P>","occurred_at":"<T>","data":{'
                    '"purpose":"recruitment","method":"form","evidence":<V>}}', V=text)
    if kind == "details":
        return fill('{"type":"RightsRequestReceived","subject":"<P>","occurred_at":"<T>",'
                    '"data":{"request_id":"R1","right":"access","channel":"email",'
                    '"details":<V>}}', V=text)
    return fill('{"type":"DataCollected","subject":"<P>","occurred_at":"<T>","data":{'
                '"category":"identification_contact","purpose":"recruitment",'
                '"source":"subject","values":{"email":<V>}}}', V=text)


FIELDS = {"evidence": "data.evidence", "details": "data.details", "values": "data.values.email"}


@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    ledger.append([consent(PERSON)])
    with api_for(ledger, db_url, env, routes=None) as a:
        yield a


def post(api: Api, body: bytes, content_type: str = "application/json") -> Any:
    return api.post("/v1/events", content=body, headers={"Content-Type": content_type})


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["status"] == status and r.headers["content-type"] == "application/problem+json"
    return body


# -- 1. deep nesting ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(FIELDS))
@pytest.mark.parametrize("levels", [33, 950])
def test_deep_free_form_values_are_422_naming_the_field(api: Api, ledger: Ledger, kind: str,
                                                       levels: int) -> None:
    head = ledger.head()
    p = problem(post(api, with_value(kind, deep_text(levels)).encode()), 422)
    # past 64 levels the text is refused before parsing: the path is cut ("data.evidence…")
    assert p["field"].rstrip("…") == FIELDS[kind] and "32" in p["rule"], p
    assert ledger.head() == head


def test_thirty_two_levels_are_accepted(api: Api) -> None:
    r = post(api, with_value("evidence", deep_text(32)).encode())
    assert r.status_code == 201, r.text


def test_a_body_nested_2000_levels_is_422_naming_the_field(api: Api, ledger: Ledger) -> None:
    head = ledger.head()
    p = problem(post(api, with_value("evidence", deep_text(2000)).encode()), 422)
    assert p["field"] == "data.evidence…" and "nested more than 64 levels" in p["rule"]
    p = problem(post(api, f"[{with_value('details', deep_text(2000))}]".encode()), 422)
    assert p["field"] == "data.details…" and p["index"] == 0
    p = problem(post(api, b"[" * 2000 + b"]" * 2000), 400)   # no member to name
    assert p["field"] == "body" and "nested" in p["rule"]
    assert ledger.head() == head


@pytest.mark.parametrize(("levels", "where"), [(40, "line 1: data.evidence: must not be "
                                                     "nested more than 32 levels"),
                                               (950, "line 1: data.evidence…: is nested more "
                                                     "than 64 levels deep"),
                                               (2000, "line 1: data.evidence…: is nested "
                                                      "more than 64 levels deep")])
def test_append_refuses_deep_values_with_exit_2(cli_env: dict[str, str], tmp_path: Path,
                                                levels: int, where: str) -> None:
    assert run(cli_env, "init").returncode == 0
    assert run(cli_env, "policy", "publish", "bundled").returncode == 0
    batch = tmp_path / "deep.jsonl"
    batch.write_text(with_value("evidence", deep_text(levels)) + "\n")
    out = run(cli_env, "append", str(batch))
    assert out.returncode == 2, out.stderr
    assert where in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert run(cli_env, "verify").stdout.startswith("OK: 1 entry,")  # the policy only


def test_readers_survive_a_deep_value_stored_before_the_limit(
        api: Api, ledger: Ledger, cli_env: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An older ledger accepted deep values (950 levels over HTTP); one stored 5,000 levels
    deep (sealed as such, as a rogue writer could) is shown as a marker by export (JSON,
    CSV), log and show: never a 500 or a traceback."""
    from ledger.keys import sealing

    plain = sealing.canonical_bytes
    monkeypatch.setattr(sealing, "canonical_bytes", lambda v: deep_text(5000).encode()
                        if v == "DEEP" else plain(v))
    [receipt] = ledger.append([consent(PERSON, evidence="DEEP")])
    monkeypatch.undo()
    subject = quote(PERSON, safe="")
    doc = api.get(f"/v1/subjects/{subject}/export")
    assert doc.status_code == 200, doc.text
    assert TOO_DEEP_SHOWN in doc.text
    csv = api.get(f"/v1/subjects/{subject}/export", params={"format": "csv"})
    assert csv.status_code == 200, csv.text
    assert zipfile.ZipFile(io.BytesIO(csv.content)).namelist()
    for args in (["show", str(receipt.seq)], ["show", str(receipt.seq), "--json"],
                 ["log", "--subject", PERSON], ["log", "--json"]):
        out = run(cli_env, *args)
        assert out.returncode == 0 and TOO_DEEP_SHOWN in out.stdout, out.stderr[-500:]
    assert run(cli_env, "verify").returncode == 0


# -- 3. duplicate keys ----------------------------------------------------------------------
DUPLICATES = [
    (fill('{"type":"ConsentRefused","type":"ConsentGiven","subject":"a@x.fr",'
          '"subject":"b@x.fr","occurred_at":"<T>","data":{"purpose":"recruitment",'
          '"method":"form"}}'), "type", None),
    (fill('{"type":"ConsentGiven","subject":"a@x.fr","occurred_at":"<T>","data":{'
          '"purpose":"recruitment","method":"form","method":"paper"}}'), "data.method", None),
    (fill('[{"type":"ConsentGiven","subject":"a@x.fr","occurred_at":"<T>","data":{'
          '"purpose":"recruitment","method":"form"}},{"type":"ConsentGiven",'
          '"subject":"a@x.fr","occurred_at":"<T>","data":{"purpose":"recruitment",'
          '"method":"form","evidence":{"<P>":1,"<P>":2}}}]'),
     "data.evidence.(unknown key)", 1),
]


@pytest.mark.parametrize(("body", "field", "index"), DUPLICATES)
def test_duplicate_keys_are_422_naming_the_path(api: Api, ledger: Ledger, body: str,
                                                field: str, index: int | None) -> None:
    head = ledger.head()
    r = post(api, body.encode())
    p = problem(r, 422)
    assert p["field"] == field and "more than once" in p["rule"], p
    assert p.get("index") == index
    assert PERSON not in r.text
    assert ledger.head() == head


def test_append_refuses_duplicate_keys(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert run(cli_env, "init").returncode == 0
    assert run(cli_env, "policy", "publish", "bundled").returncode == 0
    batch = tmp_path / "dup.jsonl"
    batch.write_text(json.dumps(consent("ok@x.fr")) + "\n" + DUPLICATES[0][0] + "\n")
    out = run(cli_env, "append", str(batch))
    assert out.returncode == 2 and "line 2: type: is given more than once" in out.stderr, \
        out.stderr
    assert run(cli_env, "log", "--json").stdout.count("\n") == 1


# -- 4. UTF-8 only --------------------------------------------------------------------------
def event_text() -> str:
    return json.dumps(consent("u@x.fr"))


@pytest.mark.parametrize("encode", [
    lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
    lambda t: t.encode("utf-16-be"),
    lambda t: t.encode("utf-16-le"),
    lambda t: t.encode("utf-32"),
    lambda t: t.replace("u@x.fr", "\u00e9@x.fr").encode("latin-1"),
], ids=["utf-16 with BOM", "utf-16-be", "utf-16-le", "utf-32", "latin-1"])
def test_a_body_that_is_not_utf8_is_400(api: Api, ledger: Ledger, encode: Any) -> None:
    head = ledger.head()
    p = problem(post(api, encode(event_text())), 400)
    assert p["field"] == "body" and "UTF-8" in p["rule"], p
    assert ledger.head() == head


def test_a_utf8_bom_is_ignored(api: Api) -> None:
    r = post(api, codecs.BOM_UTF8 + event_text().encode())
    assert r.status_code == 201, r.text


def test_append_reads_utf8_only_naming_the_line(cli_env: dict[str, str],
                                                tmp_path: Path) -> None:
    assert run(cli_env, "init").returncode == 0
    assert run(cli_env, "policy", "publish", "bundled").returncode == 0
    batch = tmp_path / "b.jsonl"
    batch.write_bytes(codecs.BOM_UTF16_LE + (event_text() + "\n").encode("utf-16-le"))
    out = run(cli_env, "append", str(batch))
    assert out.returncode == 2 and "line 1: event: must be UTF-8" in out.stderr, out.stderr
    batch.write_bytes((event_text() + "\n").encode() + event_text().replace(
        "u@x.fr", "\u00e9@x.fr").encode("latin-1") + b"\n")
    out = run(cli_env, "append", str(batch))
    assert out.returncode == 2 and "line 2: event: must be UTF-8" in out.stderr, out.stderr
    assert run(cli_env, "log", "--json").stdout.count("\n") == 1
    batch.write_bytes(codecs.BOM_UTF8 + (event_text() + "\n").encode())  # a UTF-8 BOM: fine
    out = run(cli_env, "append", str(batch))
    assert out.returncode == 0, out.stderr


# -- 5. bidirectional and invisible format characters ----------------------------------------
def breach(description: str) -> dict[str, Any]:
    return {"type": "BreachDetected", "occurred_at": AT, "data": {
        "breach_id": "B1", "nature": ["confidentiality"], "risk": "risk",
        "description": description}}


@pytest.mark.parametrize("char", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f",
                                  "\u061c", "\u200b", "\u2060", "\u00ad", "\ufeff",
                                  "\U000e0041"])
def test_format_characters_are_refused_in_text(api: Api, ledger: Ledger, char: str) -> None:
    head = ledger.head()
    p = problem(api.post("/v1/events", json=breach(f"server {char}room 3")), 422)
    assert p["field"] == "data.description" and f"U+{ord(char):04X}" in p["rule"], p
    p = problem(api.post("/v1/events", json=consent(f"a{char}@x.fr")), 422)
    assert p["field"] == "subject", p
    p = problem(api.post("/v1/events", json=consent(
        "a@x.fr", evidence={"banner": [f"I agree{char}"]})), 422)
    assert p["field"] == "data.evidence", p
    assert ledger.head() == head


def test_joiners_are_allowed(api: Api) -> None:
    for text in ("family \U0001f468\u200d\U0001f469\u200d\U0001f467", "\u0645\u06cc\u200c\u0631"):
        r = api.post("/v1/events", json=breach(text) | {"data": breach(text)["data"] | {
            "breach_id": f"B{len(text)}"}})
        assert r.status_code == 201, r.text


def test_append_refuses_format_characters(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert run(cli_env, "init").returncode == 0
    batch = tmp_path / "b.jsonl"
    batch.write_text(json.dumps(breach("pay \u202egnp.exe")) + "\n")
    out = run(cli_env, "append", str(batch))
    assert out.returncode == 2, out.stderr
    assert "line 1: data.description: must not contain bidirectional" in out.stderr


def test_stored_format_characters_are_shown_escaped(
        ledger: Ledger, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries stored before the rule: log and show print ``\\u202e``, not the character."""
    from ledger.domain import event_fields  # where the text of a field is checked

    monkeypatch.setattr(event_fields, "disguising_character", lambda _: None)
    ledger.append([breach("pay \u202egnp.exe\x9b"), consent(PERSON),
                   collect(PERSON, {"email": PERSON, "last_name": "Dur\u2067and"})])
    monkeypatch.undo()
    for args in (["log"], ["show", "2"], ["show", "4"], ["log", "--subject", PERSON]):
        out = run(cli_env, *args)
        assert out.returncode == 0, out.stderr
        for char in ("\u202e", "\u2067", "\x9b"):
            assert char not in out.stdout
    assert "\\u202e" in run(cli_env, "show", "2").stdout
    assert "\\u2067" in run(cli_env, "show", "4").stdout
    assert "\\u202e" in run(cli_env, "log").stdout
    assert "\u202e" in json.loads(run(cli_env, "show", "2", "--json").stdout)["data"][
        "description"]                                          # JSON keeps the data as is


def test_policy_texts_refuse_format_characters() -> None:
    from ledger.domain.policy import load_policy
    from ledger.errors import PolicyError

    toml = (Path(__file__).parent.parent / "src/ledger/domain/policies/xp2cloud.toml").read_text()
    hidden = toml.replace('description = "Données d\'identification',
                          'description = "Donn\u202ees d\'identification', 1)
    assert hidden != toml
    with pytest.raises(PolicyError, match="U\\+202E"):
        load_policy(hidden)
    assert load_policy(toml.replace("« Gestion", "\u200d« Gestion", 1))
