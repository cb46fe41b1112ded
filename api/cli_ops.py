"""The operator's subcommands of ``nrw-sites``: backup, restore, the audit trail, inquiries.

Split from api/cli.py (which builds the parser and holds the everyday commands); each imports
what it needs when it runs, so the command line starts fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def data_dir(args: argparse.Namespace) -> Path:
    """The data directory: ``--data``, else ``$NRW_SITES_DATA``, else ``./data``."""
    return Path(args.data or os.environ.get("NRW_SITES_DATA") or "data")


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a consistent archive of the data directory (the server may keep running)."""
    from layers.backup import backup

    backup(data_dir(args), Path(args.out), progress=lambda m: print(m, file=sys.stderr))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore an archive into an empty data directory."""
    from layers.backup import restore

    restore(Path(args.archive), data_dir(args), progress=lambda m: print(m, file=sys.stderr))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """List the audit trail of confidential reads (one JSON line per record with --json)."""
    import datetime as dt

    from api.settings import Settings
    from layers.audit import AuditLog

    since = None
    if args.since:
        try:
            since = dt.datetime.fromisoformat(args.since)
        except ValueError:
            print("error: --since takes a date or time, e.g. 2026-12-01 or 2026-12-01T08:00", file=sys.stderr)
            return 2
        since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
    log = AuditLog(data_dir(args), Settings().audit_retention_days)
    n = 0
    for r in log.records(since, args.key):
        n += 1
        if args.json:
            print(json.dumps(r, ensure_ascii=False))
        else:
            shown = ", ".join(r["sites"][:5]) + (f" … (+{r['count'] - 5})" if r["count"] > 5 else "")
            who = r["key"] or "-"
            print(f"{r['time']}  {who:<20} {r['method']:<6} {r['route']:<40} {r['count']:>5}  {shown}")
    print(f"{n} records", file=sys.stderr)
    return 0


def cmd_inquiries(args: argparse.Namespace) -> int:
    """Re-run every saved inquiry on the live snapshot (or list them) and record the runs."""
    from layers.inquiries import InquiryStore
    from layers.statedb import StateDB

    store = InquiryStore(StateDB(data_dir(args)))
    if args.action == "run":
        from api import service
        from api.routes_inquiries import target_of

        result = store.run_all(target_of(service.Service.open(data_dir(args))))
        print(
            f"snapshot {result['snapshot']}: {result['recorded']} of {result['inquiries']} inquiries "
            f"recorded ({result['rankings']} rankings, {result['seconds']} s); the others had run already"
        )
        return 0
    for i in store.list():
        run = i.last_run or {}
        print(
            f"{i.id}  {i.name[:40]:<40} {run.get('snapshot', '-'):<20} "
            f"{run.get('count', 0):>5} matches  {run.get('new', 0):>4} new  {run.get('gone', 0):>4} gone"
        )
    return 0
