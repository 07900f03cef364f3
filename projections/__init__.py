"""Read models rebuilt from the ledger (docs/PROJECTIONS.md).

``mechanism`` follows the ledger exactly once; ``consent``, ``retention``,
``requests``, ``breaches`` and ``disclosures`` are the projections (tables in
``db``); ``portability``, ``ropa`` and ``replay`` build documents;
``queries.Reader`` is the read API; ``cli`` registers the ``ledger`` commands.
Importing this package imports nothing else (``ledger --help`` stays fast).
"""
