"""Shared shortlists of staff: a named list of sites, each with a note (issue 18).

A shortlist (e.g. "Elektrolyseur Q1/2027") belongs to no one: every member of staff sees and
edits every list, and each change records who made it and when. Sites keep the order they were
added in. ``version`` counts the changes of a list, so a client that renames or deletes with the
version it last saw gets a conflict instead of overwriting someone else's change.

Stored in the state database (layers/statedb.py: WAL, synchronous, migrations), so a committed
change survives a crash of the server.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any

from geo.errors import Conflict, InvalidParameter, NotFound
from layers.statedb import StateDB

MAX_NAME = 120
MAX_NOTE = 4000
MAX_SITES = 500
MAX_LISTS = 1000
ID = re.compile(r"^[a-z0-9]{12}$")


@dataclass(frozen=True)
class Entry:
    """One site on a shortlist."""

    site_id: str
    note: str
    added_by: str
    added: str
    updated_by: str
    updated: str


@dataclass(frozen=True)
class Shortlist:
    """A shortlist with its sites (``sites`` empty in a listing; ``count`` always set)."""

    id: str
    name: str
    created_by: str
    created: str
    updated_by: str
    updated: str
    version: int
    count: int
    sites: tuple[Entry, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The API's representation."""
        return {
            "id": self.id,
            "name": self.name,
            "created_by": self.created_by,
            "created": self.created,
            "updated_by": self.updated_by,
            "updated": self.updated,
            "version": self.version,
            "count": self.count,
            "sites": [e.__dict__ for e in self.sites],
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def clean_name(name: str) -> str:
    """A list's name, trimmed; InvalidParameter when empty, too long or holding control chars."""
    name = " ".join(str(name).split())
    if not name:
        raise InvalidParameter("a shortlist needs a name")
    if len(name) > MAX_NAME:
        raise InvalidParameter(f"a shortlist's name has at most {MAX_NAME} characters")
    return name


def clean_note(note: str) -> str:
    """A note, trimmed; control characters other than line breaks and tabs are refused."""
    note = str(note).strip()
    if len(note) > MAX_NOTE:
        raise InvalidParameter(f"a note has at most {MAX_NOTE} characters")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in note.replace("\r\n", "\n")):
        raise InvalidParameter("a note may not hold control characters")
    return note.replace("\r\n", "\n")


class ShortlistStore:
    """The shortlists of one data directory."""

    def __init__(self, db: StateDB):
        self.db = db

    @staticmethod
    def _head(row: sqlite3.Row, count: int, sites: tuple[Entry, ...] = ()) -> Shortlist:
        return Shortlist(
            row["id"],
            row["name"],
            row["created_by"],
            row["created"],
            row["updated_by"],
            row["updated"],
            row["version"],
            count,
            sites,
        )

    def list(self) -> list[Shortlist]:
        """Every shortlist with its number of sites, the most recently changed first."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT s.*, (SELECT COUNT(*) FROM shortlist_sites e WHERE e.shortlist_id = s.id) AS n "
                "FROM shortlists s ORDER BY s.updated DESC, s.name"
            ).fetchall()
        return [self._head(r, r["n"]) for r in rows]

    def get(self, list_id: str) -> Shortlist:
        """One shortlist with its sites in the order they were added; NotFound otherwise."""
        with self.db.connect() as con:
            return self._get(con, list_id)

    def _get(self, con: sqlite3.Connection, list_id: str) -> Shortlist:
        row = (
            con.execute("SELECT * FROM shortlists WHERE id = ?", (list_id,)).fetchone()
            if ID.match(list_id)
            else None
        )
        if row is None:
            raise NotFound("no shortlist with this id")
        sites = tuple(
            Entry(e["site_id"], e["note"], e["added_by"], e["added"], e["updated_by"], e["updated"])
            for e in con.execute(
                "SELECT * FROM shortlist_sites WHERE shortlist_id = ? ORDER BY position, site_id", (list_id,)
            )
        )
        return self._head(row, len(sites), sites)

    def create(self, name: str, by: str) -> Shortlist:
        """A new empty shortlist."""
        name, now = clean_name(name), _now()
        with self.db.transaction() as con:
            if con.execute("SELECT COUNT(*) FROM shortlists").fetchone()[0] >= MAX_LISTS:
                raise Conflict(f"there are {MAX_LISTS} shortlists already; delete one first")
            list_id = secrets.token_hex(6)
            con.execute(
                "INSERT INTO shortlists VALUES (?, ?, ?, ?, ?, ?, 1)", (list_id, name, by, now, by, now)
            )
            return self._get(con, list_id)

    def _bump(self, con: sqlite3.Connection, list_id: str, by: str, version: int | None) -> None:
        current = self._get(con, list_id).version
        if version is not None and version != current:
            raise Conflict(
                f"the shortlist was changed meanwhile (version {current}, not {version}); reload it"
            )
        con.execute(
            "UPDATE shortlists SET updated = ?, updated_by = ?, version = version + 1 WHERE id = ?",
            (_now(), by, list_id),
        )

    def rename(self, list_id: str, name: str, by: str, version: int | None = None) -> Shortlist:
        """Give a list another name."""
        name = clean_name(name)
        with self.db.transaction() as con:
            self._bump(con, list_id, by, version)
            con.execute("UPDATE shortlists SET name = ? WHERE id = ?", (name, list_id))
            return self._get(con, list_id)

    def delete(self, list_id: str, version: int | None = None) -> None:
        """Delete a list and its notes."""
        with self.db.transaction() as con:
            self._bump(con, list_id, "", version)
            con.execute("DELETE FROM shortlists WHERE id = ?", (list_id,))

    def put_site(self, list_id: str, site_id: str, note: str | None, by: str) -> Shortlist:
        """Add a site (at the end) or change its note; ``note=None`` keeps the note it has."""
        text = None if note is None else clean_note(note)
        now = _now()
        with self.db.transaction() as con:
            self._bump(con, list_id, by, None)
            old = con.execute(
                "SELECT note FROM shortlist_sites WHERE shortlist_id = ? AND site_id = ?", (list_id, site_id)
            ).fetchone()
            if old is None:
                n, last = con.execute(
                    "SELECT COUNT(*), COALESCE(MAX(position), 0) FROM shortlist_sites WHERE shortlist_id = ?",
                    (list_id,),
                ).fetchone()
                if n >= MAX_SITES:
                    raise Conflict(f"a shortlist holds at most {MAX_SITES} sites")
                con.execute(
                    "INSERT INTO shortlist_sites VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (list_id, site_id, text or "", by, now, by, now, last + 1),
                )
            elif text is not None:
                con.execute(
                    "UPDATE shortlist_sites SET note = ?, updated_by = ?, updated = ? "
                    "WHERE shortlist_id = ? AND site_id = ?",
                    (text, by, now, list_id, site_id),
                )
            return self._get(con, list_id)

    def remove_site(self, list_id: str, site_id: str, by: str) -> Shortlist:
        """Take a site off a list; NotFound when it is not on it."""
        with self.db.transaction() as con:
            self._bump(con, list_id, by, None)
            gone = con.execute(
                "DELETE FROM shortlist_sites WHERE shortlist_id = ? AND site_id = ?", (list_id, site_id)
            ).rowcount
            if not gone:
                raise NotFound("this site is not on the shortlist")
            return self._get(con, list_id)
