"""``python -m ledger.cli``: the ``ledger`` command."""

from ledger.cli.main import main

raise SystemExit(main())
