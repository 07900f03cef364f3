# ruff: noqa: PLC0415  (commands import their modules lazily: `ledger --help` stays fast)
"""``ledger witness …`` (issue 16): run a witness (c2sp.org/tlog-witness) and attach
witnesses to a ledger.

The witness's side: ``init``, ``add-log``, ``pubkey``, ``serve`` (over a folder, no
database).  The ledger's side: ``attach``, ``detach``, ``list``, ``push`` (over the
ledger's database, no master key).

The server is the standard library's ThreadingHTTPServer (docs/DECISIONS.md 69): two
routes of plain text, the status codes and content type the protocol fixes, and a
witness that starts without the API's framework.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.cli.main import EXIT_FAILED, EXIT_OK, database_url, ledger_name, print_json
from ledger.errors import InputError, LedgerError, VerificationError, WitnessRefusal

if TYPE_CHECKING:
    from ledger.trust.cosignature import Quorum

__all__ = ["print_cosigned", "quorum_of", "register", "tsa_roots_of"]

MAX_BODY = 1 << 20  # a checkpoint and 63 proof lines take a few kB


def _witness(args: argparse.Namespace) -> Any:
    from ledger.app.witness import Witness

    return Witness(args.dir)


def cmd_init(args: argparse.Namespace) -> int:
    from ledger.app.witness import Witness

    w = Witness.init(args.dir, args.name)
    print(w.key())
    print(f"ledger: witness {args.name} created in {args.dir}; give the key above to the "
          "ledgers it witnesses (`ledger witness attach KEY URL`)", file=sys.stderr)
    return EXIT_OK


def cmd_add_log(args: argparse.Namespace) -> int:
    origin = _witness(args).add_log(args.key)
    print(f"ledger: witness now accepts checkpoints of {origin}", file=sys.stderr)
    return EXIT_OK


def cmd_pubkey(args: argparse.Namespace) -> int:
    print(_witness(args).key())
    return EXIT_OK


def _handler(witness: Any) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the protocol recommends

        def _answer(self, status: int, text: str, ctype: str = "text/plain; charset=utf-8") \
                -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            if self.path.rstrip("/").rsplit("/", 1)[-1] != "add-checkpoint":
                self._answer(404, "not found\n")
                return
            text = self.headers.get("Content-Length") or "0"
            length = int(text) if text.isdigit() else 0
            if not 0 < length <= MAX_BODY:
                self._answer(400, "the body must have a Content-Length up to 1 MiB\n")
                return
            body = self.rfile.read(length)
            try:
                self._answer(200, witness.add_checkpoint(body))
            except WitnessRefusal as exc:
                if exc.status == 409:
                    self._answer(409, f"{exc.size}\n", "text/x.tlog.size")
                else:
                    self._answer(exc.status, exc.reason + "\n")
            except LedgerError as exc:
                self._answer(500, f"{exc}\n")

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            note = witness.latest(parts[-2]) if len(parts) >= 2 and \
                parts[-1] == "checkpoint" else None
            if note is None:
                self._answer(404, "not found\n")
            else:
                self._answer(200, note)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base name
            sys.stderr.write(f"witness: {self.address_string()} {format % args}\n")

    return Handler


def cmd_serve(args: argparse.Namespace) -> int:
    witness = _witness(args)
    key = witness.key()
    server = ThreadingHTTPServer((args.host, args.port), _handler(witness))
    host, port = str(server.server_address[0]), int(server.server_address[1])
    print(f"witness {key.name} listening on http://{host}:{port} (key {key})", flush=True)

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return EXIT_OK


# -- the ledger's side ---------------------------------------------------------------------
def _witnessing(args: argparse.Namespace) -> Any:
    from contextlib import contextmanager

    from ledger.app.proving import open_prover
    from ledger.app.witnessing import Witnessing

    @contextmanager
    def opened() -> Any:
        with open_prover(database_url(args), ledger_name(args)) as p:
            yield Witnessing(p)
    return opened()


def cmd_attach(args: argparse.Namespace) -> int:
    with _witnessing(args) as w:
        out = w.attach(args.key, args.url)
    print(f"ledger: checkpoints will be pushed to witness {out['name']} at {out['url']}",
          file=sys.stderr)
    return EXIT_OK


def cmd_detach(args: argparse.Namespace) -> int:
    with _witnessing(args) as w:
        if not w.detach(args.name):
            raise InputError("NAME", "is not a witness of this ledger (`ledger witness list`)")
    print(f"ledger: witness {args.name} detached", file=sys.stderr)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    with _witnessing(args) as w:
        found = w.witnesses()
    for item in found:
        if args.json:
            print_json(item)
        else:
            print(f"{item['name']}  {item['url']}  {item['key']}")
    return EXIT_OK


def cmd_push(args: argparse.Namespace) -> int:
    with _witnessing(args) as w:
        size, results = w.push_latest()
    for r in results:
        if args.json:
            print_json({"tree_size": size, **r.as_dict()})
        else:
            print(f"{r.witness}: {'cosigned' if r.ok else 'refused'} the checkpoint of size "
                  f"{size} ({r.detail})")
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def quorum_of(args: argparse.Namespace) -> Quorum | None:
    """``--witness KEY… --quorum K`` (default K: every key given); None without them.
    A KEY may be a file holding keys, one a line.  A cosignature dated more than five
    minutes after this machine's clock is refused (clock skew allowed)."""
    import time

    from ledger.trust.cosignature import Quorum, parse_witness_key

    if args.quorum is not None and not args.witness:
        raise InputError("--quorum", "goes with --witness")
    if not args.witness:
        return None
    texts: list[str] = []
    for item in args.witness:
        if "+" not in item and Path(item).is_file():
            texts += [t for t in Path(item).read_text(encoding="utf-8").split() if t]
        else:
            texts.append(item)
    try:
        keys = tuple(dict.fromkeys(parse_witness_key(t) for t in texts))
    except VerificationError as exc:
        raise InputError("--witness", exc.reason) from None
    k = len(keys) if args.quorum is None else args.quorum
    if not 1 <= k <= len(keys):
        raise InputError("--quorum", f"must be between 1 and the number of distinct witness "
                         f"keys ({len(keys)})")
    return Quorum(keys, k, int(time.time()) + 300)


def print_cosigned(args: argparse.Namespace) -> int:
    """``ledger checkpoint --cosigned``: the newest cosigned checkpoint (signs nothing)."""
    from ledger.app.witnessing import Witnessing

    if args.list or args.every is not None:
        raise InputError("--cosigned", "goes alone (not with --list or --every)")
    from ledger.app.proving import open_prover

    with open_prover(database_url(args), ledger_name(args)) as p:
        cp = Witnessing(p).latest_cosigned()
    if cp is None:
        raise InputError("--cosigned", "no checkpoint of this ledger has a cosignature yet "
                         "(attach witnesses: `ledger witness attach`, then `ledger "
                         "checkpoint`)")
    if args.json:
        print_json(cp)
    else:
        sys.stdout.write(cp["note"])
    return EXIT_OK


def tsa_roots_of(args: argparse.Namespace) -> list[Any]:
    """``--tsa-cert FILE``: the TSA root certificates (none without the option)."""
    if not getattr(args, "tsa_cert", None):
        return []
    from ledger.app.timestamps import load_roots

    return load_roots(args.tsa_cert)


def register(sub: Any, add: Callable[..., argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    top = add("witness", lambda a: 2, "run a witness that cosigns checkpoints, or attach "
              "witnesses to this ledger (c2sp.org/tlog-witness)",
              examples=["ledger witness init --dir w1 --name witness.example/w1",
                        "ledger witness add-log --dir w1 \"$(ledger pubkey)\"",
                        "ledger witness serve --dir w1 --port 8701",
                        "ledger witness attach KEY http://127.0.0.1:8701"])
    wsub = top.add_subparsers(dest="witness_command", metavar="ACTION", required=True)
    sp = add("init", cmd_init, "create a witness (key and configuration) in a folder", wsub,
             examples=["ledger witness init --dir w1 --name witness.example/w1"])
    sp.add_argument("--dir", required=True, help="the witness's folder (created)")
    sp.add_argument("--name", required=True, help="the witness's key name, a schema-less "
                    "URL such as witness.example/w1")
    sp = add("add-log", cmd_add_log, "accept checkpoints of a ledger (its verifier key)",
             wsub, examples=["ledger witness add-log --dir w1 \"$(ledger pubkey)\""])
    sp.add_argument("--dir", required=True, help="the witness's folder")
    sp.add_argument("key", metavar="VERIFIER_KEY", help="the ledger's `ledger pubkey`")
    sp = add("pubkey", cmd_pubkey, "print the witness's key (name+id+key, type 0x04)", wsub,
             examples=["ledger witness pubkey --dir w1"])
    sp.add_argument("--dir", required=True, help="the witness's folder")
    sp = add("serve", cmd_serve, "serve add-checkpoint and the monitoring checkpoint", wsub,
             examples=["ledger witness serve --dir w1 --port 8701"])
    sp.add_argument("--dir", required=True, help="the witness's folder")
    sp.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                    "127.0.0.1)")
    sp.add_argument("--port", type=int, default=8701, help="port (default 8701; 0: any "
                    "free port, printed)")
    sp = add("attach", cmd_attach, "push this ledger's checkpoints to a witness", wsub,
             examples=["ledger witness attach \"$(cat w1.pub)\" http://127.0.0.1:8701"])
    sp.add_argument("key", metavar="KEY", help="the witness's key (`ledger witness pubkey`)")
    sp.add_argument("url", metavar="URL", help="the witness's submission prefix")
    sp = add("detach", cmd_detach, "stop pushing to a witness", wsub,
             examples=["ledger witness detach witness.example/w1"])
    sp.add_argument("name", metavar="NAME", help="the witness's name")
    sp = add("list", cmd_list, "list this ledger's witnesses", wsub,
             examples=["ledger witness list", "ledger witness list --json"])
    sp.add_argument("--json", action="store_true", help="one JSON object per witness")
    sp = add("push", cmd_push, "push the latest checkpoint to every witness again", wsub,
             examples=["ledger witness push"])
    sp.add_argument("--json", action="store_true", help="one JSON object per witness")
    _ = common
