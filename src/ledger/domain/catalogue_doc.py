"""Renders ``docs/events.md`` from the catalogue, so the doc cannot drift.

    python -m ledger.domain.catalogue_doc > docs/events.md
"""

from __future__ import annotations

from ledger.domain.events import CATALOGUE, ENVELOPE, FieldSpec

__all__ = ["render"]

KINDS = {
    "code": "identifier `[a-z][a-z0-9_]*`",
    "codes": "non-empty list of identifiers, no repeats",
    "enum_list": "non-empty list, each one of the choices",
    "ref": "reference, 1–128 of `[A-Za-z0-9._:/-]`",
    "uuid": "UUID",
    "text": "text, 1–2000 characters, no control or bidi/invisible format characters",
    "long_text": "text, 1–50,000 characters; line breaks and tabs allowed, no other control "
                 "or bidi/invisible format characters",
    "language": "BCP 47 language tag (`fr`, `fr-FR`)",
    "int": "integer",
    "bool": "true or false",
    "time": "RFC 3339 date-time with offset (stored in UTC)",
    "enum": "one of the choices",
    "country": "ISO 3166-1 alpha-2 code",
    "value": "any JSON value but null (≤ 10,000 characters, ≤ 32 levels deep, integers only)",
    "values": "object: field of the category → JSON value; each value sealed apart",
    "object": "object with the fields below",
    "object_any": "the policy document (docs/POLICY.md)",
}

RULES = {
    "PolicyPublished": "the document must be a valid policy; a version is published once.",
    "ConsentGiven": "the purpose must exist in the policy in force at `occurred_at` and be "
                    "consent-based; `policy_version`, when given, must be that policy's; "
                    "`age` below the policy's `minimum_age` (16) needs `guardian`; below "
                    "`joint_consent_age` (15) `guardian.joint` must be true; "
                    "`guardian.authorised_at` ≤ `occurred_at`; `notice_id`, when given, must "
                    "be a NoticePublished that occurred at or before `occurred_at`, and the "
                    "ledger adds `notice_digest` (that notice's `digest`). The consent "
                    "expires after the purpose's `consent_validity` (docs/POLICY.md).",
    "ConsentRefused": "as ConsentGiven for the purpose, policy version and `notice_id`.",
    "ConsentWithdrawn": "a consent for the purpose must be in force at `occurred_at` (given, "
                        "not withdrawn, not expired); `notice_id` as for ConsentGiven.",
    "NoticePublished": "`notice_id` not already published (a new text takes a new id); the "
                       "ledger adds `digest`, the lowercase hex SHA-256 of the UTF-8 bytes of "
                       "`text`.",
    "DataCollected": "category and purpose exist in the policy in force, the purpose covers "
                     "the category, `values` holds fields of the category only; a "
                     "consent-based purpose needs consent in force (given, not withdrawn, not "
                     "expired) at `occurred_at`; "
                     "refused while an active restriction covers the purpose.",
    "DataRectified": "`collection_id` is a DataCollected of the same subject whose data was "
                     "not erased or anonymised; fields of its category only.",
    "RightsRequestReceived": "`request_id` not already used by the subject.",
    "RightsRequestExtended": "the request is open, not yet extended, and the extension is "
                             "recorded within one month of receipt (Art. 12(3)).",
    "RightsRequestFulfilled": "the request is open; not earlier than its receipt.",
    "RightsRequestRefused": "the request is open; a reason is required (Art. 12(4)).",
    "SubjectErased": "the subject has history; no active legal hold; not already erased "
                     "with nothing since. Destroys every data key of the subject in the same "
                     "transaction.",
    "DataAnonymised": "no active legal hold; categories exist. Destroys the subject's keys "
                      "of those categories in the same transaction.",
    "LegalHoldPlaced": "`hold_id` not already active for the subject.",
    "LegalHoldReleased": "the hold is active.",
    "ProcessingRestricted": "`restriction_id` not already active; purposes exist.",
    "RestrictionLifted": "the restriction is active.",
    "ObjectionRecorded": "the purpose's basis is legitimate interests or public task.",
    "DataDisclosed": "purpose and categories exist in the policy in force; the ledger adds "
                     "`outside_eea` (true for a country outside the EEA) and "
                     "`recipient_in_policy`.",
    "BreachDetected": "`breach_id` not already used; `discovered_at` (default: `occurred_at`) "
                      "≤ `occurred_at`; the ledger stores `discovered_at`.",
    "BreachNotified": "the breach was detected; not before its discovery; later than "
                      "`breach_notification_hours` (72) after discovery needs "
                      "`reason_for_delay`; a second notification must be `supplementary`.",
    "BreachCommunicated": "the breach was detected; exactly one of `method` or `exemption`.",
    "PersonalDataAccessed": "none beyond the fields: a read that happened is recorded, even "
                            "of an erased subject (it holds no personal value). Appended by "
                            "the ledger itself before personal values are shown "
                            "(docs/DECISIONS.md, who read personal data).",
}


def _row(name: str, fs: FieldSpec, prefix: str = "") -> list[str]:
    kind = KINDS[fs.kind]
    if fs.choices:
        kind += ": " + ", ".join(f"`{c}`" for c in fs.choices)
    if fs.lo is not None:
        kind += f" ({fs.lo}–{fs.hi})" if fs.hi is not None and fs.hi < 10**6 else \
            f" (≥ {fs.lo})"
    lines = [f"| `{prefix}{name}` | {kind} | {'yes' if fs.required else 'no'} | "
             f"{'**sealed**' if fs.personal else 'clear'} | {fs.doc} |"]
    for sub, sfs in fs.sub:
        lines += _row(sub, sfs, f"{prefix}{name}.")
    return lines


def render() -> str:
    out = [
        "# Event catalogue, version 1",
        "",
        "Generated from `src/ledger/domain/events.py` by",
        "`python -m ledger.domain.catalogue_doc`; a test keeps this file and the code in step.",
        "Personal fields are **sealed**: stored only as `sealed:v1:…` (AES-256-GCM under the",
        "subject's data key, docs/FORMAT.md §4).",
        "",
        "## Envelope",
        "",
        "Every event is one JSON object with the members "
        + ", ".join(f"`{k}`" for k in sorted(ENVELOPE)) + ":",
        "",
        "| member | rule |",
        "|---|---|",
        "| `event_id` | optional UUID in its 8-4-4-4-12 text form (either case); the "
        "idempotency key (drawn at random when absent) |",
        "| `type` | required; one of the types below |",
        "| `subject` | the data subject's identifier (e.g. an email or a visitor id), 1–256 "
        "characters; required, optional or forbidden by type; stored only as a keyed "
        "pseudonym (HMAC-SHA-256) |",
        "| `occurred_at` | required; RFC 3339 with an offset; at most 5 minutes after the "
        "ledger's clock |",
        "| `actor` | optional; who appends (a service or staff account, never a data "
        "subject), 1–128 of `[A-Za-z0-9._:@/-]`; the CLI fills `--actor`, `LEDGER_ACTOR` or "
        "`cli:<user>` |",
        "| `data` | the type's fields below; unknown fields are refused |",
        "",
        "Text fields that are stored in clear (`text`, `ref`) must not hold personal data:",
        "put personal content in the sealed fields.",
        "",
    ]
    family = None
    for type_, cls in CATALOGUE.items():
        if family != cls.FAMILY:
            family = cls.FAMILY
            out += [f"## Family: {family}", ""]
        out += [f"### {type_}", "", cls.DOC, "",
                f"Subject: **{cls.SUBJECT}**.", "",
                "| field | kind | required | stored | meaning |", "|---|---|---|---|---|"]
        for name, fs in cls.specs():
            out += _row(name, fs)
        out += ["", f"Rules at append time: {RULES[type_]}", ""]
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(render())
