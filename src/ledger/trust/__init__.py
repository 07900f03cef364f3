"""The trust core: canonical form, chain, Merkle trees, signed notes and every offline verifier.

Pure: the standard library, ``cryptography`` and :mod:`ledger.errors` only; no database,
no clock, no I/O but the files it is handed (a test and an import-linter contract check it).
An auditor reads this package, and docs/FORMAT.md, to trust what the ledger says.
"""
