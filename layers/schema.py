"""Canonical layer schemas (DESIGN §3.2) and the one check per layer that collects every problem."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.availability import AVAILABILITY, LEGACY, RESTRICTIONS
from geo.crs import WORK_CRS
from geo.filters import CONTAMINATION
from layers.errors import SourceError, rows_text

AGS8 = re.compile(r"^\d{8}$")
AGS5 = re.compile(r"^\d{5}$")

PLAN_CATEGORIES = ("GIB", "GIB_Z", "LARGE_PROJECT", "ASB_GE")
AVAILABILITY_CODES = (*AVAILABILITY, *LEGACY)  # the legacy codes are read (geo/availability.py)
H2_KINDS = ("conversion", "new_build")
GEOMETRY_QUALITY = ("surveyed", "schematic")
OWNER_WILLING = ("yes", "no", "unknown")  # confidential (geo/access.py), issue 19

POLYGONAL = ("Polygon", "MultiPolygon")
NUMERIC = frozenset(
    {"area_ha_reported", "commissioning_year", "dn_mm", "pressure_bar", "asking_price_eur_m2"}
)
# Optional confidential fields of candidate areas (geo/access.py): field -> type. Never shown to
# the public; ``public = false`` keeps the whole site from the public.
CONFIDENTIAL = {
    "owner_contact": "string",
    "asking_price_eur_m2": "number",
    "notes": "string",
    "owner_willing": "string",
    "public": "boolean",
}
# Optional land-monitoring fields of candidate areas (issue 19 §1, geo/availability.py).
LAND = {"availability": "string", "available_from": "date", "restrictions": "list"}
OPTIONAL_DEFAULTS = {
    "owner_contact": None,
    "asking_price_eur_m2": None,
    "notes": None,
    "owner_willing": "unknown",
    "public": True,
    "availability": "unknown",
    "available_from": None,
    "restrictions": None,
}
TRUE_WORDS = frozenset({"true", "1", "yes", "ja", "j", "y", "wahr"})
FALSE_WORDS = frozenset({"false", "0", "no", "nein", "n", "falsch"})


@dataclass(frozen=True)
class Schema:
    """Columns of a canonical layer: id column, required columns, code lists, key patterns."""

    id_column: str | None
    columns: tuple[str, ...]
    geometry_types: tuple[str, ...]
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    keys: dict[str, re.Pattern[str]] = field(default_factory=dict)
    nullable: tuple[str, ...] = ()
    optional: dict[str, str] = field(default_factory=dict)  # field -> string|number|boolean|date|list


SCHEMAS: dict[str, Schema] = {
    "municipalities": Schema(
        "ags",
        ("ags", "name", "kreis_ags", "kreis_name"),
        POLYGONAL,
        keys={"ags": AGS8, "kreis_ags": AGS5},
    ),
    "regional_plan": Schema(
        "area_id",
        ("area_id", "category", "plan", "name"),
        POLYGONAL,
        codes={
            "category": PLAN_CATEGORIES,
            "owner_willing": OWNER_WILLING,
            "availability": AVAILABILITY_CODES,
        },
        nullable=("name", "plan", "owner_willing"),
        optional={**CONFIDENTIAL, **LAND},
    ),
    "brownfields": Schema(
        "area_id",
        ("area_id", "name", "ags", "former_use", "contamination", "availability"),
        POLYGONAL,
        codes={
            "contamination": CONTAMINATION,
            "availability": AVAILABILITY_CODES,
            "owner_willing": OWNER_WILLING,
        },
        keys={"ags": AGS8},
        nullable=("name", "ags", "former_use", "owner_willing"),
        optional={**CONFIDENTIAL, "available_from": "date", "restrictions": "list"},
    ),
    "lep_sites": Schema(
        "area_id",
        ("area_id", "name", "municipalities", "area_ha_reported", "accuracy"),
        POLYGONAL + ("Point",),
        nullable=("area_ha_reported", "accuracy", "municipalities"),
    ),
    "hydrogen": Schema(
        "segment_id",
        (
            "segment_id",
            "name",
            "kind",
            "commissioning_year",
            "dn_mm",
            "pressure_bar",
            "operator",
            "geometry_quality",
        ),
        ("LineString", "MultiLineString"),
        codes={"kind": H2_KINDS, "geometry_quality": GEOMETRY_QUALITY},
        nullable=("name", "dn_mm", "pressure_bar", "operator"),
    ),
}


def check(
    layer: str, gdf: gpd.GeoDataFrame, path: str | Path | None = None, row_labels: list[str] | None = None
) -> gpd.GeoDataFrame:
    """Check a canonical layer; raise one SourceError listing every problem with its rows.

    ``row_labels`` optionally names each row as the source knows it (e.g. "line 12").
    Returns the frame unchanged when it passes.
    """
    schema = SCHEMAS[layer]
    problems = [
        *_frame_problems(schema, gdf),
        *_geometry_problems(schema, gdf, row_labels),
        *_id_problems(schema, gdf, row_labels),
        *_code_problems(schema, gdf, row_labels),
        *_key_problems(schema, gdf, row_labels),
        *_optional_problems(schema, gdf, row_labels),
    ]
    if problems:
        raise SourceError(layer, path, problems)
    return gdf


def _where(mask: np.ndarray, row_labels: list[str] | None) -> str:
    """The rows where ``mask`` is true: the source's labels (the first 10) or row numbers."""
    idx = np.flatnonzero(mask).tolist()
    if row_labels is not None:
        return ", ".join(row_labels[i] for i in idx[:10]) + (
            f" (+{len(idx) - 10} more)" if len(idx) > 10 else ""
        )
    return "rows " + rows_text(idx)


def _frame_problems(schema: Schema, gdf: gpd.GeoDataFrame) -> list[str]:
    """Missing required columns and a CRS other than the working CRS."""
    problems: list[str] = []
    missing = [c for c in schema.columns if c not in gdf.columns]
    if missing:
        problems.append(f"missing columns: {', '.join(missing)}")
    if gdf.crs is None or not gdf.crs.equals(WORK_CRS):
        problems.append(f"CRS is {gdf.crs}, expected EPSG:25832 (reproject with .to_crs(25832))")
    return problems


_GEOMETRY_NAMES = np.array(
    [
        "Point",
        "LineString",
        "LinearRing",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "GeometryCollection",
    ]
)  # by shapely's geometry type id


def _geometry_problems(schema: Schema, gdf: gpd.GeoDataFrame, row_labels: list[str] | None) -> list[str]:
    """Empty or missing geometries, geometries of the wrong type, invalid ones (the first 10)."""
    problems: list[str] = []
    geoms = gdf.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        problems.append(f"empty or missing geometry in {_where(empty, row_labels)}")
    types = np.asarray(shapely.get_type_id(geoms))
    bad_type = ~empty & ~np.isin(_GEOMETRY_NAMES[np.clip(types, 0, 7)], schema.geometry_types)
    if bad_type.any():
        problems.append(
            f"geometry type must be {' or '.join(schema.geometry_types)} in {_where(bad_type, row_labels)}"
        )
    invalid = ~empty & ~bad_type & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid)[:10]:
        label = row_labels[i] if row_labels is not None else f"row {i + 1}"
        problems.append(f"invalid geometry in {label}: {shapely.is_valid_reason(geoms[i])}")
    if invalid.sum() > 10:
        problems.append(f"... {int(invalid.sum()) - 10} more invalid geometries")
    return problems


def _id_problems(schema: Schema, gdf: gpd.GeoDataFrame, row_labels: list[str] | None) -> list[str]:
    """Empty and duplicate values of the id column."""
    if schema.id_column not in gdf.columns:
        return []
    problems: list[str] = []
    ids = gdf[schema.id_column]
    null_id = ids.isna().to_numpy()
    if null_id.any():
        problems.append(f"{schema.id_column} is empty in {_where(null_id, row_labels)}")
    dup = ids.duplicated(keep=False).to_numpy() & ~null_id
    if dup.any():
        dups = sorted({str(v) for v in ids[dup]})[:5]
        problems.append(f"duplicate {schema.id_column} {', '.join(dups)} in {_where(dup, row_labels)}")
    return problems


def _code_problems(schema: Schema, gdf: gpd.GeoDataFrame, row_labels: list[str] | None) -> list[str]:
    """Values outside a column's code list (and empty ones, unless the column is nullable)."""
    problems: list[str] = []
    for col, allowed in schema.codes.items():
        if col not in gdf.columns:
            continue
        values = gdf[col]
        bad = (~values.isin(allowed) & values.notna()).to_numpy().copy()
        if col not in schema.nullable:
            bad |= values.isna().to_numpy()
        if bad.any():
            seen = sorted({str(v) for v in values[bad]})[:5]
            problems.append(
                f"{col} must be one of {', '.join(allowed)}; found {', '.join(seen)} "
                f"in {_where(bad, row_labels)}"
            )
    return problems


def _key_problems(schema: Schema, gdf: gpd.GeoDataFrame, row_labels: list[str] | None) -> list[str]:
    """Keys (AGS) that are not strings of the pattern's digits (empty ones, unless nullable)."""
    problems: list[str] = []
    for col, pattern in schema.keys.items():
        if col not in gdf.columns:
            continue
        values = gdf[col]
        bad = np.array([not (isinstance(v, str) and pattern.match(v)) for v in values])
        if col in schema.nullable:
            bad &= values.notna().to_numpy()
        if bad.any():
            seen = sorted({str(v) for v in values[bad]})[:3]
            problems.append(
                f"{col} must be a string of {_digits(pattern)} "
                f"digits with leading zero (e.g. '05562008'); found {', '.join(seen)} "
                f"in {_where(bad, row_labels)}"
            )
    return problems


def _optional_problems(schema: Schema, gdf: gpd.GeoDataFrame, row_labels: list[str] | None) -> list[str]:
    """Optional (confidential) fields present with the wrong type: booleans, numbers ≥ 0."""
    problems: list[str] = []
    for col, kind in schema.optional.items():
        if col not in gdf.columns:
            continue
        values = gdf[col]
        if kind == "boolean":
            bad = ~values.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(bool)
            if bad.any():
                problems.append(f"{col} must be true or false (not empty) in {_where(bad, row_labels)}")
        elif kind == "date":
            bad = ~values.map(lambda v: _missing(v) or (isinstance(v, str) and _iso_date(v))).to_numpy(bool)
            if bad.any():
                problems.append(
                    f"{col} must be an ISO date (YYYY-MM-DD) or empty in {_where(bad, row_labels)}"
                )
        elif kind == "list":
            bad = ~values.map(
                lambda v: (
                    _missing(v)
                    or (isinstance(v, str) and set(filter(None, v.split(";"))) <= set(RESTRICTIONS))
                )
            ).to_numpy(bool)
            if bad.any():
                problems.append(
                    f"{col} must list codes of {', '.join(RESTRICTIONS)} joined with ';' "
                    f"in {_where(bad, row_labels)}"
                )
        elif kind == "number":
            num = values.map(
                lambda v: (
                    v
                    if isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
                    else (np.nan if v is None else "x")
                )
            )
            bad = ~num.map(lambda v: v != "x" and (v != v or (np.isfinite(v) and v >= 0))).to_numpy(bool)
            if bad.any():
                problems.append(f"{col} must be a number ≥ 0 or empty in {_where(bad, row_labels)}")
    return problems


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _digits(pattern: re.Pattern[str]) -> int:
    m = re.search(r"\{(\d+)\}", pattern.pattern)
    if m is None:
        raise ValueError(f"pattern {pattern.pattern!r} has no {{n}} repetition")
    return int(m.group(1))
