# ruff: noqa: PLC0415  (rfc3161_client is imported when a time-stamp is asked or checked)
"""RFC 3161 time-stamps of checkpoints (issue 16, optional), through Trail of Bits'
``rfc3161-client`` (which builds and checks the ASN.1; the HTTP is ours).

With ``LEDGER_TSA_URL`` set, every checkpoint the ledger signs is sent to that
Time-Stamping Authority: the request's message imprint is SHA-256 of the checkpoint
*body* (origin, size and root lines, as the log and the witnesses sign it), with a
nonce and a request for the TSA's certificate.  The response is checked (granted,
same imprint, same nonce) and stored whole (DER, base64) in ``ledger_timestamps``;
bundles carry it in ``timestamps.jsonl``.  A verifier given the TSA's root
certificate(s) (``--tsa-cert``) checks the signature, the certificate chain (the
TSA's certificate must have the critical ``timeStamping`` extended key usage) and
that the imprint is the body's: the tree head existed at the token's ``genTime``.

A TSA that fails is logged and never fails the checkpoint, like a witness.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import UTC
from http.client import HTTPException
from pathlib import Path
from typing import Any

from ledger.errors import ConfigError, InputError, LedgerError, VerificationError
from ledger.storage.witness_store import insert_timestamp, list_timestamps
from ledger.trust.notes import Checkpoint, parse_checkpoint, parse_checkpoints

__all__ = ["check_bundle_timestamps", "check_receipt_timestamps", "check_stored_timestamps",
           "check_token", "load_roots", "stamp", "timestamp_after_checkpoint", "timestamps_of"]

_log = logging.getLogger("ledger.app.timestamps")
TIMEOUT = 10.0


def _post(url: str, body: bytes) -> bytes:
    req = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 - http(s) only
                                 headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 - http(s) only
            return bytes(resp.read())
    except urllib.error.HTTPError as exc:
        raise VerificationError(f"the TSA answered HTTP {exc.code}") from None


def stamp(url: str, body: str) -> tuple[bytes, str]:
    """Ask the TSA at ``url`` for a time-stamp of ``body``; the response (DER) and its
    genTime (UTC text), after checking it answers this request."""
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, decode_timestamp_response

    if not url.startswith(("http://", "https://")):
        raise ConfigError("LEDGER_TSA_URL must start with http:// or https://")
    req = (TimestampRequestBuilder().data(body.encode()).hash_algorithm(HashAlgorithm.SHA256)
           .nonce(nonce=True).cert_request(cert_request=True).build())
    raw = _post(url, req.as_bytes())
    try:
        resp = decode_timestamp_response(raw)
    except ValueError as exc:
        raise VerificationError(f"the TSA's answer is not a time-stamp response ({exc})") \
            from None
    if resp.status not in (0, 1):  # granted, granted with modifications
        raise VerificationError(f"the TSA refused: status {resp.status} "
                                f"{' '.join(resp.status_string)}")
    info = resp.tst_info
    if info.message_imprint.message != req.message_imprint.message or info.nonce != req.nonce:
        raise VerificationError("the TSA's token is not for this request (imprint or nonce)")
    return resp.as_bytes(), _utc(info.gen_time)


def _utc(moment: Any) -> str:
    when = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return str(when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def timestamp_after_checkpoint(prover: Any, cp: Mapping[str, Any],
                               body: str) -> list[dict[str, Any]]:
    """Hook of :meth:`Prover.checkpoint`: with ``LEDGER_TSA_URL``, stamp and store; never
    raise (a TSA down is logged)."""
    env = os.environ if prover.env is None else prover.env
    url = env.get("LEDGER_TSA_URL")
    if not url:
        return []
    size = int(cp["tree_size"])
    try:
        der, gen_time = stamp(url, body)
        text = base64.b64encode(der).decode()
        try:
            prover.store.append(lambda tx: insert_timestamp(tx, size, url, text, gen_time))
        except ConfigError:
            prover.store.create_table()
            prover.store.append(lambda tx: insert_timestamp(tx, size, url, text, gen_time))
    except (LedgerError, OSError, HTTPException) as exc:  # logged, never raised
        _log.warning("no RFC 3161 time-stamp for the checkpoint of size %d: %s", size, exc)
        return [{"tsa": url, "ok": False, "detail": str(exc)}]
    return [{"tsa": url, "ok": True, "gen_time": gen_time}]


def timestamps_of(store: Any, *, min_size: int = 0,
                  max_size: int | None = None) -> list[dict[str, Any]]:
    """The stored time-stamps (none on a ledger without the table)."""
    try:
        out: list[dict[str, Any]] = store.read(
            lambda tx: list_timestamps(tx, min_size=min_size, max_size=max_size))
    except ConfigError:
        return []
    return out


def load_roots(path: str) -> list[Any]:
    """The TSA root certificate(s) of a PEM file (``--tsa-cert``)."""
    from cryptography import x509

    try:
        roots = x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise InputError("--tsa-cert", f"must be a PEM file of certificates ({exc})") \
            from None
    return roots


def check_token(response_b64: str, cp: Checkpoint, roots: Sequence[Any]) -> str:
    """Check a stored response over ``cp``'s body with the TSA roots; its genTime (UTC)."""
    from rfc3161_client import VerificationError as TsaError
    from rfc3161_client import VerifierBuilder, decode_timestamp_response

    try:
        resp = decode_timestamp_response(base64.b64decode(response_b64))
        builder = VerifierBuilder()
        for r in roots:
            builder = builder.add_root_certificate(r)
        builder.build().verify_message(resp, cp.body.encode())
    except (TsaError, ValueError) as exc:
        raise VerificationError(f"checkpoint of size {cp.size}: the RFC 3161 time-stamp does "
                                f"not verify ({exc})") from None
    return _utc(resp.tst_info.gen_time)


def check_bundle_timestamps(folder: Path, roots: Sequence[Any]) -> list[dict[str, Any]]:
    """``verify --bundle --tsa-cert``: the bundle's newest checkpoint must have a
    time-stamp (``timestamps.jsonl``) that verifies with the roots; every time-stamp of
    the bundle is checked against its checkpoint.  What was found: size, TSA, genTime."""
    cps = {cp.size: cp for cp in parse_checkpoints(
        (folder / "checkpoints.txt").read_text(encoding="utf-8"))}
    path = folder / "timestamps.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    found = []
    for line in lines:
        try:
            item = json.loads(line)
            cp = cps[int(item["tree_size"])]
        except (ValueError, KeyError, TypeError):
            raise VerificationError("timestamps.jsonl: a line is malformed or names no "
                                    "checkpoint of the bundle") from None
        found.append({"tree_size": cp.size, "tsa": item.get("tsa"),
                      "gen_time": check_token(str(item.get("response")), cp, roots)})
    newest = max(cps, default=None)
    if newest is None or newest not in {f["tree_size"] for f in found}:
        raise VerificationError(f"the bundle's newest checkpoint ({newest}) has no RFC 3161 "
                                "time-stamp")
    return found


def check_stored_timestamps(prover: Any, cp: Checkpoint,
                            roots: Sequence[Any]) -> list[dict[str, Any]]:
    """``verify --checkpoint FILE --tsa-cert``: the time-stamps the ledger stored for the
    checkpoint's size, checked over the given checkpoint's body; at least one must verify."""
    found, problems = [], []
    for item in timestamps_of(prover.store, min_size=cp.size, max_size=cp.size):
        try:
            found.append({"tree_size": cp.size, "tsa": item["tsa"],
                          "gen_time": check_token(item["response"], cp, roots)})
        except VerificationError as exc:
            problems.append(exc.reason)
    if not found:
        raise VerificationError(f"checkpoint of size {cp.size}: no RFC 3161 time-stamp that "
                                f"verifies ({'; '.join(problems) or 'none stored'})")
    return found


def check_receipt_timestamps(receipt: Any, roots: Sequence[Any]) -> list[dict[str, Any]]:
    """``verify --receipt --tsa-cert``: the receipt's checkpoint must have a time-stamp
    (``ledger.timestamps``) that verifies (the receipt itself was checked before)."""
    ev = receipt["ledger"]
    cp = parse_checkpoint(str(ev["checkpoint"]))
    found, problems = [], []
    for item in ev.get("timestamps") or []:
        try:
            found.append({"tree_size": cp.size, "tsa": item.get("tsa"),
                          "gen_time": check_token(str(item.get("response")), cp, roots)})
        except (VerificationError, AttributeError) as exc:
            problems.append(getattr(exc, "reason", "a time-stamp entry is malformed"))
    if not found:
        raise VerificationError(f"receipt: its checkpoint has no RFC 3161 time-stamp that "
                                f"verifies ({'; '.join(problems) or 'none in the receipt'})")
    return found
