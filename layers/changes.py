"""Load two snapshots' sites from the store and diff them (issue 19 §2; geo/diff.py computes).

Used by ``nrw-sites diff`` and ``GET /api/changes``. Snapshots are ordered by their manifest's
``created`` time (then id); the default pair is the live snapshot and its predecessor. Only the
``sites`` layer of each snapshot is read; snapshots are immutable, so the last 16 diffs are cached.
Errors never repeat the caller's input.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.access import public_view
from geo.crs import transformer
from geo.diff import diff_sites, within
from geo.errors import InvalidParameter, NotFound
from layers.store import Store, read_vector

SNAPSHOT_ID = re.compile(r"^\d{8}T\d{6}Z(-\d{1,4})?$")
AGS8 = re.compile(r"^\d{8}$")
KREIS5 = re.compile(r"^\d{5}$")


def _order(store: Store) -> list[str]:
    """Snapshot ids, oldest first."""
    return [m["id"] for m in reversed(store.list())]


def resolve(store: Store, old: str | None, new: str | None) -> tuple[str, str]:
    """The pair to compare: unknown ids are NotFound, ``old`` later than ``new`` InvalidParameter.

    Without ``old``, the predecessor of ``new``; a first snapshot is compared with itself (an
    empty diff, with a note in ``changes``), so a fresh install answers 200, not 404.
    """
    order = _order(store)
    for sid in (old, new):
        if sid is not None and (not SNAPSHOT_ID.match(sid) or sid not in order):
            raise NotFound(
                "unknown snapshot; list them with GET /api/admin/snapshots or `nrw-sites snapshots`"
            )
    to = new or store.current_id()
    if to is None:
        raise NotFound("no snapshot published yet; run `nrw-sites build --demo`")
    if old is None:  # the predecessor; the first snapshot has none: compared with itself, no change
        pos = order.index(to) if to in order else 0
        old = order[pos - 1] if pos >= 1 else to
    if order.index(old) > order.index(to):
        raise InvalidParameter("'from' is later than 'to'; swap them")
    return old, to


def load_sites(store: Store, snapshot_id: str) -> gpd.GeoDataFrame:
    """Only the ``sites`` layer of a snapshot."""
    manifest = store.manifest(snapshot_id)
    meta = manifest["layers"]["sites"]
    return read_vector(store.snapshots / manifest["id"] / meta["file"])


def changes(
    store: Store,
    old: str | None = None,
    new: str | None = None,
    *,
    ags: str | None = None,
    kreis: str | None = None,
    public: bool = True,
) -> dict[str, Any]:
    """The diff document: from, to, scope, counts, added, removed, changed."""
    if ags is not None and kreis is not None:
        raise InvalidParameter("give either ags or kreis, not both")
    if ags is not None and not AGS8.match(ags):
        raise InvalidParameter("ags must be an 8-digit municipality key, e.g. 05112000")
    if kreis is not None and not KREIS5.match(kreis):
        raise InvalidParameter("kreis must be a 5-digit Kreis key, e.g. 05158")
    a, b = resolve(store, old, new)
    stamp = tuple(str(store.manifest(sid).get("files", {}).get("sites.parquet", {})) for sid in (a, b))
    doc = dict(_diff(str(store.root.resolve()), a, b, ags, kreis, public, stamp))
    doc["note"] = "the snapshot has no predecessor: nothing to compare" if a == b and old is None else None
    return doc


def locate(entries: list[dict[str, Any]], sites: pd.DataFrame) -> None:
    """Add ``lon``/``lat`` (WGS84, a point on the site's surface, 6 decimals) to each entry of a
    diff list, from ``sites`` (EPSG:25832) by ``site_id``: a removed site is no longer in the
    live tiles, so the web map draws it from here."""
    if not entries:
        return
    pos = dict(zip(sites["site_id"].astype(str), range(len(sites)), strict=True))
    rows = np.array([pos[str(e["site_id"])] for e in entries], dtype=np.int64)
    pts = shapely.point_on_surface(np.asarray(sites["geometry"].values)[rows])
    xy = shapely.get_coordinates(pts)
    lon, lat = transformer(25832, 4326).transform(xy[:, 0], xy[:, 1])
    for e, x, y in zip(entries, np.round(lon, 6).tolist(), np.round(lat, 6).tolist(), strict=True):
        e["lon"], e["lat"] = x, y


def published(store: Store) -> dict[str, Any]:
    """The public list of snapshots, newest first: id, created, data_date, synthetic, live
    (no paths, sources or code versions)."""
    current = store.current_id()
    return {
        "current": current,
        "snapshots": [
            {
                "id": m["id"],
                "created": m["created"],
                "data_date": m.get("data_date"),
                "synthetic": bool(m.get("synthetic")),
                "live": m["id"] == current,
            }
            for m in store.list()
        ],
    }


@functools.lru_cache(maxsize=16)
def _diff(
    root: str, a: str, b: str, ags: str | None, kreis: str | None, public: bool, stamp: tuple[str, ...]
) -> dict[str, Any]:
    """The diff of two (immutable) snapshots, cached: a repeated request costs nothing. ``stamp``
    (the sites files' checksums) keys the cache on content, not only on the ids."""
    store = Store(root)
    frames = []
    for sid in (a, b):
        df = load_sites(store, sid)
        if public:
            df = public_view(df)
        frames.append(within(df, ags, kreis))
    d = diff_sites(frames[0], frames[1])
    locate(d.removed, frames[0])
    locate(d.added, frames[1])
    synthetic = bool(store.manifest(a).get("synthetic")) or bool(store.manifest(b).get("synthetic"))
    return {
        "from": a,
        "to": b,
        "scope": {"ags": ags, "kreis": kreis, "view": "public" if public else "full"},
        "synthetic": synthetic,
        "counts": d.counts(),
        "added": d.added,
        "removed": d.removed,
        "changed": d.changed,
    }
