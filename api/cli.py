"""The ``nrw-sites`` command line (DESIGN §5.1): build, serve, score, export, layers, snapshots."""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli_ops import cmd_audit, cmd_backup, cmd_inquiries, cmd_restore
from api.cli_ops import data_dir as _data_dir
from geo.errors import DomainError
from layers.errors import SourceError

if TYPE_CHECKING:  # imported where used: the command line starts without pandas
    from layers.store import Store


def _store(args: argparse.Namespace) -> Store:
    from layers.store import Store

    return Store(_data_dir(args))


def cmd_build(args: argparse.Namespace) -> int:
    """Build and publish a snapshot; print its id and a count per layer."""
    from layers.build import build, build_demo_history, stderr_progress

    if bool(args.demo) == bool(args.sources):
        print("error: give exactly one of --demo or --sources FILE", file=sys.stderr)
        return 2
    if args.history and args.sources:
        print("error: --history tells the demo twice; it takes no --sources", file=sys.stderr)
        return 2
    if args.scheduler and args.engine != "dask":
        print("error: --scheduler names a dask scheduler: use it with --engine dask", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    from api.views import prepare

    engine = {"engine": args.engine, "scheduler": args.scheduler, "workers": args.workers, "prepare": prepare}
    if args.history:
        manifest = build_demo_history(_store(args), args.sites, args.seed, stderr_progress(), **engine)
    else:
        manifest = build(
            _store(args),
            sources=Path(args.sources) if args.sources else None,
            n_sites=args.sites,
            seed=args.seed,
            progress=stderr_progress(),
            **engine,
        )
    print(f"snapshot {manifest['id']}{' (SYNTHETIC demo data)' if manifest['synthetic'] else ''}")
    for name, meta in manifest["layers"].items():
        print(f"  {name:<18} {meta['count']:>9,}")
    for name in manifest["missing_layers"]:
        print(f"  {name:<18} {'-':>9}  not configured: criterion has no data")
    return 0


def cmd_layers(args: argparse.Namespace) -> int:
    """List the live snapshot's layers with count, source, licence and data date."""
    m = _store(args).manifest()
    print(f"snapshot {m['id']} created {m['created']}{'  SYNTHETIC demo data' if m['synthetic'] else ''}")
    rows = [("layer", "count", "format", "licence", "date", "source")]
    for name, meta in m["layers"].items():
        rows.append(
            (
                name,
                f"{meta['count']:,}",
                str(meta.get("format", "")),
                str(meta.get("licence", "")),
                str(meta.get("date") or ""),
                str(meta.get("source", "")),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(c.ljust(widths[i]) for i, c in enumerate(r[:5])) + "  " + r[5])
    return 0


def cmd_snapshots(args: argparse.Namespace) -> int:
    """List all snapshots, marking the live one."""
    store = _store(args)
    current = store.current_id()
    for m in store.list():
        mark = "*" if m["id"] == current else " "
        print(
            f"{mark} {m['id']}  {m['created']}  {m['layers']['sites']['count']:>7,} sites"
            f"{'  synthetic' if m['synthetic'] else ''}"
        )
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """What changed between two snapshots (default: the live one against its predecessor)."""
    from layers.changes import changes

    doc = changes(_store(args), args.old, args.new, ags=args.ags, kreis=args.kreis, public=False)
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=1))
        return 0
    c = doc["counts"]
    print(
        f"{doc['from']} -> {doc['to']}: {c['added']} added, {c['removed']} removed, "
        f"{c['changed']} changed ({c['rekeyed']} re-keyed), {c['unchanged']} unchanged"
    )
    for kind, sign in (("added", "+"), ("removed", "-")):
        for s in doc[kind]:
            print(f"{sign} {s['site_id']}  {s.get('area_ha')} ha  {s.get('planning_category')}")
    for s in doc["changed"]:
        what = [f"{k} {v['from']}->{v['to']}" for k, v in s["changes"].items()]
        what += [f"score[{p}] {v['from']}->{v['to']}" for p, v in s["score"].items()]
        rk = f" (was {s['rekeyed_from']})" if "rekeyed_from" in s else ""
        print(f"~ {s['site_id']}{rk}  {'; '.join(what)}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    """Make an older snapshot live again."""
    store = _store(args)
    with store.lock():
        store.set_current(args.snapshot)
    print(f"CURRENT -> {args.snapshot}")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    """Create, list or revoke API keys; a new key is printed once, as the last line of stdout."""
    from layers.keys import KeyStore

    keys = KeyStore(_data_dir(args))
    if args.action == "add":
        token = keys.add(args.name, args.role)
        print(f"created {args.role} key {args.name!r} in {keys.path}; it is shown only now, store it safely:")
        print(token)
    elif args.action == "revoke":
        key = keys.revoke(args.name)
        print(f"revoked {key.role} key {key.name!r}; requests with it are refused from now on")
    else:
        for k in keys.list():
            print(f"{k.name:<24} {k.role:<6} id {k.key_id}  created {k.created}")
    return 0


def _weights(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise DomainError(f"--weight takes CRITERION=WEIGHT, got {item[:40]!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def cmd_score(args: argparse.Namespace) -> int:
    """Rank stored sites, or the sites of a file, and print a table, JSON or GeoJSON."""
    from api import service
    from geo.filters import FILTERS, Filters
    from geo.query import RankingQuery

    filters = Filters(**{name: getattr(args, name) for name in FILTERS})
    query = RankingQuery.of(args.profile, _weights(args.weight), filters, args.h2_year, limit=args.top)
    svc = service.Service.open(_data_dir(args))
    if args.sites:  # the file's polygons, ranked among themselves by the same rules
        items, geoms = svc.score_file(Path(args.sites), query)
    else:
        items = svc.ranking(query)["items"]
    if args.format == "json":
        json.dump(items, sys.stdout, ensure_ascii=False, indent=1)
        print()
    elif args.format == "geojson":
        sys.stdout.write(
            svc.feature_collection(geoms, items, query.profile)
            if args.sites
            else svc.items_geojson(items, query.profile)
        )
        print()
    else:
        _table(items, svc.synthetic)
    return 0


def _table(items: list[dict[str, Any]], synthetic: bool) -> None:
    if synthetic:
        print("SYNTHETIC demo data: not official sites")
    print(
        f"{'rank':>4}  {'score':>5}  {'site_id':<16} {'kind':<13} {'area_ha':>8}  {'municipality':<24} name"
    )
    for i in items:
        score = "-" if i["score"] is None else f"{i['score']:.1f}"
        print(
            f"{i['rank'] or '-':>4}  {score:>5}  {i['site_id']:<16} {i['kind']:<13} "
            f"{i['area_ha']:>8.1f}  {str(i['municipality'])[:24]:<24} {i['name']}"
        )


def cmd_export(args: argparse.Namespace) -> int:
    """Write <key>.<format> per municipality, Kreis or NRW, and index.json."""
    from api import exports, service
    from layers.build import stderr_progress

    snap = _store(args).load()
    if not args.confidential:  # files for the municipalities: the public view only
        from api.views import public_snapshot

        snap = public_snapshot(snap)
    if not (args.all or args.municipality or args.kreis or args.nrw):
        print("error: give --municipality AGS ..., --all, --kreis KEY ... or --nrw", file=sys.stderr)
        return 2
    svc = service.Service(snap)
    areas = exports.areas_of(svc, args.municipality, args.kreis, args.nrw, args.all)
    index = exports.export_many(
        svc,
        areas,
        Path(args.out),
        args.profile,
        args.format,
        args.crs,
        args.lang,
        stderr_progress(),
        args.workers,
    )
    kinds = [e["kind"] for e in index["areas"]]
    counts = ", ".join(
        f"{kinds.count(k)} {w}"
        for k, w in (("municipality", "municipalities"), ("kreis", "Kreise"), ("nrw", "NRW"))
        if k in kinds
    )
    print(f"wrote {counts} ({', '.join(args.format)}) to {args.out}")
    return 0


READ_ONLY_ERRNOS = (errno.EROFS, errno.EACCES, errno.EPERM)
# Allocators of the worker processes (issue 20 §1): two glibc malloc arenas instead of eight per
# core, and Arrow's buffers from malloc instead of its own pool, which keeps what the GeoParquet
# reads freed; together ~60 MB less per worker at 50,000 sites (bench/memory.py).
WORKER_MEMORY_ENV = {"MALLOC_ARENA_MAX": "2", "ARROW_DEFAULT_MEMORY_POOL": "system"}


PACKAGES = ("api", "geo", "layers", "maps")


def compile_bytecode(root: Path = Path(__file__).resolve().parents[1]) -> None:
    """Write the project's missing or stale bytecode once, before the workers start: without it
    (an editable install, ``PYTHONDONTWRITEBYTECODE``) every worker compiled ~1.2 MB of source
    (0.2 s of CPU each). Up to date it costs a stat per module; a read-only tree is left alone."""
    import compileall

    for pkg in PACKAGES:
        compileall.compile_dir(root / pkg, quiet=2, workers=1)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the UI and API; build the demo first when no snapshot exists."""
    import uvicorn

    from api.protocol import NoDelayHTTP
    from api.settings import Settings

    settings = Settings(data=_data_dir(args))
    store = _store(args)
    from layers import jobs

    try:  # sweep leftovers of interrupted builds, unless a build is running right now
        with store.lock():
            store.sweep()
        jobs.sweep(store.root)
    except RuntimeError:
        pass
    except OSError as exc:  # a read-only data directory (e.g. a replica's mount): serve what is there
        if exc.errno not in READ_ONLY_ERRNOS:
            raise
        print(
            f"warning: {store.root} is read-only: serving its live snapshot; publishing, keys, "
            "sign-in, shared shortlists and the audit file need a writable data directory",
            file=sys.stderr,
        )
    if store.current_id() is None:
        from layers.build import build_demo_history, stderr_progress

        print(
            f"no snapshot in {store.root}: building the demo dataset first "
            f"({settings.demo_sites} synthetic sites, told a year ago and now)",
            file=sys.stderr,
        )
        from api.views import prepare

        build_demo_history(store, settings.demo_sites, settings.demo_seed, stderr_progress(), prepare=prepare)
    store.verify()  # a damaged live snapshot stops here with the file named, not at a request
    compile_bytecode()
    print(f"serving on http://{args.host}:{args.port}/  (API: /api, docs: /api/docs)", file=sys.stderr)
    from api import logsink

    logsink.install(sys.stderr, settings.log_queue_lines)  # a stalled sink drops lines, not requests
    if args.workers > 1:  # each worker builds the app from the environment (NRW_SITES_*)
        os.environ["NRW_SITES_DATA"] = str(settings.data)
        for name, value in WORKER_MEMORY_ENV.items():  # read at a worker's start; an operator's own wins
            os.environ.setdefault(name, value)
        uvicorn.run(
            "api.worker:create_app",  # api/worker.py: imports with the cyclic collector off
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            http=NoDelayHTTP,
            loop="uvloop",
            log_level="warning",
            log_config=None,  # uvicorn's own records go through the same non-blocking sink
            timeout_graceful_shutdown=settings.shutdown_grace_s,
            access_log=False,
        )
    else:  # api/traffic.py writes one JSON line per request instead of uvicorn's access log
        from api.main import create_app

        uvicorn.run(
            create_app(settings),
            host=args.host,
            port=args.port,
            http=NoDelayHTTP,
            loop="uvloop",
            log_level="warning",
            log_config=None,  # uvicorn's own records go through the same non-blocking sink
            timeout_graceful_shutdown=settings.shutdown_grace_s,
            access_log=False,
        )
    return 0


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser; for ``command`` alone where one is named: the filter options of
    ``score`` (geo/filters.py, which imports numpy) are left out for the other commands, so
    ``serve`` starts its workers without importing numpy first."""
    p = argparse.ArgumentParser(prog="nrw-sites", description="NRW Site Finder")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, fn: Any, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.add_argument("--data", help="data directory (default $NRW_SITES_DATA or ./data)")
        sp.set_defaults(fn=fn)
        return sp

    b = add("build", cmd_build, "ingest, check, compute and publish a snapshot")
    b.add_argument("--demo", action="store_true", help="generate the synthetic demo dataset")
    b.add_argument("--sites", type=int, default=2000, help="demo: number of sites (default 2000)")
    b.add_argument("--seed", type=int, default=42, help="demo: random seed (default 42)")
    b.add_argument("--sources", help="sources.toml naming the official files")
    b.add_argument(
        "--history",
        action="store_true",
        help="demo: publish two snapshots a year apart (taken-up and new sites, a plan change)",
    )
    b.add_argument(
        "--engine",
        choices=("inproc", "dask"),
        default="inproc",
        help="where the indicators are computed: this process (default) or a dask cluster (docs/scale.md)",
    )
    b.add_argument(
        "--scheduler", metavar="ADDR", help="dask: the scheduler, tcp://HOST:PORT (default: local)"
    )
    b.add_argument(
        "--workers", type=int, default=2, help="dask without --scheduler: local worker processes (default 2)"
    )

    s = add("serve", cmd_serve, "serve the web UI and the API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")

    sc = add("score", cmd_score, "rank stored sites, or the sites in a file")
    sc.add_argument("--profile", default="balanced")
    sc.add_argument("--weight", action="append", metavar="CRIT=W", help="override a weight")
    sc.add_argument(
        "--h2-year", type=int, dest="h2_year", help="hydrogen horizon year (default: the profile's)"
    )
    if command in (None, "score"):  # one option per filter of geo/filters.py, as the API's parameters
        from geo.filters import FILTERS  # numpy only: the command line still starts without pandas

        for f in FILTERS.values():
            sc.add_argument(
                f"--{f.name.replace('_', '-')}",
                dest=f.name,
                type=str if f.is_list or f.month else float,
                action="append" if f.is_list else "store",
                metavar="VALUES" if f.is_list else "YYYY-MM" if f.month else "NUMBER",
                help=f.description + (" Repeat or separate with commas." if f.is_list else ""),
            )
    sc.add_argument("--sites", help="GeoJSON (WGS84) or any OGR file with a CRS to score")
    sc.add_argument("--top", type=int, default=20)
    sc.add_argument("--format", choices=("table", "json", "geojson"), default="table")

    e = add(
        "export",
        cmd_export,
        "write the sites of municipalities, Kreise or NRW as "
        "GeoJSON, GeoPackage, CSV, Shapefile and HTML report maps",
    )
    g = e.add_mutually_exclusive_group()
    g.add_argument("--municipality", nargs="+", metavar="AGS")
    g.add_argument("--all", action="store_true", help="all 396 municipalities")
    e.add_argument("--kreis", nargs="+", metavar="KEY", help="Kreise (5-digit keys)")
    e.add_argument("--nrw", action="store_true", help="all of NRW (nrw.<format>)")
    e.add_argument(
        "--format",
        nargs="+",
        default=["geojson", "html"],
        choices=("geojson", "gpkg", "csv", "shp.zip", "html"),
        help="formats to write (default: geojson html; html: municipalities only)",
    )
    e.add_argument("--crs", help="CRS of GeoPackage, Shapefile and CSV (default EPSG:25832)")
    e.add_argument(
        "--lang",
        choices=("de", "en"),
        default="de",
        help="language of labels, CSV headers and the QGIS legend (default de)",
    )
    e.add_argument("--workers", type=int, help="processes writing files (default: CPUs, ≤ 4)")
    e.add_argument("--out", required=True)
    e.add_argument("--profile", default="balanced")
    e.add_argument(
        "--confidential",
        action="store_true",
        help="include non-public sites and the confidential fields (staff use only)",
    )

    add("layers", cmd_layers, "list the live snapshot's layers")
    add("snapshots", cmd_snapshots, "list snapshots (* = live)")
    df = add("diff", cmd_diff, "what changed between two snapshots (default: live vs. its predecessor)")
    df.add_argument("old", nargs="?", help="older snapshot id")
    df.add_argument("new", nargs="?", help="newer snapshot id (default: the live one)")
    df.add_argument("--ags", help="only this municipality (8-digit AGS)")
    df.add_argument("--kreis", help="only this Kreis (5-digit key)")
    df.add_argument("--json", action="store_true", help="the full diff as JSON")
    r = add("rollback", cmd_rollback, "make an older snapshot live")
    r.add_argument("snapshot")

    bk = add("backup", cmd_backup, "write a consistent archive of the data directory while it is in use")
    bk.add_argument("--out", required=True, help="the archive to write (a tar file)")
    rs = add("restore", cmd_restore, "restore an archive into an empty data directory")
    rs.add_argument("archive", help="an archive written by `nrw-sites backup`")

    au = add("audit", cmd_audit, "list who read confidential site fields, when and through which route")
    au.add_argument("--since", help="from this date or time on (ISO 8601, UTC unless given)")
    au.add_argument("--key", help="only the reads of this key (its name)")
    au.add_argument("--json", action="store_true", help="one JSON record per line")

    iq = add(
        "inquiries", cmd_inquiries, "re-run the saved investor inquiries on the live snapshot, or list them"
    )
    iq.add_argument("action", nargs="?", choices=("run", "list"), default="list")

    k = add("keys", cmd_keys, "create, list or revoke API keys (staff, admin)")
    k.set_defaults(action="list")
    ks = k.add_subparsers(dest="action")
    ka = ks.add_parser("add", help="create a key and print it once (last line of stdout)")
    ka.add_argument("--role", required=True, choices=("staff", "admin"))
    ka.add_argument("--name", required=True, help="a name for the key (letters, digits, _.-)")
    ka.add_argument("--data", default=argparse.SUPPRESS, help="data directory")
    kl = ks.add_parser("list", help="list the keys (names, roles, ids; never the keys)")
    kl.add_argument("--data", default=argparse.SUPPRESS, help="data directory")
    kr = ks.add_parser("revoke", help="remove a key by name")
    kr.add_argument("name")
    kr.add_argument("--data", default=argparse.SUPPRESS, help="data directory")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point: run a subcommand; domain errors print a clear message and exit non-zero."""
    words = sys.argv[1:] if argv is None else argv
    args = parser(next((w for w in words if not w.startswith("-")), None)).parse_args(argv)
    try:
        return int(args.fn(args))
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("the previous snapshot is still live.", file=sys.stderr)
        return 1
    except (DomainError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk, a read-only or missing directory: say so, no traceback
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        if args.fn is cmd_build:
            print("the previous snapshot is still live.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
