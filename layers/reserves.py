"""A snapshot's reserves (Flächenbilanz, issue 19 §3): read from the store, computed by
geo/reserves.py, cached per snapshot and view.

Only the columns the figures and the site lists need are read (no geometry), so a first answer
is cheap; take-up compares the snapshot with its predecessor (layers/changes.py ``resolve``:
ordered by ``created``) by ``site_id`` and then, for the unmatched sites only, by geometry
(geo/diff.py ``match``): a site gone without a re-keyed successor is taken up. Take-up counts
every site that left the inventory; the public view counts those of them that were public.
Snapshots are immutable, so the last 16 balances are cached (per snapshot and view, keyed by the
sites files' checksums too), and which sites are gone once per snapshot pair for both views; the
serialised answers are cached on the balance (``Reserves.cache``). The server passes its loaded
snapshot, so the live snapshot's sites and boundaries come from memory.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import shapely

from geo.access import public_mask, public_view
from geo.diff import match
from geo.reserves import MIN_YEARS, Reserves, compute
from layers.changes import resolve
from layers.provenance import layer_attribution
from layers.store import Snapshot, Store

SITE_COLUMNS = (
    "site_id",
    "name",
    "ags",
    "municipality",
    "kreis_ags",
    "kreis",
    "area_ha",
    "planning_category",
    "is_brownfield",
    "availability",
    "marketable",
    "public",
)
MUNICIPALITY_COLUMNS = ("ags", "name", "kreis_ags", "kreis_name")
YEAR_S = 365.25 * 86400


@dataclass(frozen=True)
class Balance:
    """The reserves of one snapshot in one view, with what the answers say about them."""

    snapshot: str
    created: str
    previous: str | None  # the predecessor take-up is measured against
    previous_created: str | None
    view: str  # public or full
    synthetic: bool
    note: str | None  # why take-up (or its rate) is null
    attribution: list[dict[str, Any]]
    reserves: Reserves
    sites: pd.DataFrame  # the sites behind the figures (SITE_COLUMNS there are), row for row
    removed: pd.DataFrame | None  # the predecessor's sites taken up, row for row

    @property
    def years(self) -> float | None:
        """Years between the predecessor and the snapshot (None without a predecessor)."""
        return self.reserves.years


def _path(store: Store, manifest: dict[str, Any], layer: str) -> Path:
    return Path(store.snapshots / manifest["id"] / manifest["layers"][layer]["file"])


def read_columns(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """The named columns a GeoParquet file has (no geometry)."""
    have = set(pq.read_schema(path).names)
    return pd.read_parquet(path, columns=[c for c in columns if c in have])


def geometries(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """A reader of the geometries at given rows (only those are decoded)."""

    def at(rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros(0, dtype=object)
        meta = pq.read_schema(path).metadata or {}
        name = json.loads(meta.get(b"geo", b"{}")).get("primary_column", "geometry")
        col = pq.read_table(path, columns=[name]).column(name).take(rows)
        return np.asarray(shapely.from_wkb(col.to_numpy(zero_copy_only=False)))

    return at


def _dated(manifest: dict[str, Any]) -> str:
    """When a snapshot's data stand: its ``data_date`` (the sources' date), else its creation."""
    day = manifest.get("data_date")
    return f"{day}T00:00:00+00:00" if day else str(manifest["created"])


def _years(a: str, b: str) -> float:
    """Years from ISO time ``a`` to ``b``."""
    return (dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds() / YEAR_S


class _LRU:
    """A small thread-safe least-recently-used cache (the keys name immutable snapshots)."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()  # outside the lock: another snapshot's request does not wait
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_BALANCES = _LRU(16)  # per snapshot and view
_TAKEUP = _LRU(8)  # per snapshot pair: the predecessor's sites and which are gone, for every view


def clear_cache() -> None:
    """Forget every cached balance (benchmarks measure the cold path with it)."""
    _BALANCES.clear()
    _TAKEUP.clear()


def balance(store: Store, snapshot: str | None, view: str, live: Snapshot | None = None) -> Balance:
    """The reserves of ``snapshot`` (None: the store's live one) as ``view`` (public, full) sees
    them; an unknown snapshot is NotFound (the id is not repeated). ``live``: the server's loaded
    snapshot (full view), whose sites and boundaries are then taken from memory, not read."""
    previous, sid = resolve(store, None, snapshot)
    stamp = tuple(
        str(store.manifest(s).get("files", {}).get("sites.parquet", {}).get("sha256"))
        for s in (sid, previous)
    )
    root = str(store.root.resolve())
    mine = live if live is not None and live.id == sid else None
    out: Balance = _BALANCES.get(
        (root, sid, previous, view, stamp), lambda: _balance(Store(root), sid, previous, view, stamp, mine)
    )
    return out


def _current(
    store: Store, manifest: dict[str, Any], live: Snapshot | None
) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """The snapshot's sites (every site, SITE_COLUMNS), its municipalities and its geometries."""
    if live is not None:
        sites, boundaries = live.layers["sites"], live.layers["municipalities"]
        return (
            pd.DataFrame(sites[[c for c in SITE_COLUMNS if c in sites.columns]]),
            pd.DataFrame(boundaries[[c for c in MUNICIPALITY_COLUMNS if c in boundaries.columns]]),
            sites.geometry.values,
        )
    path = _path(store, manifest, "sites")
    munis = read_columns(_path(store, manifest, "municipalities"), MUNICIPALITY_COLUMNS)
    return read_columns(path, SITE_COLUMNS), munis, geometries(path)


def _gone(store: Store, previous: str, full: pd.DataFrame, geoms: Any) -> tuple[pd.DataFrame, np.ndarray]:
    """The predecessor's sites and the positions of those gone (not re-keyed) since."""
    ppath = _path(store, store.manifest(previous), "sites")
    old = read_columns(ppath, SITE_COLUMNS)
    ids = (old["site_id"].to_numpy(object), full["site_id"].to_numpy(object))
    return old, match(*ids, geometries(ppath), geoms)[4]


def _balance(
    store: Store, sid: str, previous: str, view: str, stamp: tuple[str, ...], live: Snapshot | None
) -> Balance:
    manifest = store.manifest(sid)
    full, munis, geoms = _current(store, manifest, live)
    sites = public_view(full) if view == "public" else full.reset_index(drop=True)
    removed, years, note, prev_created = None, None, None, None
    if previous == sid:
        note = "the snapshot has no predecessor: take-up is null"
    else:
        key = (str(store.root.resolve()), sid, previous, stamp)
        old, gone = _TAKEUP.get(key, lambda: _gone(store, previous, full, geoms))
        if view == "public":
            gone = gone[public_mask(old)[gone]]
        removed = old.iloc[gone].drop(columns=["public"], errors="ignore").reset_index(drop=True)
        prev_manifest = store.manifest(previous)
        prev_created = str(prev_manifest["created"])
        years = _years(_dated(prev_manifest), _dated(manifest))
        if years < MIN_YEARS:
            note = "the snapshot is less than a day younger than its predecessor: no take-up rate"
    reserves = compute(sites, munis, removed, years)
    return Balance(
        snapshot=sid,
        created=str(manifest["created"]),
        previous=None if previous == sid else previous,
        previous_created=prev_created,
        view=view,
        synthetic=bool(manifest.get("synthetic")),
        note=note,
        attribution=layer_attribution(manifest),
        reserves=reserves,
        sites=sites,
        removed=removed,
    )
