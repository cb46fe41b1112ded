"""Two views of the live snapshot: what the public may see, and everything (staff, admin).

The public view is a snapshot whose site, regional-plan and brownfield layers hold only the
public rows and no confidential column (geo/access.py), with its own Service, OGC collections and
manifest counts. Every route reads the view of the caller's role, so items, ranking, scores,
counts, exports and the UI data of the public are computed from public data only, and a
non-public site is unknown there (404, the same answer as for an id that never existed).

The serialised part of every collection (feature bytes, WGS84 geometries, bounds) is written
once per snapshot into its serving cache and mapped by every worker (layers/servecache.py); a
read-only data directory serves the same bytes built in memory.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from api.geojson import ID_FIELDS, Collection, Serialised, build_collection, collection_columns, serialise
from api.service import Service
from geo.access import RESTRICTED_FIELDS, public_mask, public_view
from geo.criteria import DEFAULT_PROFILE
from geo.scoring import Scorer
from layers import servecache
from layers.servecache import ByteSeq, SeqWriter, WkbGeoms, open_array
from layers.store import Snapshot, Store, write_arrow_copies

log = logging.getLogger("nrw_sites.api")
PARTS = ("features", "features_25832", "props", "wgs84")
CHUNK = 5000  # features serialised at a time into the serving cache
COPIES = "layers"  # the serving cache's directory of the layers' Arrow copies


@dataclass(frozen=True)
class View:
    """One role's view: the Service and the pre-serialised OGC collections."""

    name: str
    service: Service
    collections: dict[str, Collection]


def public_snapshot(snap: Snapshot) -> Snapshot:
    """The snapshot as the public sees it (layers filtered; manifest counts of the public rows)."""
    layers = {}
    for name, gdf in snap.layers.items():
        if any(c in gdf.columns for c in RESTRICTED_FIELDS):
            gdf = public_view(gdf)
        layers[name] = gdf
    manifest = copy.deepcopy(snap.manifest)
    for name, gdf in layers.items():
        if name in manifest.get("layers", {}):
            manifest["layers"][name]["count"] = len(gdf)
    return Snapshot(snap.id, snap.path, manifest, layers, snap.coverage)


def _service(
    name: str, snap: Snapshot, scorer: Scorer | None = None
) -> tuple[Service, dict[str, pd.DataFrame]]:
    """A view's Service and the extra properties of its collections (sites: score and rank
    under the default profile)."""
    svc = Service(snap, scorer)
    svc.view = name
    r = svc.rank(DEFAULT_PROFILE, None)
    extra = {
        "sites": pd.DataFrame(
            {
                "score": [None if s != s else round(s, 3) for s in r.score.tolist()],
                "rank": pd.array([k or None for k in r.rank.tolist()], dtype="Int64"),
            }
        )
    }
    return svc, extra


def build_view(
    name: str,
    snap: Snapshot,
    cache: Path | None = None,
    made: tuple[Service, dict[str, pd.DataFrame]] | None = None,
) -> View:
    """A Service and the OGC collections; their serialised parts mapped from ``cache`` (the
    serving cache directory) if given, else made in memory; ``made``: the view's Service and
    extra properties, if already made."""
    svc, extra = made or _service(name, snap)
    colls = {}
    for cid in ID_FIELDS:
        if cid in snap.layers:
            parts = _open(cache / name / cid, len(snap.layers[cid])) if cache is not None else None
            colls[cid] = build_collection(cid, snap.layers[cid], extra.get(cid), parts)
    return View(name, svc, colls)


def _open(d: Path, n: int) -> Serialised | None:
    """A collection's serialised part, mapped; None (made in memory then) if it does not fit
    the layer (a damaged cache)."""
    try:
        seqs = {p: ByteSeq.open(d / p) for p in PARTS}
        bounds = open_array(d / "bounds.npy")
    except (OSError, ValueError) as exc:
        log.warning("serving cache %s unreadable (%s): serialising in memory", d, exc)
        return None
    if any(len(s) != n for s in seqs.values()) or bounds.shape != (n, 4):
        log.warning("serving cache %s does not fit its layer: serialising in memory", d)
        return None
    return Serialised(
        seqs["features"], seqs["features_25832"], seqs["props"], WkbGeoms(seqs["wgs84"]), bounds
    )


def _write_cache(tmp: Path, snaps: dict[str, Snapshot], extras: dict[str, dict[str, pd.DataFrame]]) -> None:
    """Serialise every collection of every view into the empty directory ``tmp``, ``CHUNK``
    features at a time (every feature's bytes are its own: the same bytes as all at once), so
    the worker writing it holds little more than it will map; and the layers' Arrow copies,
    which the next load maps (layers/store.py)."""
    full = snaps["full"]
    write_arrow_copies(full.path, full.manifest, tmp / COPIES)
    for name, snap in snaps.items():
        for cid in ID_FIELDS:
            if cid not in snap.layers:
                continue
            gdf, extra = snap.layers[cid], extras[name].get(cid)
            ids, _, _ = collection_columns(cid, gdf, extra)
            d = tmp / name / cid
            d.mkdir(parents=True)
            out = {p: SeqWriter(d / p) for p in PARTS}
            bounds = [np.zeros((0, 4))]
            for a in range(0, len(gdf), CHUNK):
                b = a + CHUNK
                s = serialise(gdf.iloc[a:b], None if extra is None else extra.iloc[a:b], ids[a:b])
                out["features"].extend(s.features)
                out["features_25832"].extend(s.features_work)
                out["props"].extend(s.props)
                out["wgs84"].extend(WkbGeoms.of(s.geoms).wkb)
                bounds.append(s.bounds)
            for w in out.values():
                w.close()
            np.save(d / "bounds.npy", np.ascontiguousarray(np.concatenate(bounds), dtype=np.float64))


def prepare(store: Store, snapshot_id: str) -> None:
    """Write a published snapshot's serving cache before it goes live (``nrw-sites build``):
    else the first worker to switch to it writes it (~14 s of CPU at 50,000 sites) while the
    others wait for it."""
    build_views(store.load(snapshot_id))


def load_snapshot(store: Store, snapshot_id: str) -> Snapshot:
    """A snapshot, its vector layers mapped from their Arrow copies in its serving cache when
    one was written (else read from its GeoParquet files)."""
    cache = servecache.existing(store.snapshots / snapshot_id)
    return store.load(snapshot_id, None if cache is None else cache / COPIES)


def build_views(snap: Snapshot, cached: bool = True) -> dict[str, View]:
    """The ``public`` and ``full`` views of a loaded snapshot (``cached``: through the serving
    cache where the data directory is writable)."""
    t = time.perf_counter()
    restricted = any(c in gdf.columns for gdf in snap.layers.values() for c in RESTRICTED_FIELDS)
    # a snapshot without confidential data is the same for everyone: one view serves both
    snaps = {"full": snap, **({"public": public_snapshot(snap)} if restricted else {})}
    made = {"full": _service("full", snap)}
    if "public" in snaps:  # the public scorer is the full one's public rows (texts, values)
        sites = snaps["public"].layers["sites"]
        rows = np.flatnonzero(public_mask(snap.layers["sites"]))
        made["public"] = _service("public", snaps["public"], made["full"][0].scorer.subset(sites, rows))
    extras = {name: m[1] for name, m in made.items()}
    cache = servecache.ensure(snap.path, lambda tmp: _write_cache(tmp, snaps, extras)) if cached else None
    built = {name: build_view(name, s, cache, made[name]) for name, s in snaps.items()}
    views = {"full": built["full"], "public": built.get("public", built["full"])}
    log.info(
        "snapshot %s: views built in %.1f s (public %s of %s sites; %s)",
        snap.id,
        time.perf_counter() - t,
        f"{len(views['public'].service.sites):,}",
        f"{len(views['full'].service.sites):,}",
        f"mapped from {cache}" if cache is not None else "in memory",
    )
    return views
