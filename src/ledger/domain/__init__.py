"""The domain: the event catalogue, the rules and the policy (model, parsing, calendar).

No database and no key: the rules run on in-memory state.
"""
