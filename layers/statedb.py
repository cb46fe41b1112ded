"""The service's own state that must survive: staff sessions, shared shortlists, inquiries.

One SQLite file, ``DATA_DIR/state.sqlite``, in WAL mode with ``synchronous=FULL``: a committed
write is on disk before the call returns, a crash (even SIGKILL or power loss) leaves the last
committed state, and readers never block the writer. Several server processes (``serve
--workers N``) share the file; SQLite's locks order their writes and ``busy_timeout`` makes a
writer wait its turn instead of failing.

The schema carries its version in ``PRAGMA user_version``; ``connect`` applies the missing
``MIGRATIONS`` in order, each in one transaction, so a database written by an older release is
brought up to date on first use and a newer one is refused with a clear message.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from geo.errors import DomainError

STATE_FILE = "state.sqlite"
BUSY_TIMEOUT_MS = 10_000
MIGRATIONS: tuple[str, ...] = (
    # 1: sessions of staff signed in to the web map (the token is stored only as its SHA-256)
    """
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        key_id TEXT NOT NULL,
        key_name TEXT NOT NULL,
        role TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created REAL NOT NULL,
        last_seen REAL NOT NULL
    );
    CREATE INDEX sessions_key ON sessions (key_id);
    """,
    # 2: shared shortlists and their sites, each with a note
    """
    CREATE TABLE shortlists (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        updated TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE shortlist_sites (
        shortlist_id TEXT NOT NULL REFERENCES shortlists (id) ON DELETE CASCADE,
        site_id TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        added_by TEXT NOT NULL,
        added TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        updated TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (shortlist_id, site_id)
    );
    """,
    # 3: investor inquiries, their runs per snapshot (one per inquiry, criteria and snapshot),
    # the sites that newly match or no longer match in each run, and revocable feed tokens
    """
    CREATE TABLE inquiries (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        criteria TEXT NOT NULL,
        criteria_version INTEGER NOT NULL DEFAULT 1,
        created_by TEXT NOT NULL,
        created TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        updated TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE inquiry_runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        inquiry_id TEXT NOT NULL REFERENCES inquiries (id) ON DELETE CASCADE,
        criteria_version INTEGER NOT NULL,
        snapshot TEXT NOT NULL,
        snapshot_created TEXT NOT NULL,
        previous TEXT,
        ran TEXT NOT NULL,
        sites TEXT NOT NULL,
        UNIQUE (inquiry_id, criteria_version, snapshot)
    );
    CREATE TABLE inquiry_changes (
        seq INTEGER NOT NULL REFERENCES inquiry_runs (seq) ON DELETE CASCADE,
        site_id TEXT NOT NULL,
        change TEXT NOT NULL,
        reason TEXT,
        detail TEXT NOT NULL,
        PRIMARY KEY (seq, site_id)
    );
    CREATE TABLE inquiry_feed_tokens (
        token_hash TEXT PRIMARY KEY,
        inquiry_id TEXT NOT NULL UNIQUE REFERENCES inquiries (id) ON DELETE CASCADE,
        key_id TEXT,
        created_by TEXT NOT NULL,
        created TEXT NOT NULL
    );
    """,
)


def schema_version() -> int:
    """The schema version this release writes."""
    return len(MIGRATIONS)


def _migrate(con: sqlite3.Connection, path: Path) -> None:
    version = int(con.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise DomainError(
            f"{path} has state schema version {version}, newer than this release's "
            f"{len(MIGRATIONS)}; run the release that wrote it, or restore a backup"
        )
    for number in range(version, len(MIGRATIONS)):
        with con:  # one transaction per step: a crash never leaves a half-migrated schema
            con.execute("BEGIN IMMEDIATE")
            if int(con.execute("PRAGMA user_version").fetchone()[0]) != number:
                continue  # another process migrated meanwhile
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute(f"PRAGMA user_version = {number + 1}")


class StateDB:
    """The state database of one data directory; a fresh connection per use (thread-safe)."""

    def __init__(self, root: Path | str):
        self.path = Path(root) / STATE_FILE
        self._ready = False

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode; use ``with con:`` for a transaction."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            con.row_factory = sqlite3.Row
            con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            con.execute("PRAGMA foreign_keys = ON")
            con.execute("PRAGMA synchronous = FULL")
            if not self._ready:
                con.execute("PRAGMA journal_mode = WAL")
                _migrate(con, self.path)
                self._ready = True
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock at once (no upgrade deadlocks)."""
        with self.connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
