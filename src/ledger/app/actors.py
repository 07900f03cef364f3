"""Who is recorded as the ``actor`` of what a face appends or reads (one rule for the CLI
and the HTTP API).

* Command line: ``--actor``, else ``$LEDGER_ACTOR``, else ``cli:<login>``, else ``cli``
  (:func:`cli_actor`); an event that names its own actor keeps it.
* HTTP: the token's name is the default actor, and an event may only name the token's
  name or a sub-actor ``<name>:…`` (:func:`check_token_actors`): the API records who
  appends, a service cannot speak for another.
* A read of personal data is recorded with who reads, through which face, and why
  (:func:`cli_reader`, :func:`token_reader`), refused before anything is read when a
  required reason is missing (:func:`ledger.app.accesses.require_reason`).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ledger.app.accesses import AccessBy, require_reason
from ledger.errors import InputError

if TYPE_CHECKING:
    from ledger.app.application import Ledger
    from ledger.domain.events import Draft

__all__ = ["ACTOR_SETTING", "check_token_actors", "cli_actor", "cli_reader", "token_drafts",
           "token_reader"]

ACTOR_SETTING = "LEDGER_ACTOR"


def cli_actor(given: str | None, env: Mapping[str, str] | None = None) -> str:
    """The actor of a command: ``given`` (--actor), else $LEDGER_ACTOR, else cli:<login>."""
    settings = os.environ if env is None else env
    if given:
        return str(given)
    if settings.get(ACTOR_SETTING):
        return settings[ACTOR_SETTING]
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def check_token_actors(drafts: Sequence[Draft], name: str) -> None:
    """Each event's actor is the token's name, or starts with ``name:``."""
    for line, d in enumerate(drafts, start=1):
        if d.actor != name and not (d.actor or "").startswith(name + ":"):
            raise InputError("actor", f"must be this token's name ({name}) or start with "
                             f"'{name}:' (the API records who appends)", line=line)


def token_drafts(ledger: Ledger, raws: Sequence[object], name: str) -> list[Draft]:
    """Events sent with the token ``name``, parsed (not appended): ``name`` is the actor of
    those that name none, and every actor must be ``name`` or ``name:…``."""
    drafts = ledger.parse(raws, default_actor=name)
    check_token_actors(drafts, name)
    return drafts


def cli_reader(given_actor: str | None, reason: str | None,
               env: Mapping[str, str] | None = None) -> AccessBy:
    """Who reads personal data from the command line (``--actor``, ``--reason``)."""
    by = AccessBy(actor=cli_actor(given_actor, env), channel="cli", reason=reason)
    require_reason(by, env)
    return by


def token_reader(name: str, reason: str | None, reason_field: str,
                 env: Mapping[str, str] | None = None) -> AccessBy:
    """Who reads personal data over HTTP: the token's name, the reason its header gave."""
    by = AccessBy(actor=name, channel="http", reason=reason, reason_field=reason_field)
    require_reason(by, env)
    return by
