"""What changed in an export's area since the snapshot's predecessor (issue 19 §2), for the
municipal and Kreis exports: a ``changes`` layer in the GeoPackage, a ``change`` column in the
CSV and a ``changes`` member in the GeoJSON.

The diff is ``layers/changes.py``'s (whole state, the export's view: public or full, cached);
the area's part holds the added, changed and re-keyed sites among the export's sites (with their
new geometry) and the removed sites whose municipality (``ags``, the old snapshot's) lies in the
area (with their old geometry). A snapshot without a predecessor has no changes: no layer, no
column, and the member says so.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from api.fields import Field
from api.formats import ExportLayer
from api.service import Service
from geo.areas import Area
from geo.crs import WORK_CRS
from layers.changes import changes, load_sites, resolve
from layers.store import Store

CHANGE_KINDS = ("added", "removed", "changed", "rekeyed")
FIELDS = (
    Field(
        "change",
        "str",
        "Änderung",
        "Change",
        "added, removed, changed oder rekeyed",
        "added, removed, changed or rekeyed",
    ),
    Field("site_id", "str", "Standort-ID", "Site id"),
    Field(
        "rekeyed_from",
        "str",
        "frühere ID",
        "Former id",
        "bei rekeyed: die ID im Vorgängerstand",
        "when rekeyed: the id in the predecessor",
    ),
    Field("name", "str", "Name", "Name"),
    Field("municipality", "str", "Gemeinde", "Municipality"),
    Field("ags", "str", "AGS", "AGS"),
    Field("area_ha", "float", "Fläche (ha)", "Area (ha)", decimals=2),
    Field("planning_category", "str", "Planungskategorie", "Planning category"),
    Field("availability", "str", "Verfügbarkeit", "Availability"),
    Field(
        "fields_changed",
        "str",
        "Geänderte Felder",
        "Fields changed",
        "Feld: alt → neu; …",
        "field: old → new; …",
    ),
    Field("score_from", "float", "Punktzahl vorher", "Score before", decimals=1),
    Field("score_to", "float", "Punktzahl jetzt", "Score now", decimals=1),
    Field("snapshot_from", "str", "Stand vorher", "Release before"),
    Field("snapshot_to", "str", "Stand jetzt", "Release now"),
)
CHANGE_COLUMN = Field(
    "change",
    "str",
    "Änderung seit Vorgängerstand",
    "Change since the previous release",
    "added, changed, rekeyed oder leer",
    "added, changed, rekeyed or empty",
)
TITLE = {"de": "Änderungen seit dem Vorgängerstand", "en": "Changes since the previous release"}


@dataclass(frozen=True)
class AreaChanges:
    """The area's part of the diff: a frame (EPSG:25832, FIELDS) and the GeoJSON member."""

    frame: gpd.GeoDataFrame | None
    member: dict[str, Any]


@functools.lru_cache(maxsize=4)
def _sites(root: str, snapshot: str) -> gpd.GeoDataFrame:
    """A snapshot's sites indexed by site_id (immutable: cached)."""
    return load_sites(Store(root), snapshot).set_index("site_id", drop=False)


def _fields_text(entry: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {v['from']} → {v['to']}" for k, v in entry.get("changes", {}).items())


def area_changes(svc: Service, area: Area, frame: gpd.GeoDataFrame, profile: str) -> AreaChanges:
    """The changes in ``area`` (the export's ``frame`` of sites) since the predecessor."""
    store = Store(Path(svc.snap.path).parent.parent)
    old, new = resolve(store, None, svc.snap.id)
    if old == new:
        note = "this snapshot has no predecessor: nothing to compare"
        return AreaChanges(None, {"from": None, "to": new, "note": note, "counts": None, "sites": []})
    doc = changes(store, old, new, public=svc.view == "public")
    ours = set(frame["site_id"].astype(str))
    muni = svc.snap.layers["municipalities"]
    area_ags = set(muni["ags"].astype(str).iloc[area.units])
    rows: list[dict[str, Any]] = []
    for e in doc["added"]:
        if e["site_id"] in ours:
            rows.append({**e, "change": "added", "score_to": e["score"].get(profile)})
    for e in doc["changed"]:
        if e["site_id"] in ours:
            s = e["score"].get(profile) or {}
            kind = "rekeyed" if e.get("rekeyed_from") else "changed"
            rows.append({**e, "change": kind, "score_from": s.get("from"), "score_to": s.get("to")})
    for e in doc["removed"]:
        if str(e.get("ags")) in area_ags:
            rows.append({**e, "change": "removed", "score_from": e["score"].get(profile)})
    counts = {k: sum(1 for r in rows if r["change"] == k) for k in CHANGE_KINDS}
    member = {
        "from": old,
        "to": new,
        "note": None,
        "counts": counts,
        "sites": [
            {k: r.get(k) for k in ("site_id", "change", "rekeyed_from", "name")}
            | {
                "fields_changed": _fields_text(r) or None,
                "score_from": r.get("score_from"),
                "score_to": r.get("score_to"),
            }
            for r in rows
        ],
    }
    root = str(store.root.resolve())
    before, after = _sites(root, old), _sites(root, new)
    geoms, table = [], []
    for r in rows:
        src = before if r["change"] == "removed" else after
        site = src.loc[r["site_id"]]
        geoms.append(site.geometry)
        table.append(
            {
                "change": r["change"],
                "site_id": r["site_id"],
                "rekeyed_from": r.get("rekeyed_from"),
                "name": r.get("name", site.get("name")),
                "municipality": r.get("municipality", site.get("municipality")),
                "ags": str(r.get("ags", site.get("ags"))),
                "area_ha": r.get("area_ha", site.get("area_ha")),
                "planning_category": r.get("planning_category", site.get("planning_category")),
                "availability": r.get("availability", site.get("availability")),
                "fields_changed": _fields_text(r) or None,
                "score_from": r.get("score_from"),
                "score_to": r.get("score_to"),
                "snapshot_from": old,
                "snapshot_to": new,
            }
        )
    cols = [f.name for f in FIELDS]
    out = gpd.GeoDataFrame(
        pd.DataFrame(table, columns=cols), geometry=np.array(geoms, dtype=object), crs=WORK_CRS
    )
    return AreaChanges(out, member)


def changes_layer(ch: AreaChanges, attrib: list[dict[str, Any]]) -> ExportLayer | None:
    """The GeoPackage layer ``changes`` (None without a predecessor)."""
    if ch.frame is None:
        return None
    return ExportLayer("changes", TITLE, ch.frame, list(FIELDS), {}, {}, attrib)


def with_change_column(sites: ExportLayer, ch: AreaChanges) -> ExportLayer:
    """The sites layer with a ``change`` column (added, changed, rekeyed or empty) for the CSV;
    unchanged without a predecessor."""
    if ch.frame is None:
        return sites
    kind = dict(zip(ch.frame["site_id"], ch.frame["change"], strict=True))
    col = [kind.get(s) if kind.get(s) != "removed" else None for s in sites.frame["site_id"].astype(str)]
    frame = sites.frame.assign(change=pd.Series(col, index=sites.frame.index, dtype=object))
    return replace(sites, frame=frame, fields=[*sites.fields, CHANGE_COLUMN])
