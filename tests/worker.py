"""A separate process that appends events one per call and prints each receipt
as soon as the ledger acknowledges it (used by the concurrency and crash tests).

    python -m tests.worker URL KEY_DIR COUNT TAG [BATCH]
"""

from __future__ import annotations

import json
import sys

from ledger.app.application import Ledger
from tests.helpers import consent


def main(url: str, key_dir: str, count: int, tag: str, batch: int = 1) -> None:
    with Ledger.open(url, env={"LEDGER_KEY_DIR": key_dir}) as ledger:
        for i in range(0, count, batch):
            events = [consent(f"{tag}-{j}@example.fr", evidence=f"{tag}-{j}")
                      for j in range(i, min(i + batch, count))]
            for r in ledger.append(events):
                sys.stdout.write(json.dumps(r.as_dict()) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], args[1], int(args[2]), args[3], int(args[4]) if len(args) > 4 else 1)
