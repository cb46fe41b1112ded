"""Investor inquiries that watch for new sites (issue 19 §4): the store, runs and feed tokens.

An inquiry (e.g. "Elektrolyseur Q1/2027") is what an investor asked for, saved by staff: a name,
a confidential note about the investor, and its criteria (layers/inquiry_criteria.py). A *run*
records the matches of one inquiry in one snapshot and, against the inquiry's previous run, the
sites that newly match and those that no longer do, with the reason. A run is unique per
(inquiry, criteria version, snapshot) — a UNIQUE constraint — so several workers re-running after
a publish record it once. Changing the criteria starts a new criteria version whose first run (a
*baseline*, taken at once on the live snapshot) reports no changes. A ``version`` counts the
changes of an inquiry: a stale one is a conflict, never an overwrite.

A feed token lets a feed reader fetch one inquiry's Atom feed: random, shown once, stored only as
its SHA-256, revocable, and void when the staff key that made it is revoked.

Stored in the state database (layers/statedb.py: WAL, synchronous, migrations), so a committed
change survives a crash of the server.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import json
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from geo.errors import Conflict, NotFound
from geo.query import RankingQuery
from geo.scoring import Ranking
from layers.inquiry_criteria import (
    MAX_MATCHES,
    Criteria,
    Evaluation,
    Target,
    clean_criteria,
    clean_investor_note,
    clean_name,
    evaluate,
    when,
)
from layers.statedb import StateDB

__all__ = ["MAX_INQUIRIES", "MAX_MATCHES", "Inquiry", "InquiryStore", "criteria_of", "token_hash"]
MAX_INQUIRIES = 500
MAX_RUNS_SHOWN = 200
ID = re.compile(r"^[a-z0-9]{12}$")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def token_hash(token: str) -> str:
    """The stored form of a feed token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def criteria_of(text: str) -> Criteria:
    """Stored criteria (JSON) back as Criteria."""
    return clean_criteria(json.loads(text))


@dataclass(frozen=True)
class Inquiry:
    """A saved inquiry (``note`` is confidential)."""

    id: str
    name: str
    note: str
    criteria: Criteria
    criteria_version: int
    created_by: str
    created: str
    updated_by: str
    updated: str
    version: int
    last_run: dict[str, Any] | None
    feed: dict[str, Any] | None

    def as_json(self, note: bool = True) -> dict[str, Any]:
        """The API's representation (without the note in a listing)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if note:
            out["note"] = self.note
        out.update(self.criteria.as_json())
        out["ranking_params"] = self.criteria.ranking_params()
        out.update(
            {
                "criteria_version": self.criteria_version,
                "created_by": self.created_by,
                "created": self.created,
                "updated_by": self.updated_by,
                "updated": self.updated,
                "version": self.version,
                "last_run": self.last_run,
                "feed_token": self.feed,
            }
        )
        return out


def _run_summary(con: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    counts = dict(
        con.execute(
            "SELECT change, COUNT(*) FROM inquiry_changes WHERE seq = ? GROUP BY change", (row["seq"],)
        ).fetchall()
    )
    return {
        "snapshot": row["snapshot"],
        "snapshot_created": row["snapshot_created"],
        "previous": row["previous"],
        "baseline": row["previous"] is None,
        "criteria_version": row["criteria_version"],
        "ran": row["ran"],
        "count": len(json.loads(row["sites"])),
        "new": counts.get("new", 0),
        "gone": counts.get("gone", 0),
    }


class InquiryStore:
    """The inquiries of one data directory (layers/statedb.py)."""

    def __init__(self, db: StateDB):
        self.db = db

    # -- reading --------------------------------------------------------------------------
    def _inquiry(self, con: sqlite3.Connection, row: sqlite3.Row) -> Inquiry:
        last = con.execute(
            "SELECT * FROM inquiry_runs WHERE inquiry_id = ? ORDER BY seq DESC LIMIT 1", (row["id"],)
        ).fetchone()
        feed = con.execute(
            "SELECT created_by, created FROM inquiry_feed_tokens WHERE inquiry_id = ?", (row["id"],)
        ).fetchone()
        return Inquiry(
            row["id"],
            row["name"],
            row["note"],
            criteria_of(row["criteria"]),
            row["criteria_version"],
            row["created_by"],
            row["created"],
            row["updated_by"],
            row["updated"],
            row["version"],
            None if last is None else _run_summary(con, last),
            None if feed is None else {"created_by": feed["created_by"], "created": feed["created"]},
        )

    def _row(self, con: sqlite3.Connection, inquiry_id: str) -> sqlite3.Row:
        row = (
            con.execute("SELECT * FROM inquiries WHERE id = ?", (inquiry_id,)).fetchone()
            if ID.match(inquiry_id)
            else None
        )
        if row is None:
            raise NotFound("no inquiry with this id")
        found: sqlite3.Row = row
        return found

    def list(self) -> list[Inquiry]:
        """Every inquiry, the most recently changed first."""
        with self.db.connect() as con:
            rows = con.execute("SELECT * FROM inquiries ORDER BY updated DESC, name").fetchall()
            return [self._inquiry(con, r) for r in rows]

    def get(self, inquiry_id: str) -> Inquiry:
        """One inquiry; NotFound otherwise."""
        with self.db.connect() as con:
            return self._inquiry(con, self._row(con, inquiry_id))

    # -- writing --------------------------------------------------------------------------
    def create(
        self, name: str, note: str, c: Criteria, by: str, baseline: tuple[Target, Evaluation] | None = None
    ) -> Inquiry:
        """A new inquiry, with its baseline run on the live snapshot when given (one transaction)."""
        name, note, now = clean_name(name), clean_investor_note(note), _now()
        with self.db.transaction() as con:
            if con.execute("SELECT COUNT(*) FROM inquiries").fetchone()[0] >= MAX_INQUIRIES:
                raise Conflict(f"there are {MAX_INQUIRIES} inquiries already; delete one first")
            inquiry_id = secrets.token_hex(6)
            con.execute(
                "INSERT INTO inquiries VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, 1)",
                (inquiry_id, name, note, json.dumps(c.as_json()), by, now, by, now),
            )
            if baseline is not None:
                self._insert_run(con, inquiry_id, 1, None, *baseline)
            return self._inquiry(con, self._row(con, inquiry_id))

    def update(
        self,
        inquiry_id: str,
        by: str,
        version: int | None = None,
        name: str | None = None,
        note: str | None = None,
        criteria: Criteria | None = None,
        baseline: tuple[Target, Evaluation] | None = None,
    ) -> Inquiry:
        """Change name, note and/or criteria; new criteria start a new criteria version (with
        its baseline run when given). With ``version``, Conflict when the inquiry changed since."""
        name = None if name is None else clean_name(name)
        note = None if note is None else clean_investor_note(note)
        with self.db.transaction() as con:
            row = self._row(con, inquiry_id)
            if version is not None and version != row["version"]:
                raise Conflict(
                    f"the inquiry was changed meanwhile (version {row['version']}, not {version}); reload it"
                )
            cv = row["criteria_version"]
            text = row["criteria"]
            if criteria is not None and json.dumps(criteria.as_json()) != text:
                cv, text = cv + 1, json.dumps(criteria.as_json())
                if baseline is not None:
                    self._insert_run(con, inquiry_id, cv, None, *baseline)
            con.execute(
                "UPDATE inquiries SET name = ?, note = ?, criteria = ?, criteria_version = ?, "
                "updated = ?, updated_by = ?, version = version + 1 WHERE id = ?",
                (
                    name if name is not None else row["name"],
                    note if note is not None else row["note"],
                    text,
                    cv,
                    _now(),
                    by,
                    inquiry_id,
                ),
            )
            return self._inquiry(con, self._row(con, inquiry_id))

    def delete(self, inquiry_id: str, version: int | None = None) -> None:
        """Delete an inquiry, its runs and its feed token."""
        with self.db.transaction() as con:
            row = self._row(con, inquiry_id)
            if version is not None and version != row["version"]:
                raise Conflict(
                    f"the inquiry was changed meanwhile (version {row['version']}, not {version}); reload it"
                )
            con.execute("DELETE FROM inquiries WHERE id = ?", (inquiry_id,))

    # -- runs -----------------------------------------------------------------------------
    @staticmethod
    def _insert_run(
        con: sqlite3.Connection, inquiry_id: str, cv: int, previous: str | None, t: Target, ev: Evaluation
    ) -> bool:
        cur = con.execute(
            "INSERT OR IGNORE INTO inquiry_runs (inquiry_id, criteria_version, snapshot, snapshot_created, "
            "previous, ran, sites) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (inquiry_id, cv, t.snapshot, t.created, previous, _now(), json.dumps(ev.sites)),
        )
        if not cur.rowcount:
            return False  # another worker recorded this run first
        seq = cur.lastrowid
        con.executemany(
            "INSERT INTO inquiry_changes VALUES (?, ?, 'new', NULL, ?)",
            [(seq, s, json.dumps(d)) for s, d in ev.new],
        )
        con.executemany(
            "INSERT INTO inquiry_changes VALUES (?, ?, 'gone', ?, ?)",
            [(seq, s, why, json.dumps(d)) for s, why, d in ev.gone],
        )
        return True

    def baseline(self, c: Criteria, t: Target) -> tuple[Target, Evaluation]:
        """The first run of new criteria on ``t`` (no changes reported)."""
        return t, evaluate(c, t.rank(c.query), t, None)

    def run_all(self, t: Target) -> dict[str, Any]:
        """Re-run every inquiry that has no run on ``t``'s snapshot yet and record the runs
        (each once, whichever process is first); returns counts and the time taken."""
        t0 = time.perf_counter()
        with self.db.connect() as con:
            todo = con.execute(
                "SELECT i.id, i.criteria, i.criteria_version, "
                "(SELECT r.snapshot FROM inquiry_runs r WHERE r.inquiry_id = i.id "
                " AND r.criteria_version = i.criteria_version ORDER BY r.seq DESC LIMIT 1) AS prev_snap, "
                "(SELECT r.sites FROM inquiry_runs r WHERE r.inquiry_id = i.id "
                " AND r.criteria_version = i.criteria_version ORDER BY r.seq DESC LIMIT 1) AS prev_sites "
                "FROM inquiries i WHERE NOT EXISTS (SELECT 1 FROM inquiry_runs r WHERE r.inquiry_id = i.id "
                " AND r.criteria_version = i.criteria_version AND r.snapshot = ?)",
                (t.snapshot,),
            ).fetchall()
        rankings: dict[RankingQuery, Ranking] = {}
        done = []
        for row in todo:
            c = criteria_of(row["criteria"])
            q = c.query.key
            if q not in rankings:
                rankings[q] = t.rank(q)
            prev = None if row["prev_sites"] is None else list(json.loads(row["prev_sites"]))
            done.append(
                (row["id"], row["criteria_version"], row["prev_snap"], evaluate(c, rankings[q], t, prev))
            )
        recorded = 0
        with self.db.transaction() as con:  # one transaction: a publish's runs land together
            for inquiry_id, cv, prev_snap, ev in done:
                current = con.execute(
                    "SELECT criteria_version FROM inquiries WHERE id = ?", (inquiry_id,)
                ).fetchone()
                if current is None or current[0] != cv:
                    continue  # deleted or changed meanwhile (the change took its own baseline)
                recorded += self._insert_run(con, inquiry_id, cv, prev_snap, t, ev)
        return {
            "snapshot": t.snapshot,
            "inquiries": len(todo),
            "rankings": len(rankings),
            "recorded": recorded,
            "seconds": round(time.perf_counter() - t0, 3),
        }

    def runs(self, inquiry_id: str, since: dt.datetime | None = None) -> builtins.list[dict[str, Any]]:
        """The inquiry's runs (newest first) on snapshots created after ``since``, each with the
        sites that newly matched and those that no longer did (and why)."""
        with self.db.connect() as con:
            self._row(con, inquiry_id)
            rows = con.execute(
                "SELECT * FROM inquiry_runs WHERE inquiry_id = ? ORDER BY seq DESC", (inquiry_id,)
            ).fetchall()
            out = []
            for row in rows:
                if since is not None and when(row["snapshot_created"]) <= since:
                    continue
                run = _run_summary(con, row)
                run["sites"] = json.loads(row["sites"])
                changes = con.execute(
                    "SELECT * FROM inquiry_changes WHERE seq = ? ORDER BY change DESC, site_id", (row["seq"],)
                ).fetchall()
                run["new"] = [
                    {"site_id": c["site_id"], **json.loads(c["detail"])}
                    for c in changes
                    if c["change"] == "new"
                ]
                run["gone"] = [
                    {"site_id": c["site_id"], "reason": c["reason"], **json.loads(c["detail"])}
                    for c in changes
                    if c["change"] == "gone"
                ]
                out.append(run)
                if len(out) >= MAX_RUNS_SHOWN:
                    break
        return out

    # -- feed tokens ----------------------------------------------------------------------
    def new_feed_token(self, inquiry_id: str, key_id: str | None, by: str) -> str:
        """A new feed token for the inquiry (the old one stops working); shown only now."""
        token = "feed_" + secrets.token_urlsafe(32)
        with self.db.transaction() as con:
            self._row(con, inquiry_id)
            con.execute("DELETE FROM inquiry_feed_tokens WHERE inquiry_id = ?", (inquiry_id,))
            con.execute(
                "INSERT INTO inquiry_feed_tokens VALUES (?, ?, ?, ?, ?)",
                (token_hash(token), inquiry_id, key_id, by, _now()),
            )
        return token

    def revoke_feed_token(self, inquiry_id: str) -> None:
        """Revoke the inquiry's feed token; NotFound when it has none."""
        with self.db.transaction() as con:
            self._row(con, inquiry_id)
            if not con.execute(
                "DELETE FROM inquiry_feed_tokens WHERE inquiry_id = ?", (inquiry_id,)
            ).rowcount:
                raise NotFound("this inquiry has no feed token")

    def feed_token_key(self, inquiry_id: str, token: str) -> tuple[bool, str | None]:
        """Whether ``token`` is the inquiry's feed token, and the id of the key that made it."""
        if not ID.match(inquiry_id) or not token or len(token) > 100:
            return False, None
        with self.db.connect() as con:
            row = con.execute(
                "SELECT inquiry_id, key_id FROM inquiry_feed_tokens WHERE token_hash = ?",
                (token_hash(token),),
            ).fetchone()
        if row is None or row["inquiry_id"] != inquiry_id:
            return False, None
        return True, row["key_id"]
