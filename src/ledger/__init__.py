"""The personal-data ledger: append-only, hash-chained, crypto-shredded.

The write side and the trust core.  ``Ledger`` (application layer) is what the
CLI and the HTTP API call; ``verify`` is the auditor's small, pure verifier.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
