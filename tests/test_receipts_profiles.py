"""Receipts against the specifications whose names they use (issue 13 item 11).

* Kantara Initiative Consent Receipt Specification v1.1.0 (KI-CR-v1.1.0, 2018-02-20);
* ISO/IEC TS 27560:2023 consent records in W3C DPV terms, as in the DPV guide
  "Consent Records and Receipts as per ISO/IEC TS 27560:2023 using DPV"
  (https://w3id.org/dpv/guides/consent-27560).

Receipts written before (format ``ledger-receipt/1``) are kept in
tests/data/receipts_v1 and must keep verifying.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.app.application import Ledger
from ledger.app.proofs import prover_of
from ledger.app.receipts import make_receipt
from ledger.errors import InputError, VerificationError
from ledger.trust.receipt_check import verify_receipt
from ledger.trust.receipt_formats import postal_address
from tests.helpers import collect, consent

ROOT = Path(__file__).resolve().parent.parent
LEGACY = ROOT / "tests" / "data" / "receipts_v1"

# -- the specification's members, as data ------------------------------------------------------
# KI-CR-v1.1.0 §4 (the consent receipt field tables: JSON name, type, "Required") and
# its appendix's JSON example.  (member → (JSON type, required)).  thirdPartyName is
# required when thirdPartyDisclosure is true.
KANTARA_RECEIPT: dict[str, tuple[type, bool]] = {
    "version": (str, True), "jurisdiction": (str, True), "consentTimestamp": (int, True),
    "collectionMethod": (str, True), "consentReceiptID": (str, True),
    "publicKey": (str, False), "language": (str, False), "piiPrincipalId": (str, True),
    "piiControllers": (list, True), "policyUrl": (str, True), "services": (list, True),
    "sensitive": (bool, True), "spiCat": (list, True),
}
KANTARA_CONTROLLER: dict[str, tuple[type, bool]] = {
    "piiController": (str, True), "onBehalf": (bool, False), "contact": (str, True),
    "address": (dict, True), "email": (str, True), "phone": (str, True),
    "piiControllerUrl": (str, False),
}
KANTARA_SERVICE: dict[str, tuple[type, bool]] = {"service": (str, True),
                                                 "purposes": (list, True)}
KANTARA_PURPOSE: dict[str, tuple[type, bool]] = {
    "purpose": (str, True), "purposeCategory": (list, True), "consentType": (str, True),
    "piiCategory": (list, True), "primaryPurpose": (bool, False),
    "termination": (str, True), "thirdPartyDisclosure": (bool, True),
    "thirdPartyName": (str, False),
}
# KI-CR-v1.1.0 gives `address` the structure of a schema.org PostalAddress.
POSTAL_ADDRESS: dict[str, tuple[type, bool]] = dict.fromkeys(
    ("streetAddress", "postalCode", "addressLocality", "addressRegion", "addressCountry",
     "postOfficeBoxNumber"), (str, False))
# Members the ledger adds (not in KI-CR-v1.1.0), documented in docs/FORMAT.md §13.
EXTENSIONS = {"eventType", "policyVersion", "ledger"}

# Required members every receipt leaves out (docs/FORMAT.md §13 lists them with reasons).
LEFT_OUT_ALWAYS = {"jurisdiction", "sensitive", "spiCat", "piiControllers[].contact",
                   "piiControllers[].phone", "services[].purposes[].purposeCategory",
                   "services[].purposes[].consentType", "services[].purposes[].termination"}
LEFT_OUT_NOT_CONSENT = {"collectionMethod"}
LEFT_OUT_NO_POLICY = {"piiControllers", "policyUrl", "services"}


def _check(obj: Any, table: dict[str, tuple[type, bool]], path: str, generic: str, *,
           left_out: set[str], extra: frozenset[str] | set[str] = frozenset()) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{path or 'receipt'}: must be an object"]
    out = []
    for name, (kind, required) in table.items():
        where = f"{generic}{name}"
        if name not in obj:
            if required and where not in left_out:
                out.append(f"{path}{name}: required, missing")
            continue
        value = obj[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            out.append(f"{path}{name}: must be {kind.__name__}, not {value!r}")
        elif kind is str and not value.strip():
            out.append(f"{path}{name}: must be a non-empty string")
    out += [f"{path}{k}: not a member of the specification" for k in obj
            if k not in table and k not in extra]
    return out


def kantara_violations(receipt: dict[str, Any], left_out: set[str]) -> list[str]:
    """What a JSON-schema check of KI-CR-v1.1.0 finds, apart from ``left_out``."""
    out = _check(receipt, KANTARA_RECEIPT, "", "", left_out=left_out, extra=EXTENSIONS)
    if receipt.get("version") != "KI-CR-v1.1.0":
        out.append("version: must be KI-CR-v1.1.0")
    for i, c in enumerate(receipt.get("piiControllers") or []):
        out += _check(c, KANTARA_CONTROLLER, f"piiControllers[{i}].", "piiControllers[].",
                      left_out=left_out)
        if isinstance(c, dict) and "address" in c:
            out += _check(c["address"], POSTAL_ADDRESS, f"piiControllers[{i}].address.",
                          "address.", left_out=left_out)
    for i, s in enumerate(receipt.get("services") or []):
        out += _check(s, KANTARA_SERVICE, f"services[{i}].", "services[].",
                      left_out=left_out)
        for j, p in enumerate(s.get("purposes") or [] if isinstance(s, dict) else []):
            where = f"services[{i}].purposes[{j}]."
            out += _check(p, KANTARA_PURPOSE, where, "services[].purposes[].",
                          left_out=left_out)
            if isinstance(p, dict):
                if p.get("thirdPartyDisclosure") is True and "thirdPartyName" not in p:
                    out.append(f"{where}thirdPartyName: required with thirdPartyDisclosure")
                if any(not isinstance(x, str) or not x for x in p.get("piiCategory") or []):
                    out.append(f"{where}piiCategory: must hold non-empty strings")
    return out


def _left_out(entry_type: str, cites_policy: bool) -> set[str]:
    out = set(LEFT_OUT_ALWAYS)
    if not entry_type.startswith("Consent"):
        out |= LEFT_OUT_NOT_CONSENT
    if not cites_policy:
        out |= LEFT_OUT_NO_POLICY
    return out


def _receipts_section() -> str:
    text = (ROOT / "docs" / "FORMAT.md").read_text(encoding="utf-8")
    return text[text.index("## 13. Receipts"):text.index("## 14.")]


# -- a ledger with one event of each kind a receipt is asked for ---------------------------------
SUBJECT = "ada@example.fr"


def _history(ledger: Ledger) -> dict[str, int]:
    """Append a consent, a collection, a withdrawal and an anonymisation; their seqs."""
    ledger.append([
        consent(SUBJECT, evidence="form-7"),
        collect(SUBJECT),
        consent(SUBJECT, purpose="cookies_advertising", method="banner"),
        {"type": "ConsentWithdrawn", "subject": SUBJECT, "occurred_at": "2024-05-02T10:00:00Z",
         "data": {"purpose": "cookies_advertising", "method": "settings"}},
        {"type": "DataAnonymised", "subject": SUBJECT, "occurred_at": "2024-05-03T10:00:00Z",
         "data": {"categories": ["identification_contact"], "method": "aggregation"}},
    ])
    return {"policy": 1, "consent": 2, "collection": 3, "advertising": 4, "withdrawal": 5,
            "anonymisation": 6}


@pytest.fixture
def history(ledger: Ledger) -> dict[str, int]:
    return _history(ledger)


def test_kantara_receipts_have_the_members_and_types_the_specification_requires(
        ledger: Ledger, history: dict[str, int]) -> None:
    p = prover_of(ledger)
    key = str(p.verifier_key())
    for name in ("consent", "collection", "advertising", "withdrawal", "anonymisation"):
        r = make_receipt(p, history[name])
        entry = json.loads(r["ledger"]["entry"])
        left_out = _left_out(entry["type"], r["ledger"]["policy"] is not None)
        assert kantara_violations(r, left_out) == [], name
        assert "null" not in json.dumps({k: v for k, v in r.items() if k != "ledger"})
        assert verify_receipt(json.loads(json.dumps(r)), key)["format"] == \
            "ledger-receipt/2 kantara"
    # every left-out member is listed, with its reason, in docs/FORMAT.md §13
    section = _receipts_section()
    for member in LEFT_OUT_ALWAYS | LEFT_OUT_NOT_CONSENT | LEFT_OUT_NO_POLICY:
        assert f"`{member}`" in section, member


def test_the_check_finds_the_defects_of_the_receipts_written_before() -> None:
    """The schema check is not vacuous: the ledger-receipt/1 receipts fail it."""
    old = json.loads((LEGACY / "consent.json").read_text(encoding="utf-8"))
    found = kantara_violations(old, _left_out("ConsentGiven", True))
    assert "version: must be KI-CR-v1.1.0" in found
    assert "piiControllers[0].url: not a member of the specification" in found
    assert any(f.startswith("piiControllers[0].address: must be dict") for f in found)
    anonymised = dict(old, piiPrincipalId=None)          # an organisation event's receipt
    assert any(f.startswith("piiPrincipalId: must be str, not None")
               for f in kantara_violations(anonymised, set()))


def test_the_controller_has_a_url_and_a_postal_address(
        ledger: Ledger, history: dict[str, int]) -> None:
    r = make_receipt(prover_of(ledger), history["consent"])
    [controller] = r["piiControllers"]
    assert controller["piiControllerUrl"] == "https://www.xp2cloud.com"
    assert "url" not in controller
    assert controller["address"] == {"streetAddress": "5, Place de la Pyramide",
                                     "postalCode": "92800", "addressLocality": "Puteaux",
                                     "addressCountry": "France"}
    assert controller["piiController"] == "XP² cloud"


@pytest.mark.parametrize(("line", "expected"), [
    ("5, Place de la Pyramide, 92800 Puteaux, France",
     {"streetAddress": "5, Place de la Pyramide", "postalCode": "92800",
      "addressLocality": "Puteaux", "addressCountry": "France"}),
    ("Keizersgracht 1, 1015 CJ Amsterdam",
     {"streetAddress": "Keizersgracht 1", "postalCode": "1015 CJ",
      "addressLocality": "Amsterdam"}),
    ("Rue Haute 3, 1000 Bruxelles, Belgique",
     {"streetAddress": "Rue Haute 3", "postalCode": "1000", "addressLocality": "Bruxelles",
      "addressCountry": "Belgique"}),
    ("somewhere in Puteaux", None),                         # no postal code: nothing guessed
    ("92800 Puteaux, France", None),                        # no street
    ("1 rue X, 92800 Puteaux, Hauts-de-Seine, France", None),  # two parts after it
    ("1 rue X, , 92800 Puteaux", None),                     # an empty part
    (None, None),
])
def test_the_one_line_address_splits_only_when_it_reads_unambiguously(
        line: str | None, expected: dict[str, str] | None) -> None:
    assert postal_address(line) == expected


def test_collection_method_only_on_consent_events(
        ledger: Ledger, history: dict[str, int]) -> None:
    p = prover_of(ledger)
    assert make_receipt(p, history["consent"])["collectionMethod"] == "form"
    assert make_receipt(p, history["withdrawal"])["collectionMethod"] == "settings"
    for name in ("collection", "anonymisation"):   # the anonymisation technique is no
        r = make_receipt(p, history[name])          # collection method
        assert "collectionMethod" not in r, name
        assert r["eventType"] != "ConsentGiven"


def test_services_name_the_policy_purpose_not_the_event_type(
        ledger: Ledger, history: dict[str, int]) -> None:
    p = prover_of(ledger)
    [service] = make_receipt(p, history["consent"])["services"]
    assert service["service"] == "Recruitment management"       # the purpose's name
    [purpose] = service["purposes"]
    assert purpose["purpose"] == "Gestion du recrutement."        # its description
    assert purpose["piiCategory"] == ["Identification and contact data",
                                      "Job application data"]   # the purpose's categories
    assert purpose["thirdPartyDisclosure"] is False and "thirdPartyName" not in purpose
    [ads] = make_receipt(p, history["advertising"])["services"]
    assert ads["service"] == "Advertising cookies"
    assert ads["purposes"][0]["thirdPartyDisclosure"] is True
    assert ads["purposes"][0]["thirdPartyName"] == "Advertising partners (third-party cookies)"
    [collected] = make_receipt(p, history["collection"])["services"]
    assert collected["purposes"][0]["piiCategory"] == ["Identification and contact data"]
    for name, seq in history.items():
        if name != "policy":
            for s in make_receipt(p, seq).get("services", []):
                assert s["service"] not in {"ConsentGiven", "DataCollected",
                                            "ConsentWithdrawn", "DataAnonymised"}


def test_an_organisation_event_gets_no_kantara_receipt(ledger: Ledger) -> None:
    p = prover_of(ledger)
    assert p.checkpoints() == []
    with pytest.raises(InputError) as caught:
        make_receipt(p, 1)                                   # PolicyPublished
    assert caught.value.field == "SEQ"
    assert "entry 1: PolicyPublished is an organisation-level event" in str(caught.value)
    assert "piiPrincipalId" in str(caught.value)
    assert p.checkpoints() == []                             # refused: nothing signed
    ledger.append([{"type": "BreachDetected", "occurred_at": "2024-05-01T10:00:00Z",
                    "data": {"breach_id": "b-1", "description": "lost laptop",
                             "nature": ["confidentiality"], "risk": "unlikely"}}])
    with pytest.raises(InputError, match="entry 2: BreachDetected is an organisation"):
        make_receipt(p, 2)
    with pytest.raises(InputError, match="--format"):
        make_receipt(p, 1, "pdf")


# -- ISO/IEC TS 27560 with DPV ---------------------------------------------------------------------
# The fields the DPV guide marks "This field MUST be present" (§8.1.1-8.1.3, 8.2.1, 8.3.1,
# 8.3.5, 8.5.2, 8.5.3), as the JSON-LD members that carry them.
DPV_27560_REQUIRED = ("dct:conformsTo", "dct:identifier", "dpv:hasDataSubject", "dpv:hasNotice",
                      "dpv:hasProcess", "dpv:hasDataController", "dpv:hasConsentStatus")


def test_an_iso27560_consent_record_in_dpv_terms(
        ledger: Ledger, history: dict[str, int]) -> None:
    p = prover_of(ledger)
    key = str(p.verifier_key())
    r = make_receipt(p, history["consent"], "iso27560")
    entry = json.loads(r["ledger"]["entry"])
    assert all(m in r for m in DPV_27560_REQUIRED)
    assert r["@type"] == "dpv:ConsentRecord"
    assert r["dct:conformsTo"] == "https://w3id.org/dpv/schema/dpv-27560#record"
    assert r["dct:identifier"] == entry["event_id"]
    assert r["dpv:hasDataSubject"]["dct:identifier"] == f"pseudonym:{entry['subject']}"
    assert r["@context"]["dpv"] == "https://w3id.org/dpv#"
    assert r["@context"]["eu-gdpr"] == "https://w3id.org/dpv/legal/eu/gdpr#"
    [process] = r["dpv:hasProcess"]
    assert process["dpv:hasLegalBasis"] == "eu-gdpr:A6-1-a"         # GDPR Art. 6(1)(a)
    assert process["dpv:hasPurpose"]["dct:title"] == "Recruitment management"
    assert [d["dct:identifier"] for d in process["dpv:hasPersonalData"]] == \
        ["identification_contact", "application"]
    assert r["dpv:hasConsentStatus"] == {"@type": "dpv:ConsentGiven",
                                         "dpv:isIndicatedAtTime": entry["occurred_at"],
                                         "dpv:hasIndicationMethod": "form"}
    assert r["dpv:hasNotice"]["dct:hasVersion"] == "2022-05-14"
    assert r["dpv:hasDataController"]["schema:address"]["schema:postalCode"] == "92800"
    assert verify_receipt(json.loads(json.dumps(r)), key)["format"] == \
        "ledger-receipt/2 iso27560"
    withdrawn = make_receipt(p, history["withdrawal"], "iso27560")
    assert withdrawn["dpv:hasConsentStatus"]["@type"] == "dpv:ConsentWithdrawn"
    assert verify_receipt(withdrawn, key)["ok"]
    ads = make_receipt(p, history["advertising"], "iso27560")
    assert ads["dpv:hasProcess"][0]["dpv:hasRecipient"] == [
        {"@type": "dpv:ThirdParty", "dpv:hasName": "Advertising partners (third-party cookies)"}]
    # tampering with a DPV term is caught like any other summary member
    r["dpv:hasProcess"][0]["dpv:hasLegalBasis"] = "eu-gdpr:A6-1-f"
    with pytest.raises(VerificationError, match="differ from the entry: dpv:hasProcess"):
        verify_receipt(r, key)
    for name in ("collection", "anonymisation"):
        with pytest.raises(InputError, match="not a consent event"):
            make_receipt(p, history[name], "iso27560")


def test_a_receipt_cannot_pose_as_another_profile(
        ledger: Ledger, history: dict[str, int]) -> None:
    p = prover_of(ledger)
    key = str(p.verifier_key())
    r = make_receipt(p, history["consent"])
    r["ledger"]["profile"] = "iso27560"
    with pytest.raises(VerificationError, match="summary fields differ"):
        verify_receipt(r, key)
    r["ledger"]["profile"] = "pdf"
    with pytest.raises(VerificationError, match="unknown format"):
        verify_receipt(r, key)
    legacy = make_receipt(p, history["consent"])
    del legacy["ledger"]["format"]                  # read as ledger-receipt/1: differs
    with pytest.raises(VerificationError, match="summary fields differ"):
        verify_receipt(legacy, key)


# -- receipts already handed out ----------------------------------------------------------------
@pytest.mark.parametrize(("name", "seq", "type_"), [("policy", 1, "PolicyPublished"),
                                                    ("consent", 2, "ConsentGiven"),
                                                    ("collection", 3, "DataCollected")])
def test_receipts_of_the_earlier_format_still_verify(name: str, seq: int, type_: str) -> None:
    old = json.loads((LEGACY / f"{name}.json").read_text(encoding="utf-8"))
    out = verify_receipt(old)
    assert (out["seq"], out["type"], out["format"]) == (seq, type_, "ledger-receipt/1")
    old["consentTimestamp"] += 1                     # and their summary is still checked
    with pytest.raises(VerificationError, match="differ from the entry: consentTimestamp"):
        verify_receipt(old)


# -- the command line, on both databases ----------------------------------------------------------
def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_receipt_round_trip_through_the_command_line(cli_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    assert _run(cli_env, "init").returncode == 0
    assert _run(cli_env, "policy", "publish", "bundled").returncode == 0
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps(consent(SUBJECT, evidence="f")) + "\n"
                     + json.dumps(collect(SUBJECT)) + "\n")
    assert _run(cli_env, "append", str(batch)).returncode == 0
    key = _run(cli_env, "pubkey").stdout.strip()
    offline = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    for seq, fmt in (("2", "kantara"), ("3", "kantara"), ("2", "iso27560")):
        out = tmp_path / f"r{seq}-{fmt}.json"
        made = _run(cli_env, "receipt", seq, "-o", str(out), "--format", fmt)
        assert made.returncode == 0, made.stderr
        assert re.search(rf"entry {seq} as an? ", " ".join(made.stdout.split()))
        checked = _run(offline, "verify", "--receipt", str(out), "--pubkey", key, "--json")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert json.loads(checked.stdout)["format"] == f"ledger-receipt/2 {fmt}"
    default = _run(cli_env, "receipt", "2", "-o", "-")
    assert json.loads(default.stdout)["version"] == "KI-CR-v1.1.0"
    # refused: exit 2, the seq and why, nothing written
    for args, why in ((("1",), "entry 1: PolicyPublished is an organisation-level event"),
                      (("3", "--format", "iso27560"), "entry 3: DataCollected is not a "
                                                      "consent event")):
        target = tmp_path / "refused.json"
        refused = _run(cli_env, "receipt", *args, "-o", str(target))
        assert refused.returncode == 2 and why in refused.stderr, refused.stderr
        assert not target.exists()
    bad = _run(cli_env, "receipt", "2", "-o", "-", "--format", "pdf")
    assert bad.returncode == 2 and "--format" in bad.stderr
    # a receipt of the earlier format, checked by today's command
    legacy = _run(offline, "verify", "--receipt", str(LEGACY / "consent.json"), "--json")
    assert legacy.returncode == 0, legacy.stdout
    assert json.loads(legacy.stdout)["format"] == "ledger-receipt/1"
