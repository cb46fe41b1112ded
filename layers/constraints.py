"""Land-constraint layers (issue 21 §4): Natura 2000 sites and designated floodplains.

Canonical layers (EPSG:25832, Polygon/MultiPolygon, valid):

- ``natura2000``: ``site_code`` (str, the EU site code, e.g. ``DE4405301``), ``name``,
  ``site_type`` ∈ {``A`` SPA (Vogelschutzgebiet), ``B`` SCI/SAC (FFH-Gebiet), ``C`` both},
  ``source`` (may be null).
- ``floodplains``: ``area_id`` (str), ``name`` (the water body or area, may be null), ``status``
  ∈ {``festgesetzt``, ``vorläufig gesichert``, ``ermittelt``} or null, ``source`` (may be null).

Formats (sources.toml ``format``):

- ``natura2000`` (natura2000): the EEA "Natura 2000 – Spatial data" shapefile (Europe, EPSG:3035)
  or BfN's German shapefile of the same schema: ``SITECODE``, ``SITENAME``, ``SITETYPE`` (any
  case; other columns ignored; a code in the national spelling ``DE-4405-301`` is read as
  ``DE4405301``). Only features whose bounding box meets NRW's extent + 10 km are
  read (the European file has ~27,000 sites). Refused: a file without a CRS, a missing column, a
  ``SITETYPE`` other than A/B/C, a malformed ``SITECODE``. Parts of one site in several features
  are dissolved into one; invalid polygons are repaired (``make_valid``, polygonal parts kept).
- ``mapped`` (both): any OGR file with a CRS plus the column and code mappings of
  ``layers.mapping``; ``source`` defaults to the file name. For floodplains this is the reader of
  the Überschwemmungsgebiete NRW shapefile (MUNV/LANUV, opengeodata.nrw.de): its attribute names
  could not be confirmed here (no copy or schema description was found), so they are mapped in
  sources.toml rather than guessed, e.g.::

      [floodplains]
      path = "uesg/festgesetzte_uesg.shp"
      format = "mapped"
      licence = "<as stated on the download page (not checked here)>"
      attribution = "Land NRW, Überschwemmungsgebiete NRW"
      [floodplains.columns]
      area_id = "<id column>"
      name = "<water body column>"
      [floodplains.defaults]             # one status for a file of one kind ...
      status = "festgesetzt"
      # ... or [floodplains.columns] status = "<column>" with [floodplains.values.status]

Registration: the module ends with ``register_layer``; ``layers/plugins.py`` imports it.

The demo generators (``layers/demo_constraints.py``) are SYNTHETIC.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.crs import NRW_BOUNDS, WORK_CRS, transformer
from layers import demo_constraints
from layers.errors import SourceError
from layers.io import NO_CRS_HINT, read_vector, require_file, to_work_crs
from layers.mapping import apply_mapping
from layers.osm import polygonal
from layers.schema import POLYGONAL, Schema, check
from layers.sources import Format, LayerSpec, register_layer

SITE_TYPES = ("A", "B", "C")
FLOOD_STATUS = ("festgesetzt", "vorläufig gesichert", "ermittelt")
SCHEMAS = {
    "natura2000": Schema(
        "site_code",
        ("site_code", "name", "site_type", "source"),
        POLYGONAL,
        codes={"site_type": SITE_TYPES},
        nullable=("source",),
    ),
    "floodplains": Schema(
        "area_id",
        ("area_id", "name", "status", "source"),
        POLYGONAL,
        codes={"status": FLOOD_STATUS},
        nullable=("name", "status", "source"),
    ),
}
NATURA_COLUMNS = ("SITECODE", "SITENAME", "SITETYPE")
SITECODE = re.compile(r"^[A-Z]{2}[0-9A-Z]{7}$")
MARGIN_M = 10_000.0  # read Natura 2000 features within NRW's extent + 10 km
EEA_LICENCE = "EEA standard re-use policy: re-use with acknowledgement of the source (https://www.eea.europa.eu/legal/copyright)"
EEA_ATTRIBUTION = "European Environment Agency (EEA), Natura 2000 – Spatial data; © BfN / Land NRW"
MAPPED = ("layer", "columns", "values", "defaults")


def read_natura2000(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """The EEA/BfN Natura 2000 shapefile (``SITECODE``, ``SITENAME``, ``SITETYPE``), NRW + 10 km."""
    layer = "natura2000"
    path = Path(path)
    require_file(layer, path)
    try:
        info = pyogrio.read_info(path, layer=cfg.get("layer"))
    except Exception as exc:  # pyogrio raises several types; the message is what matters
        raise SourceError(layer, path, f"cannot be read as a vector file: {str(exc)[:300]}") from exc
    if info.get("crs") is None:
        raise SourceError(layer, path, NO_CRS_HINT)
    fields = [str(f) for f in info["fields"]]
    by_upper = {f.upper(): f for f in fields}
    missing = [c for c in NATURA_COLUMNS if c not in by_upper]
    if missing:
        have = ", ".join(f[:30] for f in fields[:30]) + (" …" if len(fields) > 30 else "")
        raise SourceError(
            layer,
            path,
            f"missing Natura 2000 column(s) {', '.join(missing)} (EEA/BfN schema: SITECODE, "
            f"SITENAME, SITETYPE); the file has: {have or 'no attribute columns'}",
        )
    x0, y0, x1, y1 = NRW_BOUNDS
    xs, ys = transformer(WORK_CRS.to_epsg() or 25832, info["crs"]).transform(
        [x0 - MARGIN_M, x1 + MARGIN_M, x0 - MARGIN_M, x1 + MARGIN_M],
        [y0 - MARGIN_M, y0 - MARGIN_M, y1 + MARGIN_M, y1 + MARGIN_M],
    )
    try:
        src = pyogrio.read_dataframe(
            path,
            layer=cfg.get("layer"),
            columns=[by_upper[c] for c in NATURA_COLUMNS],
            bbox=(min(xs), min(ys), max(xs), max(ys)),
            fid_as_index=True,
        )
    except Exception as exc:
        raise SourceError(layer, path, f"cannot be read as a vector file: {str(exc)[:300]}") from exc
    src = to_work_crs(src.rename(columns={by_upper[c]: c for c in NATURA_COLUMNS}))
    labels = [f"feature {fid}" for fid in src.index]
    code = src["SITECODE"].map(_site_code)
    kind = src["SITETYPE"].map(lambda v: None if _text(v) is None else str(_text(v)).upper())
    problems = []
    bad_code = ~code.map(lambda v: v is not None and bool(SITECODE.match(v))).to_numpy(bool)
    if bad_code.any():
        problems.append(
            "SITECODE must be a 9-character EU site code such as DE4405301; found "
            f"{_examples(src['SITECODE'], bad_code)} in {_where(labels, bad_code)}"
        )
    bad_type = ~kind.isin(SITE_TYPES).to_numpy(bool)
    if bad_type.any():
        problems.append(
            "SITETYPE must be A (SPA, Vogelschutzgebiet), B (SCI, FFH-Gebiet) or C (both); found "
            f"{_examples(src['SITETYPE'], bad_type)} in {_where(labels, bad_type)}"
        )
    if problems:
        raise SourceError(layer, path, problems)
    out = gpd.GeoDataFrame(
        {
            "site_code": code.to_numpy(object),
            "name": src["SITENAME"].map(_text).to_numpy(object),
            "site_type": kind.to_numpy(object),
            "source": path.name,
        },
        geometry=polygonal(np.asarray(shapely.force_2d(src.geometry.values), dtype=object)),
        crs=WORK_CRS,
    )
    out = _dissolve_parts(out, "site_code")
    return check(layer, out[~shapely.is_empty(out.geometry.values)].reset_index(drop=True), path)


def read_mapped(layer: str, path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Any OGR file with a CRS plus column and code mappings (``layers.mapping``), repaired."""
    path = Path(path)
    src = read_vector(layer, path, cfg.get("layer"))
    fill = {"name": None, "status": None, "source": path.name}
    out = apply_mapping(layer, src, cfg, path, fill=fill)
    out.geometry = polygonal(np.asarray(shapely.force_2d(out.geometry.values), dtype=object))
    return check(layer, out[~shapely.is_empty(out.geometry.values)].reset_index(drop=True), path)


def _site_code(v: Any) -> str | None:
    """The EU site code; the national spelling with hyphens (``DE-4405-301``) is the same code."""
    text = _text(v)
    return None if text is None else re.sub(r"[\s-]", "", text).upper()


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    text = str(v).strip()
    return text or None


def _examples(values: pd.Series, mask: np.ndarray) -> str:
    seen = sorted({str(v)[:20] for v in values[mask]})
    return ", ".join(repr(s) for s in seen[:5]) + (" …" if len(seen) > 5 else "")


def _where(labels: list[str], mask: np.ndarray) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(labels[i] for i in idx[:10])
    return shown + (f" (+{len(idx) - 10} more)" if len(idx) > 10 else "")


def _dissolve_parts(gdf: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    """One feature per key: parts of a site in several features are united (first attributes)."""
    if not gdf[key].duplicated().any():
        return gdf
    groups = gdf.groupby(key, sort=False)
    geoms = [shapely.union_all(np.asarray(g.geometry.values, dtype=object)) for _, g in groups]
    first = groups.first().reset_index()
    out = gpd.GeoDataFrame(first.drop(columns="geometry"), geometry=geoms, crs=gdf.crs)
    out.geometry = polygonal(np.asarray(out.geometry.values, dtype=object))
    return out


def _mapped_format(layer: str) -> Format:
    return Format(
        partial(read_mapped, layer), "unknown", "set licence and attribution in sources.toml", MAPPED
    )


register_layer(
    LayerSpec(
        "natura2000",
        formats={
            "natura2000": Format(read_natura2000, EEA_LICENCE, EEA_ATTRIBUTION, ("layer",)),
            "mapped": _mapped_format("natura2000"),
        },
        schema=SCHEMAS["natura2000"],
        demo=demo_constraints.demo_natura2000,
        note=demo_constraints.NOTES["natura2000"],
    )
)
register_layer(
    LayerSpec(
        "floodplains",
        formats={"mapped": _mapped_format("floodplains")},
        schema=SCHEMAS["floodplains"],
        demo=demo_constraints.demo_floodplains,
        note=demo_constraints.NOTES["floodplains"],
    )
)
