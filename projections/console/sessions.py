"""Console sessions: a login token exchanged for a random session id, kept in memory.

The browser holds only the session id, in a cookie that scripts cannot read
(HttpOnly), that no other site's page can make it send (SameSite=Strict), and that
travels only over TLS when the console is served over TLS (Secure).  The server keeps,
per session, the token it was opened with (to check on every request that the token is
still live: revoking a token ends its sessions at once), the token's name and role, the
form token (CSRF) and the times.  A session ends at logout, after ``idle`` without a
request, after ``lifetime`` whatever happens, and when the server stops (sessions are
not stored: a restart asks everyone to log in again).  docs/DECISIONS.md, issue 12.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["Session", "SessionStore"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Session:
    """One logged-in browser: who, and the secret its forms must carry."""

    id: str
    token: str = field(repr=False)   # never sent back to the browser
    name: str
    role: str
    csrf: str = field(repr=False)
    started: datetime
    seen: datetime


class SessionStore:
    """The live sessions of one ledger's console (thread-safe)."""

    def __init__(self, *, idle: timedelta, lifetime: timedelta,
                 clock: Callable[[], datetime] = _now) -> None:
        self.idle = idle
        self.lifetime = lifetime
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, token: str, name: str, role: str) -> Session:
        now = self.clock()
        session = Session(secrets.token_urlsafe(32), token, name, role,
                          secrets.token_urlsafe(32), now, now)
        with self._lock:
            self._expire(now)
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of that id, its idle clock restarted; None when there is none."""
        if not session_id:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.seen > self.idle or now - session.started > self.lifetime:
                del self._sessions[session_id]
                return None
            session.seen = now
            return session

    def close(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def __len__(self) -> int:
        with self._lock:
            self._expire(self.clock())
            return len(self._sessions)

    def _expire(self, now: datetime) -> None:
        for sid in [sid for sid, s in self._sessions.items()
                    if now - s.seen > self.idle or now - s.started > self.lifetime]:
            del self._sessions[sid]
