"""What an inquiry asks for: the period, purposes, subjects, breaches and requests in scope.

Every value is checked here (an :class:`~ledger.errors.InputError` names the option and
the rule); times are the ledger's UTC text (bare dates: that day in the policy's time
zone, as in the registers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ledger.app.accesses import check_text
from ledger.domain.events import MAX_SUBJECT
from ledger.errors import InputError

from ..queries import parse_when

__all__ = ["LANGS", "Scope", "read_subjects_file"]

LANGS = ("fr", "en")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}\Z")
_PURPOSE = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
MAX_TEXT = 200


@dataclass(frozen=True)
class Scope:
    start: str                      # occurred at or after (UTC text)
    end: str                        # occurred at or before (UTC text)
    purposes: tuple[str, ...] = ()  # none: every purpose
    subjects: tuple[str, ...] = ()  # references as given (identifier or pseudonym:<hex>)
    breaches: tuple[str, ...] = ()  # none: every breach of the period
    requests: tuple[str, ...] = ()  # none: every request of the period
    lang: str = "fr"
    as_of: str | None = None        # registers as they stood then (default: ``end``)
    known_at: str | None = None     # only entries recorded by then
    title: str | None = None
    reference: str | None = None
    reveal: bool = False
    names: dict[str, str] = field(default_factory=dict)  # option names, for messages

    @property
    def at(self) -> str:
        return self.as_of or self.end

    @classmethod
    def parse(cls, *, start: str | None, end: str | None, zone: Callable[[], str],
              purposes: Sequence[str] = (), subjects: Sequence[str] = (),
              breaches: Sequence[str] = (), requests: Sequence[str] = (),
              lang: str = "fr", as_of: str | None = None, known_at: str | None = None,
              title: str | None = None, reference: str | None = None,
              reveal: bool = False, flag: Callable[[str], str] = lambda n: f"--{n}",
              ) -> Scope:
        """The scope from a face's values; ``flag`` names an option as the face does."""
        if start is None:
            raise InputError(flag("from"), "is required (the start of the period asked about)")
        if end is None:
            raise InputError(flag("to"), "is required (the end of the period asked about)")
        lo = parse_when(start, flag("from"), start_of_day=True, zone=zone)
        hi = parse_when(end, flag("to"), zone=zone)
        assert lo is not None and hi is not None  # noqa: S101 - given above
        if lo > hi:
            raise InputError(flag("from"), f"must not be later than {flag('to')}")
        when = parse_when(as_of, flag("as-of"), zone=zone)
        if when is not None and when < hi:
            raise InputError(flag("as-of"), f"must not be earlier than {flag('to')} (the "
                             "registers are read as they stood at the end of the period)")
        if lang not in LANGS:
            raise InputError(flag("lang"), f"must be one of {', '.join(LANGS)}")
        for p in purposes:
            if not _PURPOSE.match(p):
                raise InputError(flag("purpose"), "must be a purpose id matching "
                                 "[a-z][a-z0-9_]*")
        for name, ids in (("breach", breaches), ("request", requests)):
            for i in ids:
                if not _ID.match(i):
                    raise InputError(flag(name), "must be an id of letters, digits and "
                                     "._:/- (at most 128)")
        for name, text in (("title", title), ("reference", reference)):
            if text is not None:
                check_text(text, flag(name), MAX_TEXT)  # the rules of every text
        for ref in subjects:
            check_text(ref, flag("subject"), MAX_SUBJECT)
        if reveal and not subjects:
            raise InputError(flag("reveal"), f"needs subjects in scope ({flag('subject')})")
        if reveal and reference is None:
            raise InputError(flag("reveal"), f"needs {flag('reference')}: the reads are "
                             "recorded with the inquiry's reference as their reason")
        return cls(start=lo, end=hi, purposes=tuple(dict.fromkeys(purposes)),
                   subjects=tuple(dict.fromkeys(subjects)),
                   breaches=tuple(dict.fromkeys(breaches)),
                   requests=tuple(dict.fromkeys(requests)), lang=lang, as_of=when,
                   known_at=parse_when(known_at, flag("known-at"), zone=zone),
                   title=title, reference=reference, reveal=reveal,
                   names={"purpose": flag("purpose")})


def read_subjects_file(path: str, flag: str = "--subjects") -> list[str]:
    """One subject reference a line (blank lines and ``#`` comments skipped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(flag, f"cannot be read ({exc})") from None
    refs = [line.strip() for line in text.splitlines()]
    return [r for r in refs if r and not r.startswith("#")]
