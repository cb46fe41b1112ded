"""Sessions of staff signed in to the web map (DESIGN §5.3 roles, issue 18).

A member of staff enters an API key once; the server verifies it (layers/keys.py) and opens a
session: a random 256-bit token that goes to the browser only as an HttpOnly cookie, and a CSRF
token the page sends back in a header with every state-changing request. The store keeps the
token's SHA-256, never the token, and never the key. A session ends at sign-out, after
``idle_s`` without a request, after ``absolute_s`` in any case, and at once when its key is
revoked (``valid`` asks the key store on every use).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from layers.keys import Key, KeyStore
from layers.statedb import StateDB

TOUCH_EVERY_S = 30.0  # last_seen is written at most this often per session


@dataclass(frozen=True)
class Session:
    """An open session (what the API may know of it: no token)."""

    key_id: str
    key_name: str
    role: str
    csrf: str
    created: float
    last_seen: float
    idle_s: float
    absolute_s: float

    @property
    def expires(self) -> float:
        """When the session ends if no further request comes (epoch seconds)."""
        return min(self.last_seen + self.idle_s, self.created + self.absolute_s)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class SessionStore:
    """Sessions in the data directory's state database."""

    def __init__(self, db: StateDB, keys: KeyStore, idle_s: float, absolute_s: float):
        self.db = db
        self.keys = keys
        self.idle_s = idle_s
        self.absolute_s = absolute_s

    def open(self, key: Key) -> tuple[str, Session]:
        """A new session for a verified key: (cookie token, session)."""
        token = secrets.token_urlsafe(32)
        now = time.time()
        s = Session(
            key.key_id, key.name, key.role, secrets.token_urlsafe(32), now, now, self.idle_s, self.absolute_s
        )
        with self.db.transaction() as con:
            con.execute("DELETE FROM sessions WHERE created < ? OR last_seen < ?", self._cutoffs(now))
            con.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (_hash(token), s.key_id, s.key_name, s.role, s.csrf, s.created, s.last_seen),
            )
        return token, s

    def _cutoffs(self, now: float) -> tuple[float, float]:
        return now - self.absolute_s, now - self.idle_s

    def get(self, token: str) -> Session | None:
        """The live session of a cookie token, or None (unknown, expired, or its key revoked).

        A use extends the idle expiry (written at most every ``TOUCH_EVERY_S``).
        """
        if not token or len(token) > 100:
            return None
        h = _hash(token)
        with self.db.connect() as con:
            row = con.execute("SELECT * FROM sessions WHERE token_hash = ?", (h,)).fetchone()
        if row is None:
            return None
        now = time.time()
        created_cut, idle_cut = self._cutoffs(now)
        key = self.keys.get(row["key_id"])
        if (
            row["created"] < created_cut
            or row["last_seen"] < idle_cut
            or key is None
            or key.role != row["role"]
        ):
            self.close(token)
            return None
        last_seen = row["last_seen"]
        if now - last_seen > TOUCH_EVERY_S:
            with self.db.transaction() as con:
                con.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (now, h))
            last_seen = now
        return Session(
            row["key_id"],
            row["key_name"],
            row["role"],
            row["csrf"],
            row["created"],
            last_seen,
            self.idle_s,
            self.absolute_s,
        )

    def close(self, token: str) -> None:
        """End a session (sign-out); nothing happens for an unknown token."""
        with self.db.transaction() as con:
            con.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash(token),))

    def close_key(self, key_id: str) -> int:
        """End every session of a key (revocation); the number ended."""
        with self.db.transaction() as con:
            return con.execute("DELETE FROM sessions WHERE key_id = ?", (key_id,)).rowcount

    def count(self) -> int:
        """Sessions stored (live or not yet purged)."""
        with self.db.connect() as con:
            return int(con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])
