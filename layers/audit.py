"""The audit trail of personal data (issue 23, DSGVO Art. 5(2), 30, 32): who read which
confidential site fields, when, through which route.

``owner_contact`` (and the asking price and notes next to it) is personal data. Every answer that
carries one of these fields to staff or an admin leaves one record here: time, the key's name
and role, method and route (the path template, never the query string), status, and the ids of
the sites whose confidential fields it held. Its own files, never the request log:
``DATA_DIR/audit/YYYY-MM.jsonl``, one JSON line per record, appended with ``O_APPEND`` (lines of
several processes never interleave) and fsynced before the answer is logged as done, file mode
0600. A month's file is deleted once the whole month lies longer ago than the retention period
(``NRW_SITES_AUDIT_RETENTION_DAYS``, default 365 days).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

AUDIT_DIR = "audit"
PURGE_EVERY_S = 3600.0


def _month_end(stem: str) -> dt.datetime | None:
    try:
        start = dt.datetime.strptime(stem, "%Y-%m").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return (start + dt.timedelta(days=32)).replace(day=1)


class AuditLog:
    """The audit files of one data directory."""

    def __init__(self, root: Path | str, retention_days: float = 365):
        self.dir = Path(root) / AUDIT_DIR
        self.retention = dt.timedelta(days=retention_days)
        self._purged = 0.0
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        """Write one record (``time`` is added) durably; purge old months now and then."""
        now = dt.datetime.now(dt.UTC)
        line = json.dumps({"time": now.isoformat(timespec="milliseconds"), **record}, ensure_ascii=False)
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.dir / f"{now:%Y-%m}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if now.timestamp() - self._purged > PURGE_EVERY_S:
            self.purge(now)

    def purge(self, now: dt.datetime | None = None) -> list[str]:
        """Delete the months that ended longer ago than the retention period; their names."""
        now = now or dt.datetime.now(dt.UTC)
        gone = []
        with self._lock:
            self._purged = now.timestamp()
            for f in sorted(self.dir.glob("*.jsonl")) if self.dir.exists() else []:
                end = _month_end(f.stem)
                if end is not None and end < now - self.retention:
                    f.unlink(missing_ok=True)
                    gone.append(f.name)
        return gone

    def records(self, since: dt.datetime | None = None, key: str | None = None) -> Iterator[dict[str, Any]]:
        """The records, oldest first, from ``since`` on and of key ``key`` (both optional)."""
        if not self.dir.exists():
            return
        for f in sorted(self.dir.glob("*.jsonl")):
            end = _month_end(f.stem)
            if since is not None and end is not None and end < since:
                continue
            for line in f.read_text(encoding="utf-8").splitlines():
                try:
                    r = json.loads(line)
                except ValueError:
                    continue  # a line cut by a crash mid-write: the rest still counts
                if since is not None and dt.datetime.fromisoformat(r["time"]) < since:
                    continue
                if key is not None and r.get("key") != key:
                    continue
                yield r
