"""``ledger serve`` and ``ledger token create|list|revoke``: the HTTP API's commands.

A command plugin (``register(sub, add, common)``, named in
``ledger.cli.main.CORE_COMMAND_MODULES``).  FastAPI, uvicorn and the application
are imported inside the commands, so that ``ledger --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from ledger.cli.common import route_of, routing_file
from ledger.cli.format import Column, Table, short_time
from ledger.cli.main import EXIT_OK, database_url, ledger_name, positive, print_json

__all__ = ["register"]


def _tokens(args: argparse.Namespace) -> AbstractContextManager[Any]:
    """The Tokens of the ledger the command names (no master key), closed on leaving."""
    from ledger.app.token_admin import open_tokens

    return open_tokens(database_url(args), ledger_name(args))


def cmd_token_create(args: argparse.Namespace) -> int:
    if args.also:  # one token for several ledgers of the routing file
        from ledger.app.token_admin import create_token_for
        from ledger.errors import ConfigError

        path, route = routing_file(args), route_of(args)
        if path is None or route is None:
            raise ConfigError("--also: needs a routing file (--ledgers or LEDGER_LEDGERS)")
        token = create_token_for(path, [route.name, *args.also], args.name, args.role)
    else:
        with _tokens(args) as tokens:
            token = tokens.create(args.name, args.role)
    print(token)
    print(f"ledger: token {args.name!r} ({args.role}) created; it is shown only now: "
          "keep it in the service's secret store", file=sys.stderr)
    return EXIT_OK


def cmd_token_list(args: argparse.Namespace) -> int:
    with _tokens(args) as tokens:
        found = tokens.list()
    if args.json:
        for t in found:
            print_json(t.as_dict())
        return EXIT_OK
    for line in _TOKENS.lines([(t.name, t.role, short_time(t.created_at),
                                short_time(t.revoked_at)) for t in found]):
        print(line)
    return EXIT_OK


# `ledger token list`: names are up to 64 characters; a longer cell is shortened with …
_TOKENS = Table([Column("NAME", 40), Column("ROLE", 8), Column("CREATED (UTC)", 20),
                 Column("REVOKED (UTC)")])


def cmd_token_revoke(args: argparse.Namespace) -> int:
    with _tokens(args) as tokens:
        tokens.revoke(args.name)
    print(f"ledger: token {args.name!r} revoked", file=sys.stderr)
    return EXIT_OK


def log_config(access_log: bool) -> dict[str, Any]:
    """uvicorn's logging, plus the API's own loggers; uvicorn's access log stays off."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = json.loads(json.dumps(LOGGING_CONFIG))
    config["formatters"]["ledger"] = {"format": "%(asctime)s %(levelname)s %(message)s"}
    config["handlers"]["ledger"] = {"formatter": "ledger", "class": "logging.StreamHandler",
                                    "stream": "ext://sys.stderr"}
    config["loggers"]["uvicorn.access"] = {"level": "CRITICAL", "propagate": False}
    config["loggers"]["ledger.http"] = {"handlers": ["ledger"], "level": "INFO",
                                        "propagate": False}
    config["loggers"]["ledger.http.access"] = {
        "handlers": ["ledger"], "level": "INFO" if access_log else "WARNING",
        "propagate": False}
    return config


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ledger.http import Limits, create_app

    limits = Limits(max_body_bytes=args.max_body, max_events=args.max_events)
    path = routing_file(args)
    if path is not None:  # every ledger of the routing file, each under /ledgers/{name}
        from ledger.app.routing import load_routing
        from ledger.http import create_routed_app

        app = create_routed_app(load_routing(path), limits=limits)
    else:
        app = create_app(database_url(args), ledger_name(args), limits=limits)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False,
                log_config=log_config(not args.no_access_log), server_header=False)
    return EXIT_OK


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number (0-65535), not {text!r}")
    return int(text)


def _role(text: str) -> str:
    """A role (``ledger.app.tokens.ROLES``, imported when the command runs, not for --help)."""
    from ledger.app.tokens import ROLES

    if text not in ROLES:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from "
                                         f"{', '.join(ROLES)})")
    return text


def register(sub: Any, add: Callable[..., argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    sp = add("serve", cmd_serve, "serve the HTTP API (docs at /docs, OpenAPI at "
             "/openapi.json; docs/API.md) and the DPO's console at /console/ "
             "(docs/CONSOLE.md); with a routing file (--ledgers), each of its "
             "ledgers under /ledgers/NAME/v1 and /ledgers/NAME/console/",
             examples=["ledger serve", "ledger serve --host 0.0.0.0 --port 8443 --max-events 500"])
    sp.add_argument("--host", default="127.0.0.1", metavar="ADDRESS", help="address to listen on "
                    "(default 127.0.0.1)")
    sp.add_argument("--port", type=_port, default=8080, metavar="PORT",
                    help="port (default 8080)")
    sp.add_argument("--max-body", type=positive, default=1_048_576, metavar="BYTES",
                    help="largest request body accepted (default 1048576; larger: 413)")
    sp.add_argument("--max-events", type=positive, default=1000, metavar="N",
                    help="most events in one POST /v1/events (default 1000; more: 413)")
    sp.add_argument("--no-access-log", action="store_true",
                    help="do not log requests (the log never shows URLs: route templates)")
    token = add("token", lambda a: 2, "create, list or revoke HTTP API tokens",
                examples=["ledger token create --role service --name crm",
                          "ledger token list", "ledger token revoke crm"])
    tsub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    sp = add("create", cmd_token_create, "create a token and print it (only this once)",
             tsub, examples=["ledger token create --role auditor --name audit.firm"])
    sp.add_argument("--role", required=True, type=_role, metavar="{service,auditor,dpo}",
                    help="service: append, read consent; auditor: verify, checkpoints, "
                    "proofs; dpo: everything")
    sp.add_argument("--name", required=True, metavar="NAME", help="who holds it; recorded "
                    "as the actor of what it appends (lowercase letters, digits, . _ -)")
    sp.add_argument("--also", action="append", default=[], metavar="LEDGER",
                    help="with a routing file: the same token for this ledger too "
                    "(repeat; each ledger keeps it in its own token table)")
    sp = add("list", cmd_token_list, "list tokens: name, role, created, revoked (never "
             "the token)", tsub, examples=["ledger token list", "ledger token list --json"])
    sp.add_argument("--json", action="store_true", help="one JSON object per token, whole "
                    "(JSON Lines)")
    sp = add("revoke", cmd_token_revoke, "revoke a name's live token (effective at once)",
             tsub, examples=["ledger token revoke crm"])
    sp.add_argument("name", metavar="NAME", help="the name the token was created with")
