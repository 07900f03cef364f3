"""``ledger projections status|rebuild``: where each read model stands, and rebuilding them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ledger.cli.format import Column, Table, plural
from ledger.cli.main import print_json

from .cli_common import open_reader

__all__ = ["cmd_rebuild", "cmd_status"]


def cmd_status(args: argparse.Namespace) -> int:
    with open_reader(args) as r:
        rows = r.status()
    if args.json:
        print_json({"projections": rows})
        return 0
    table = Table([Column("PROJECTION", 12), Column("POSITION", 10, right=True),
                   Column("HEAD", 10, right=True), Column("LAG", 10, right=True),
                   Column("STATE")])
    for line in table.lines([
            (s["projection"], f"{s['position']:,}", f"{s['head']:,}", f"{s['lag']:,}",
             "stale (code changed: rebuilt on next read)" if s["stale"] else
             "up to date" if s["lag"] == 0 else "behind") for s in rows]):
        print(line)
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    import time

    progress: Callable[[int, int], None] | None = None
    if sys.stderr.isatty() and not args.json:
        def progress(done: int, head: int) -> None:
            width = 30
            filled = width * done // head if head else width
            sys.stderr.write(f"\rrebuilding [{'#' * filled}{'.' * (width - filled)}] "
                             f"{done:,}/{head:,} entries")
            sys.stderr.flush()
    names = [args.name] if args.name else None
    with open_reader(args) as r:
        t0 = time.perf_counter()

        applied = r.projector.rebuild(names, on_progress=progress)
        took = time.perf_counter() - t0
        rows = r.status()
    if progress is not None:
        sys.stderr.write("\r\033[K")
    chosen = [s for s in rows if names is None or s["projection"] in names]
    if args.json:
        print_json({"rebuilt": [s["projection"] for s in chosen], "entries": applied,
               "seconds": round(took, 3), "projections": chosen})
    else:
        print(f"rebuilt {', '.join(s['projection'] for s in chosen)} from "
              f"{plural(applied, 'entry', 'entries')} in {took:.2f} s")
    return 0
