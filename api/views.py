"""Two views of the live snapshot: what the public may see, and everything (staff, admin).

The public view is a snapshot whose site, regional-plan and brownfield layers hold only the
public rows and no confidential column (geo/access.py), with its own Service, OGC collections and
manifest counts. Every route reads the view of the caller's role, so items, ranking, scores,
counts, exports and the UI data of the public are computed from public data only, and a
non-public site is unknown there (404, the same answer as for an id that never existed).
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass

import pandas as pd

from api.geojson import ID_FIELDS, Collection, build_collection
from api.service import Service
from geo.access import RESTRICTED_FIELDS, public_view
from geo.criteria import DEFAULT_PROFILE
from layers.store import Snapshot

log = logging.getLogger("nrw_sites.api")


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


def build_view(name: str, snap: Snapshot) -> View:
    """A Service and the OGC collections (sites with score and rank under the default profile)."""
    svc = Service(snap)
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
    colls = {
        cid: build_collection(cid, snap.layers[cid], extra.get(cid))
        for cid in ID_FIELDS
        if cid in snap.layers
    }
    return View(name, svc, colls)


def build_views(snap: Snapshot) -> dict[str, View]:
    """The ``public`` and ``full`` views of a loaded snapshot."""
    t = time.perf_counter()
    full = build_view("full", snap)
    restricted = any(c in gdf.columns for gdf in snap.layers.values() for c in RESTRICTED_FIELDS)
    # a snapshot without confidential data is the same for everyone: one view serves both
    public = build_view("public", public_snapshot(snap)) if restricted else full
    views = {"full": full, "public": public}
    log.info(
        "snapshot %s: views built in %.1f s (public %s of %s sites)",
        snap.id,
        time.perf_counter() - t,
        f"{len(views['public'].service.sites):,}",
        f"{len(views['full'].service.sites):,}",
    )
    return views
