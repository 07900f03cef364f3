"""A separate process that appends to one named ledger of a shared database, one event
per call, and prints each receipt as soon as the ledger acknowledges it (used by
tests/test_ledgers_concurrency.py).

    python -m tests.ledgers_worker URL KEY_DIR LEDGER_NAME COUNT TAG
"""

from __future__ import annotations

import json
import sys

from ledger.app.application import Ledger
from tests.helpers import consent


def main(url: str, key_dir: str, name: str, count: int, tag: str) -> None:
    with Ledger.open(url, name, env={"LEDGER_KEY_DIR": key_dir}) as ledger:
        for i in range(count):
            for r in ledger.append([consent(f"{tag}-{i}@example.fr", evidence=f"{tag}-{i}")]):
                sys.stdout.write(json.dumps(r.as_dict()) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], a[2], int(a[3]), a[4])
