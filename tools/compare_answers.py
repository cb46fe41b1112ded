"""Record the API's answers to a fixed set of requests, and compare two recordings byte for byte.

Usage:
  python tools/compare_answers.py record --data DIR --out DIR   # with the code on PYTHONPATH
  python tools/compare_answers.py diff DIR_A DIR_B

``record`` runs the app in process (FastAPI's TestClient, lifespan included) over the live
snapshot of ``--data`` and writes each answer's body to ``--out`` (``index.json`` maps the
requests to files, with status and media type), as the public and as staff (a staff API key is
added to the data directory's key store). Members that carry the time of the request
(any ISO 8601 time within the recording, e.g. ``timeStamp``, ``generated``, an export's
generation time) are blanked; nothing else is touched. Exit status of ``diff``: 0
when every answer is identical, 1 otherwise (the differing requests are printed).

Used for issue 20 §1: the same answers from the serving cache (mapped) as from the in-memory path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import secrets
import sys
from pathlib import Path

ISO = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)")
SITES = "/api/collections/sites/items"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


def requests(ids: list[str], ags: str, kreis: str) -> list[str]:
    """The requests: items pages, items by id, ranking, scores, UI data, tiles, exports."""
    a, b, c = ids[0], ids[len(ids) // 2], ids[-1]
    return [
        f"{SITES}?limit=100",
        f"{SITES}?limit=1000&offset=20000",
        f"{SITES}?limit=500&bbox=7.0,51.2,7.6,51.6",
        f"{SITES}?limit=200&bbox=6.5,50.8,6.9,51.0&kind=brownfield",
        f"{SITES}?limit=200&ags={ags}",
        f"{SITES}?limit=100&crs={EPSG}25832",
        f"{SITES}?limit=100&crs={EPSG}3035",
        f"{SITES}?limit=50&crs={EPSG}4326&bbox=7.0,51.2,7.3,51.4",
        f"{SITES}?limit=100&bbox=350000,5650000,400000,5700000&bbox-crs={EPSG}25832",
        "/api/collections/brownfields/items?limit=500&offset=1000",
        "/api/collections/regional_plan/items?limit=500",
        "/api/collections/municipalities/items?limit=400",
        "/api/collections/rail_stations/items?limit=1000",
        *(f"{SITES}/{i}" for i in (a, b, c)),
        f"{SITES}/{b}?crs={EPSG}25832",
        f"/api/collections/municipalities/items/{ags}",
        "/api/collections",
        "/api/collections/sites",
        "/api/collections/sites/queryables",
        "/api/ranking?limit=50",
        "/api/ranking?limit=50&offset=100&profile=logistics",
        "/api/ranking?limit=20&profile=digital&w_fibre=3",
        "/api/ranking?limit=20&stability=50",
        f"/api/sites/{a}/score",
        f"/api/sites/{b}/score?profile=logistics",
        "/api/sites/table",
        "/api/sites/values",
        "/api/tiles",
        "/api/profiles",
        f"/api/exports/municipalities/{ags}.csv",
        f"/api/exports/municipalities/{ags}.geojson",
        f"/api/exports/kreise/{kreis}.csv",
        f"/api/exports/sites.geojson?ids={a},{b},{c}",
        f"/api/exports/sites.csv?ids={a},{b},{c}",
    ]


def _blank(m: re.Match[bytes], t0: dt.datetime) -> bytes:
    """An ISO time during the recording (the time of a request) as ``"-"``; others unchanged."""
    t = dt.datetime.fromisoformat(m[0].decode().replace("Z", "+00:00"))
    return b"-" if t0 <= t <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2) else m[0]


def record(data: Path, out: Path) -> int:
    """Record the answers of the app over ``data`` into ``out``."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import Settings
    from layers.keys import KeyStore

    token = KeyStore(data).add(f"compare-{secrets.token_hex(4)}", "staff")
    out.mkdir(parents=True, exist_ok=True)
    index = {}
    t0 = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    with TestClient(create_app(Settings(data=data))) as client:
        feats = client.get(f"{SITES}?limit=10000").json()["features"]
        ids = [f["id"] for f in feats]
        ags = feats[0]["properties"]["ags"]
        kreis = ags[:5]
        for role, headers in (("public", {}), ("staff", {"Authorization": f"Bearer {token}"})):
            for n, url in enumerate(requests(ids, ags, kreis)):
                r = client.get(url, headers=headers)
                name = f"{role}-{n:03d}"
                (out / name).write_bytes(ISO.sub(lambda m: _blank(m, t0), r.content))
                index[name] = {
                    "url": url,
                    "role": role,
                    "status": r.status_code,
                    "type": r.headers.get("content-type"),
                }
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    bad = [v["url"] for v in index.values() if v["status"] != 200]
    print(f"recorded {len(index)} answers in {out}" + (f"; not 200: {bad}" if bad else ""))
    return 0


def diff(a: Path, b: Path) -> int:
    """Compare two recordings; 0 when identical, 1 (with the differing requests) otherwise."""
    ia = json.loads((a / "index.json").read_text(encoding="utf-8"))
    ib = json.loads((b / "index.json").read_text(encoding="utf-8"))
    differ = []
    for name, meta in ia.items():
        if ib.get(name) != meta or (a / name).read_bytes() != (b / name).read_bytes():
            differ.append(f"{meta['role']} {meta['url']}")
    total = sum((a / n).stat().st_size for n in ia)
    if differ or ia.keys() != ib.keys():
        print(f"{len(differ)} of {len(ia)} answers differ:", *differ, sep="\n  ")
        return 1
    print(f"all {len(ia)} answers identical ({total:,} bytes)")
    return 0


def main() -> int:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--data", required=True)
    r.add_argument("--out", required=True)
    d = sub.add_parser("diff")
    d.add_argument("a")
    d.add_argument("b")
    args = ap.parse_args()
    if args.cmd == "record":
        return record(Path(args.data), Path(args.out))
    return diff(Path(args.a), Path(args.b))


if __name__ == "__main__":
    sys.exit(main())
