"""The tables of a policy document: controller, categories, purposes, recipients and
transfers, each read and checked against the others (every category cited, every pair
given a retention period, every recipient outside the EEA covered by a transfer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ledger.domain.policy import Category, Controller, Purpose, Recipient, Transfer
from ledger.domain.policy_terms import (
    LEGAL_BASES,
    RECIPIENT_KINDS,
    TRANSFER_SAFEGUARDS,
    is_country_code,
    is_outside_eea,
    period_of,
)
from ledger.domain.policy_values import (
    _array,
    _bool,
    _email,
    _ident,
    _ids,
    _table,
    _text,
    _url,
)
from ledger.errors import PolicyError


def _or_empty(value: object) -> object:
    """An absent (TOML) or null (JSON) optional array is an empty one."""
    return [] if value is None else value


def _controller(value: object) -> Controller:
    t = _table(value, "controller", ("name", "address", "email", "url"))
    return Controller(
        name=_text(t["name"], "controller.name"),
        address=_text(t["address"], "controller.address"),
        email=_email(t["email"], "controller.email"),
        url=_url(t["url"], "controller.url"),
    )


def _check_ids(ids: Iterable[str], field: str) -> None:
    seen: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if ident in seen:
            raise PolicyError(f"{field}[{i}].id", f"duplicates {field}[{seen[ident]}].id")
        seen[ident] = i


def _retention(t: Mapping[str, object], path: str) -> str | None:
    value = t.get("retention")
    if value is None:
        return None
    period_of(value, f"{path}.retention")
    assert isinstance(value, str)  # noqa: S101 - established by _period
    return value


def _consent_validity(t: Mapping[str, object], path: str, consent_required: bool) -> str | None:
    """How long a consent stays valid (CNIL 2020-092: ask cookie choices again after a
    period); only a consent-based purpose has one."""
    value = t.get("consent_validity")
    if value is None:
        return None
    if not consent_required:
        raise PolicyError(f"{path}.consent_validity",
                          "is only for a purpose whose legal_basis is consent")
    period_of(value, f"{path}.consent_validity")
    assert isinstance(value, str)  # noqa: S101 - established by _period
    return value


def _categories(value: object) -> tuple[Category, ...]:
    items = _array(value, "categories")
    if not items:
        raise PolicyError("categories", "must not be empty")
    out: list[Category] = []
    for i, item in enumerate(items):
        path = f"categories[{i}]"
        t = _table(
            item, path, ("id", "name", "description", "fields", "from_trackers", "source"),
            ("retention",),
        )
        out.append(Category(
            id=_ident(t["id"], f"{path}.id"),
            name=_text(t["name"], f"{path}.name"),
            description=_text(t["description"], f"{path}.description", multiline=True),
            fields=_ids(t["fields"], f"{path}.fields"),
            from_trackers=_bool(t["from_trackers"], f"{path}.from_trackers"),
            retention=_retention(t, path),
            source=_text(t["source"], f"{path}.source"),
        ))
    _check_ids((c.id for c in out), "categories")
    return tuple(out)


def _purposes(value: object, categories: tuple[Category, ...]) -> tuple[Purpose, ...]:
    items = _array(value, "purposes")
    if not items:
        raise PolicyError("purposes", "must not be empty")
    by_id = {c.id: c for c in categories}
    out: list[Purpose] = []
    for i, item in enumerate(items):
        path = f"purposes[{i}]"
        t = _table(
            item, path, ("id", "name", "description", "legal_basis", "categories", "source"),
            ("consent_required", "retention", "consent_validity"),
        )
        ident = _ident(t["id"], f"{path}.id")
        name = _text(t["name"], f"{path}.name")
        description = _text(t["description"], f"{path}.description", multiline=True)
        basis = t["legal_basis"]
        if not isinstance(basis, str) or basis not in LEGAL_BASES:
            raise PolicyError(
                f"{path}.legal_basis",
                f"must be one of {', '.join(LEGAL_BASES)} (GDPR Art. 6(1)(a)-(f))",
            )
        consent_required = basis == "consent"
        stated = t.get("consent_required")
        if stated is not None and _bool(stated, f"{path}.consent_required") != consent_required:
            raise PolicyError(
                f"{path}.consent_required",
                "must be true exactly when legal_basis is consent",
            )
        cited = _ids(t["categories"], f"{path}.categories")
        retention = _retention(t, path)
        for j, cat in enumerate(cited):
            if cat not in by_id:
                raise PolicyError(f"{path}.categories[{j}]", "names no category of the policy")
            if retention is None and by_id[cat].retention is None:
                raise PolicyError(
                    f"{path}.retention",
                    f"is required: category {cat} sets no retention either "
                    "(GDPR Art. 5(1)(e))",
                )
        out.append(Purpose(
            id=ident,
            name=name,
            description=description,
            legal_basis=basis,
            consent_required=consent_required,
            categories=cited,
            retention=retention,
            source=_text(t["source"], f"{path}.source"),
            consent_validity=_consent_validity(t, path, consent_required),
        ))
    _check_ids((p.id for p in out), "purposes")
    cited_anywhere = {c for p in out for c in p.categories}
    for i, c in enumerate(categories):
        if c.id not in cited_anywhere:
            raise PolicyError(
                f"categories[{i}].id",
                "is cited by no purpose (data needs a purpose, GDPR Art. 5(1)(b))",
            )
    return tuple(out)


def _recipients(value: object, purposes: tuple[Purpose, ...]) -> tuple[Recipient, ...]:
    items = _array(value, "recipients")
    known = {p.id for p in purposes}
    out: list[Recipient] = []
    for i, item in enumerate(items):
        path = f"recipients[{i}]"
        t = _table(item, path, ("id", "name", "kind", "country", "purposes", "source"))
        ident = _ident(t["id"], f"{path}.id")
        name = _text(t["name"], f"{path}.name")
        kind = t["kind"]
        if not isinstance(kind, str) or kind not in RECIPIENT_KINDS:
            raise PolicyError(
                f"{path}.kind", f"must be one of {', '.join(sorted(RECIPIENT_KINDS))}"
            )
        country = _country(t["country"], f"{path}.country")
        cited = _ids(t["purposes"], f"{path}.purposes")
        for j, purpose in enumerate(cited):
            if purpose not in known:
                raise PolicyError(f"{path}.purposes[{j}]", "names no purpose of the policy")
        out.append(Recipient(
            id=ident, name=name, kind=kind, country=country, purposes=cited,
            source=_text(t["source"], f"{path}.source"),
        ))
    _check_ids((r.id for r in out), "recipients")
    return tuple(out)


def _country(value: object, field: str) -> str:
    if not is_country_code(value):
        raise PolicyError(
            field,
            "must be an ISO 3166-1 alpha-2 code in upper case (Greece is GR, "
            "the United Kingdom GB)",
        )
    assert isinstance(value, str)  # noqa: S101 - established by is_country_code
    return value


def _transfers(value: object, recipients: tuple[Recipient, ...]) -> tuple[Transfer, ...]:
    items = _array(value, "transfers")
    by_id = {r.id: r for r in recipients}
    out: list[Transfer] = []
    for i, item in enumerate(items):
        path = f"transfers[{i}]"
        t = _table(item, path, ("recipient", "country", "safeguard", "source"))
        recipient = _ident(t["recipient"], f"{path}.recipient")
        if recipient not in by_id:
            raise PolicyError(f"{path}.recipient", "names no recipient of the policy")
        country = _country(t["country"], f"{path}.country")
        if not is_outside_eea(country):
            raise PolicyError(
                f"{path}.country",
                "is inside the EEA: sending data there is not a transfer (GDPR Chapter V)",
            )
        safeguard = t["safeguard"]
        if not isinstance(safeguard, str) or safeguard not in TRANSFER_SAFEGUARDS:
            raise PolicyError(
                f"{path}.safeguard", f"must be one of {', '.join(TRANSFER_SAFEGUARDS)}"
            )
        for j, other in enumerate(out):
            if (other.recipient, other.country) == (recipient, country):
                raise PolicyError(path, f"repeats transfers[{j}] (same recipient and country)")
        out.append(Transfer(
            recipient=recipient, country=country, safeguard=safeguard,
            source=_text(t["source"], f"{path}.source"),
        ))
    covered = {(t.recipient, t.country) for t in out}
    for i, r in enumerate(recipients):
        if is_outside_eea(r.country) and (r.id, r.country) not in covered:
            raise PolicyError(
                f"recipients[{i}].country",
                "is outside the EEA: a transfer with its safeguard must be declared "
                "(GDPR Art. 44)",
            )
    return tuple(out)
