"""What a route module is given: the ledger, the role check, the limits, threads.

Route modules — the core ones (:mod:`ledger.http.routes`) and those of other
packages, through the ``ledger.http_routes`` entry-point group — are
functions ``register(router, ctx)``: ``router`` is a FastAPI ``APIRouter``
mounted under ``/v1``, ``ctx`` a :class:`RouteContext`.  A route declares who
may call it with ``Depends(ctx.require("permission"))`` (the permission table:
:mod:`ledger.http.roles`), which also gives it the caller's
:class:`~ledger.app.tokens.Principal`.

Database work is blocking: ``await ctx.run(fn, *args)`` runs it in a worker
thread (``def`` routes are run in the same thread pool by FastAPI).  The pool
is as large as the database connection pool allows (``Limits.db_threads``).
Appends go through ``await ctx.append(drafts)``: they serialise on the
ledger's lock anyway, so concurrent ones share one transaction (group commit,
:mod:`ledger.http.commit`) instead of each holding a connection while waiting.

Operations (:mod:`ledger.http.ops`): ``ctx.metrics`` is the app's own Prometheus
registry and counters (:mod:`ledger.http.metrics`; a plug-in may add its own metrics
to ``ctx.metrics.registry``); a plug-in that keeps read models tells how far they
are with ``ctx.add_lag_source(progress, catch_up)``, which ``/v1/ready`` and the
``ledger_projection_lag`` gauge read.
"""

# No `from __future__ import annotations` here: FastAPI evaluates the annotations of
# the nested route functions at run time, and they name local variables (ctx).

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger.app.tokens import Principal, Tokens
from ledger.http.commit import GroupCommitter
from ledger.http.metrics import Metrics
from ledger.http.problems import Problem
from ledger.http.roles import Permissions
from ledger.http.verification import VerifyRunner

if TYPE_CHECKING:
    from ledger.app.application import Ledger, Receipt
    from ledger.app.replicas import Replicas
    from ledger.domain.events import Draft

__all__ = ["SERVED_BY", "LagSource", "Limits", "RouteContext"]

T = TypeVar("T")
#: the response header naming the database that served a read (ledger.app.replicas)
SERVED_BY = "Ledger-Served-By"

_bearer = HTTPBearer(auto_error=False, description="a token from `ledger token create`")


@dataclass(frozen=True, slots=True)
class Limits:
    """Request limits (docs/API.md)."""

    max_body_bytes: int = 1_048_576      # enforced before parsing: 413
    max_events: int = 1000               # events in one POST /events: 413
    db_threads: int = 5                  # concurrent database reads (PostgreSQL pool: 6)
    verify_workers: int = 1              # processes of one GET /verify run
    group_events: int = 500              # most events in one shared append transaction


@dataclass(frozen=True, slots=True)
class LagSource:
    """A plug-in's read models: ``progress()`` maps each one's name to the last ``seq``
    of the ledger it has processed (blocking: runs in a worker thread); ``catch_up()``,
    if given, brings them all up to the head (blocking, may be long)."""

    progress: Callable[[], Mapping[str, int]]
    catch_up: Callable[[], None] | None = None


class RouteContext:
    def __init__(self, ledger: "Ledger", url: str, name: str, *, tokens: Tokens,
                 permissions: Permissions, limits: Limits) -> None:
        self.ledger = ledger
        self.url = url
        self.name = name
        self.tokens = tokens
        self.permissions = permissions
        self.limits = limits
        self.metrics = Metrics()
        self.verifier = VerifyRunner(url, name, workers=limits.verify_workers,
                                     on_result=self.metrics.verified)
        self.committer = GroupCommitter(ledger, max_events=limits.group_events)
        self._closers: list[Callable[[], None]] = []
        self._lag_sources: list[LagSource] = []
        self.replicas: Replicas | None = None  # read URLs (set by create_app)

    def add_lag_source(self, progress: Callable[[], Mapping[str, int]],
                       catch_up: Callable[[], None] | None = None) -> None:
        """Have ``/v1/ready`` and the metrics report how far a plug-in's read models are:
        ``progress()`` → ``{name: last seq processed}``; their lag is the ledger's head
        minus that.  ``catch_up()``: what ``/v1/ready`` starts when one is too far behind."""
        self._lag_sources.append(LagSource(progress, catch_up))

    @property
    def lag_sources(self) -> tuple[LagSource, ...]:
        return tuple(self._lag_sources)

    def on_close(self, close: Callable[[], None]) -> None:
        """Have ``close`` called when the app shuts down, before the ledger is closed
        (plugins release what they opened: a reader's connections)."""
        self._closers.append(close)

    def close(self) -> None:
        """Called by the app's lifespan at shutdown: the plugins' closers, newest first."""
        while self._closers:
            self._closers.pop()()

    # -- roles -------------------------------------------------------------------------
    def require(self, permission: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
        """A dependency: the caller's principal if its role holds ``permission``.

        No, malformed, unknown or revoked token: 401 with ``WWW-Authenticate:
        Bearer``; a live token whose role lacks the permission: 403.  The body
        says nothing about which tokens exist.
        """
        self.permissions.roles(permission)  # unknown permission: refused at registration

        async def principal(request: Request, creds: Annotated[
                HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
            who = None
            if creds is not None and creds.scheme.lower() == "bearer":
                who = await self.run(self.tokens.authenticate, creds.credentials)
            if who is None:
                challenge = 'Bearer realm="ledger"' if creds is None else \
                    'Bearer realm="ledger", error="invalid_token"'
                raise Problem(401, "a valid bearer token is required",
                              headers={"WWW-Authenticate": challenge})
            request.state.actor = who.name
            if not self.permissions.allows(who.role, permission):
                raise Problem(403, "this token's role may not use this route")
            return who

        principal.__name__ = f"require_{permission.replace(':', '_')}"
        return principal

    # -- threads -----------------------------------------------------------------------
    def started(self) -> None:
        """Called by the app's lifespan, inside the server's event loop."""
        anyio.to_thread.current_default_thread_limiter().total_tokens = self.limits.db_threads
        self.committer.started()
        self.verifier = VerifyRunner(self.url, self.name, workers=self.limits.verify_workers,
                                     replicas=self.replicas, on_result=self.metrics.verified)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Blocking (database) work in the shared worker threads."""
        return await anyio.to_thread.run_sync(fn, *args)

    async def read(self, fn: "Callable[[Ledger], T]", min_seq: int | None = None) \
            -> tuple[T, str]:
        """``fn(ledger)`` on a replica that holds entry ``min_seq`` (waiting up to the
        bound, :mod:`ledger.app.replicas`), else on the primary; and which served it
        (``replica`` or ``primary``, for the :data:`SERVED_BY` header).  A replica that
        fails the read (a read-only refusal: the proof tree is not caught up there)
        gives way to the primary."""
        from ledger.app.replicas import PRIMARY, REPLICA  # noqa: PLC0415
        from ledger.errors import StorageError  # noqa: PLC0415

        if self.replicas is not None:
            served = await self.run(self.replicas.reader, min_seq)
            if served.by == REPLICA:
                try:
                    return await self.run(fn, served.ledger), REPLICA
                except StorageError:
                    pass
        return await self.run(fn, self.ledger), PRIMARY

    async def append(self, drafts: "Sequence[Draft]") -> "list[Receipt]":
        """Append parsed events, all or nothing, sharing a transaction with concurrent
        requests (:mod:`ledger.http.commit`); raises the ledger's errors."""
        receipts = await self.committer.append(drafts)
        self.metrics.appended(sum(1 for r in receipts if r.new))
        return receipts
