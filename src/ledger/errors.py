"""Every error the ledger raises, in one tree.

    LedgerError                     base of everything below; never raised itself
    ├── InputError                  bad input: names the event (line), the field and the rule
    │   ├── RuleViolation           a valid event that a rule of the policy or the law refuses
    │   └── ConflictError           an event_id already stored with different content (HTTP 409)
    ├── PolicyError                 a policy file that is malformed or incomplete
    ├── ConfigError                 missing or wrong settings: database URL, keys, schema
    ├── KeyError_                   a key that cannot be found, unwrapped or that does not match
    ├── StorageError                the database failed; translated from driver errors
    ├── WitnessRefusal              a witness refused a checkpoint (c2sp.org/tlog-witness)
    └── VerificationError           the chain (or a proof) does not verify
        └── IntegrityError          a stored entry is missing or unreadable (altered outside
                                    the ledger): a verification failure, not a database error

Messages never contain personal values: only field names, rules, sequence
numbers, event ids and pseudonyms.  The CLI maps ``InputError``,
``PolicyError`` and ``ConfigError`` to exit code 2 (``ConflictError`` too: it is an
``InputError``; HTTP answers it 409 instead of 422) and ``VerificationError``
(``IntegrityError`` included) to exit code 1; over HTTP an ``IntegrityError`` is
a 500 of type ``urn:problem:ledger:integrity-failure``, never the 503 of a
database that is down (a monitor must raise tampering, not retry).
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConflictError",
    "InputError",
    "IntegrityError",
    "KeyError_",
    "LedgerError",
    "PolicyError",
    "RuleViolation",
    "StorageError",
    "VerificationError",
    "WitnessRefusal",
]


class LedgerError(Exception):
    """Base of every error of the ledger."""


class InputError(LedgerError):
    """An event (or a command argument) that breaks a rule of its format.

    ``line`` is the 1-based line of a JSON Lines batch (or the index in a
    list), ``field`` a dotted path such as ``data.purpose``, ``rule`` a short
    sentence naming what is required.  None of them holds a personal value.
    """

    def __init__(self, field: str, rule: str, *, line: int | None = None) -> None:
        self.field = field
        self.rule = rule
        self.line = line
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.field}: {self.rule}"

    def at_line(self, line: int) -> InputError:
        """The same error, located at ``line`` of a batch."""
        err = type(self)(self.field, self.rule, line=line)
        err.__cause__ = self.__cause__
        return err

    def as_dict(self) -> dict[str, object]:
        kind = "rule" if isinstance(self, RuleViolation) else \
            "conflict" if isinstance(self, ConflictError) else "input"
        return {"line": self.line, "field": self.field, "rule": self.rule, "kind": kind}


class RuleViolation(InputError):
    """A well-formed event that the policy or the subject's history refuses."""


class ConflictError(InputError):
    """A retry whose ``event_id`` is already stored with different content.

    ``field`` is the path of the first field that differs (``data.purpose``,
    ``occurred_at``…), never its value; ``event_id`` the reused id and ``seq``
    the stored entry's sequence number.  The whole batch is refused.
    """

    def __init__(self, field: str, rule: str = "", *, line: int | None = None,
                 event_id: str | None = None, seq: int | None = None) -> None:
        self.event_id = event_id
        self.seq = seq
        if not rule:
            rule = (f"event_id {event_id} is already stored (seq {seq}) with different "
                    "content: a retry must repeat the event exactly; give a new event a "
                    "new event_id")
        super().__init__(field, rule, line=line)

    def at_line(self, line: int) -> InputError:
        err = ConflictError(self.field, self.rule, line=line, event_id=self.event_id,
                            seq=self.seq)
        err.__cause__ = self.__cause__
        return err


class PolicyError(LedgerError):
    """A policy document that does not follow the policy format."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"policy {field}: {rule}")


class ConfigError(LedgerError):
    """Settings that keep the ledger from opening: URL, key files, schema."""


class KeyError_(LedgerError):  # noqa: N801 - trailing underscore: not the builtin KeyError
    """A key is missing, does not unwrap, or belongs to another ledger."""


class StorageError(LedgerError):
    """The database refused or failed an operation."""


class VerificationError(LedgerError):
    """The ledger, a bundle or a proof does not verify.

    ``seq`` is the first sequence number found bad (``None`` when the failure
    is not tied to one entry) and ``reason`` says which check failed.
    """

    def __init__(self, reason: str, *, seq: int | None = None) -> None:
        self.reason = reason
        self.seq = seq
        where = f"seq {seq}: " if seq is not None else ""
        super().__init__(f"{where}{reason}")


class IntegrityError(VerificationError):
    """A stored entry (or saved subtree hash) that a proof or check needs is missing or
    unreadable: the database was altered outside the ledger.  ``seq`` names the first
    entry found missing or corrupt when the failure is tied to one."""


class WitnessRefusal(LedgerError):
    """A witness refuses a checkpoint, with the HTTP status of c2sp.org/tlog-witness:
    400 malformed, 403 no valid signature by the log's key, 404 unknown origin, 409 the
    old size is not the witness's (``size``: the one it has), 422 the consistency proof
    (or an empty tree's root) does not verify."""

    def __init__(self, status: int, reason: str, *, size: int | None = None) -> None:
        self.status = status
        self.reason = reason
        self.size = size
        super().__init__(f"witness: {status} {reason}")
