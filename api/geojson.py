"""GeoJSON at the edge (RFC 7946): pre-serialised features out, client polygons in.

Out: geometries are transformed EPSG:25832 → WGS84 once, rounded to 7 decimals (≈1 cm), and
polygons oriented with counter-clockwise exterior rings; each feature is serialised to bytes once
per snapshot, so a page of items is a join of bytes.

In: a POSTed Feature, Polygon or MultiPolygon is checked before any heavy work — JSON, type,
vertex count, finite numbers, closed rings, inside North Rhine-Westphalia, valid rings (never
repaired) — and each failure raises a domain error with a message that names the fix.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd
import shapely

from geo.crs import CRS84_OUT, NRW_BOUNDS_WGS84, WORK_OUT, OutputCrs, project_xy, transformer
from geo.errors import InvalidGeometry, InvalidParameter, TooLarge

if TYPE_CHECKING:
    from geopandas.array import GeometryArray

DECIMALS = 7
GEOMETRY_TYPES = {
    0: "Point",
    1: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
}
# The feature id of each collection (all collections are snapshot layers of the same name).
ID_FIELDS = {
    "sites": "site_id",
    "municipalities": "ags",
    "regional_plan": "area_id",
    "brownfields": "area_id",
    "lep_sites": "area_id",
    "hydrogen": "segment_id",
    "motorway_junctions": "junction_id",
    "rail_stations": "eva_nr",
    "ports": "port_id",
    "rail_freight": "terminal_id",
    "airports": "airport_id",
}


# -- out -----------------------------------------------------------------------------------
def to_wgs84(geoms: np.ndarray | GeometryArray) -> np.ndarray:
    """EPSG:25832 geometries → WGS84 lon/lat, 7 decimals, CCW exterior rings (RFC 7946)."""
    tr = transformer(25832, 4326)
    scale = 10.0**DECIMALS

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        # rint(v·10⁷)/10⁷ is the double nearest to a 7-decimal number: prints with ≤ 7 decimals
        return np.rint(np.column_stack([x, y]) * scale) / scale

    out = shapely.transform(np.asarray(geoms, dtype=object), project)
    return shapely.orient_polygons(out, exterior_cw=False)


def _nest(coords: np.ndarray, offsets: tuple[np.ndarray, ...]) -> list[bytes]:
    """Coordinates JSON per geometry from shapely's ragged arrays (shortest float repr)."""
    if not offsets:  # points
        return [orjson.dumps(c, option=orjson.OPT_SERIALIZE_NUMPY) for c in coords]
    o = offsets[0].tolist()
    level = [
        orjson.dumps(coords[a:b], option=orjson.OPT_SERIALIZE_NUMPY)
        for a, b in zip(o[:-1], o[1:], strict=True)
    ]
    for off in offsets[1:]:
        o = off.tolist()
        level = [b"[" + b",".join(level[a:b]) + b"]" for a, b in zip(o[:-1], o[1:], strict=True)]
    return level


def geometry_json(geoms: np.ndarray) -> list[bytes]:
    """GeoJSON geometry bytes per geometry (``null`` for missing ones).

    Written from shapely's ragged coordinate arrays with orjson (shortest round-trip floats), as
    GEOS's own GeoJSON writer prints some doubles with 17 significant digits.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = [b"null"] * len(geoms)
    type_ids = shapely.get_type_id(geoms)
    for tid in np.unique(type_ids).tolist():
        rows = np.flatnonzero(type_ids == tid)
        if tid < 0:
            continue
        if tid not in GEOMETRY_TYPES:  # GeometryCollection: GEOS writes it
            texts = [t.encode() for t in shapely.to_geojson(geoms[rows]).tolist()]
        else:
            _, coords, offsets = shapely.to_ragged_array(geoms[rows])
            head = b'{"type":"' + GEOMETRY_TYPES[tid].encode() + b'","coordinates":'
            texts = [head + c + b"}" for c in _nest(coords, offsets)]
        for i, t in zip(rows.tolist(), texts, strict=True):
            out[i] = t
    return out


def properties_json(df: pd.DataFrame) -> list[bytes]:
    """One JSON object per row (NaN → null, floats to 6 decimals), fast for 100,000 rows."""
    if df.empty:
        return [b"{}"] * len(df)
    text = df.to_json(orient="records", lines=True, force_ascii=False, double_precision=6, date_format="iso")
    # pandas escapes every "/" as "\/": valid JSON, but unusual; undo it.
    return text.replace("\\/", "/").encode().splitlines()


def features_bytes(ids: list[str], geoms: list[bytes], props: Sequence[bytes]) -> list[bytes]:
    """Serialise ``{"type":"Feature","id":..,"geometry":..,"properties":..}`` per row."""
    return [
        b'{"type":"Feature","id":' + orjson.dumps(i) + b',"geometry":' + g + b',"properties":' + p + b"}"
        for i, g, p in zip(ids, geoms, props, strict=True)
    ]


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes (UTF-8; numpy scalars and arrays allowed)."""
    return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY)


@dataclass
class Collection:
    """One OGC collection, pre-serialised: feature bytes, WGS84 bounds and filterable columns."""

    id: str
    ids: np.ndarray
    features: Sequence[bytes]
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy in WGS84
    geoms: Any  # WGS84 shapely geometries (exact bbox test): an array, or WKB decoded on use
    columns: Mapping[str, np.ndarray]
    types: dict[str, str]  # property -> "string" | "number" | "integer" | "boolean"
    index: dict[str, int] = field(default_factory=dict)
    work_geoms: np.ndarray | None = None  # EPSG:25832 (the storage CRS)
    props: Sequence[bytes] | None = None  # properties JSON per feature
    by_crs: dict[str, Sequence[bytes]] = field(default_factory=dict)  # feature bytes per CRS URI
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _work_bounds: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.index = {fid: i for i, fid in enumerate(self.ids.tolist())}

    def features_in(self, crs: OutputCrs) -> Sequence[bytes]:
        """The feature bytes in ``crs`` (OGC API – Features Part 2): CRS84 is the RFC 7946
        set; EPSG:25832 is built at start-up, the others on first use, each once.
        """
        if crs.uri == CRS84_OUT.uri:
            return self.features
        if crs.uri not in self.by_crs:
            with self._lock:
                if crs.uri not in self.by_crs:
                    self.by_crs[crs.uri] = self._serialise(crs)
        return self.by_crs[crs.uri]

    def _serialise(self, crs: OutputCrs) -> list[bytes]:
        if self.work_geoms is None or self.props is None:
            raise InvalidParameter("this collection is only available in CRS84")
        if crs.epsg == 4326:  # the RFC 7946 coordinates, latitude first
            geoms = shapely.transform(np.asarray(self.geoms[:]), lambda xy: xy[:, ::-1].copy())
        else:

            def project(xy: np.ndarray) -> np.ndarray:
                out = project_xy(xy, crs)
                return out[:, ::-1].copy() if crs.swap_axes else out

            geoms = shapely.transform(self.work_geoms, project)
        return features_bytes(self.ids.tolist(), geometry_json(geoms), self.props)

    @property
    def work_bounds(self) -> np.ndarray:
        """EPSG:25832 bounds of every feature."""
        if self._work_bounds is None:
            g = self.work_geoms if self.work_geoms is not None else np.zeros(0, dtype=object)
            self._work_bounds = shapely.bounds(g) if len(g) else np.zeros((0, 4))
        return self._work_bounds

    @property
    def extent(self) -> list[float]:
        """The WGS84 bounding box of all features."""
        if not len(self.bounds):
            return list(NRW_BOUNDS_WGS84)
        b = self.bounds
        return [
            round(float(x), DECIMALS)
            for x in (np.nanmin(b[:, 0]), np.nanmin(b[:, 1]), np.nanmax(b[:, 2]), np.nanmax(b[:, 3]))
        ]

    def select(
        self,
        bbox: tuple[float, float, float, float] | None,
        props: dict[str, list[str]],
        area: shapely.Geometry | None = None,
    ) -> np.ndarray:
        """Row positions of features intersecting ``bbox`` (WGS84) or ``area`` (a polygon in
        EPSG:25832: a bbox given in another CRS) and matching every property filter (a
        property given several times matches any of its values).
        """
        if area is not None:
            rows = self.select(None, props)
            b = self.work_bounds[rows]
            x0, y0, x1, y1 = shapely.bounds(area)
            rows = rows[(b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)]
            shapely.prepare(area)
            assert self.work_geoms is not None
            return rows[shapely.intersects(area, self.work_geoms[rows])]
        if bbox is not None and bbox[0] > bbox[2]:  # crossing the antimeridian: two boxes
            x0, y0, x1, y1 = bbox
            return np.union1d(
                self.select((x0, y0, 180.0, y1), props), self.select((-180.0, y0, x1, y1), props)
            )
        if bbox is None and not props:  # every feature (a client paging through all)
            every: np.ndarray = np.arange(len(self.ids))
            return every
        keep = np.ones(len(self.ids), dtype=bool)
        for name, values in props.items():
            keep &= np.logical_or.reduce([self._equals(name, raw) for raw in values])
        if bbox is not None:
            b = self.bounds
            x0, y0, x1, y1 = bbox
            near = keep & (b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)
            inside = (b[:, 0] >= x0) & (b[:, 2] <= x1) & (b[:, 1] >= y0) & (b[:, 3] <= y1)
            edge = np.flatnonzero(near & ~inside)  # only these need the exact test
            box = shapely.box(x0, y0, x1, y1)
            shapely.prepare(box)
            keep = near & inside
            keep[edge[shapely.intersects(box, self.geoms[edge])]] = True
        return np.flatnonzero(keep)

    def _equals(self, name: str, raw: str) -> np.ndarray:
        col, kind = self.columns[name], self.types[name]
        if kind == "string":
            return col == raw
        if kind == "boolean":
            if raw.lower() not in ("true", "false", "1", "0"):
                raise InvalidParameter(f"property {name} takes true or false")
            return col == (raw.lower() in ("true", "1"))
        try:
            value = float(raw)
        except ValueError:
            raise InvalidParameter(f"property {name} takes a number") from None
        return col == value


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_integer_dtype(s):
        return "integer"
    if pd.api.types.is_float_dtype(s):
        return "number"
    return "string"


def properties_frame(gdf: pd.DataFrame, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """A layer's feature properties: its columns but the geometry and ``_``-prefixed ones, then
    ``extra``'s."""
    props = gdf.drop(columns=[c for c in gdf.columns if c == "geometry" or c.startswith("_")])
    if extra is not None:
        props = pd.concat([props.reset_index(drop=True), extra.reset_index(drop=True)], axis=1)
    return props


def _array(s: pd.Series, kind: str) -> np.ndarray:
    if kind == "string":
        return s.to_numpy(object)
    return s.to_numpy(bool) if kind == "boolean" else s.to_numpy(float, na_value=np.nan)


class Columns(Mapping[str, np.ndarray]):
    """The filterable property columns of a collection as numpy arrays, each made on first use
    (a text column as Python strings costs ~3 MB per 50,000 rows; most are never filtered on)."""

    def __init__(self, frames: Sequence[pd.DataFrame], types: dict[str, str]):
        self._of = {c: f for f in frames for c in f.columns if c in types}
        self._types = types
        self._made: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        col = self._made.get(name)
        if col is None:  # two threads may both make it: the same array, either is kept
            col = self._made[name] = _array(self._of[name][name], self._types[name])
        return col

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)


def collection_columns(
    cid: str, gdf: pd.DataFrame, extra: pd.DataFrame | None = None
) -> tuple[np.ndarray, dict[str, str], Columns]:
    """The cheap part of a collection: its ids, property types and filter columns (made on use)."""
    keep = [c for c in gdf.columns if c != "geometry" and not c.startswith("_")]
    frames = [gdf, *([] if extra is None else [extra])]
    types = {c: _kind(gdf[c]) for c in keep}
    types.update({} if extra is None else {c: _kind(extra[c]) for c in extra.columns})
    source = extra if extra is not None and ID_FIELDS[cid] in extra.columns else gdf
    ids = source[ID_FIELDS[cid]].astype(str).to_numpy(object)
    return ids, types, Columns(frames, types)


@dataclass
class Serialised:
    """The costly part of a collection (api/views.py keeps it in the serving cache,
    layers/servecache.py): feature bytes in CRS84 and EPSG:25832, properties JSON per feature,
    the WGS84 geometries and their bounds."""

    features: Sequence[bytes]
    features_work: Sequence[bytes]
    props: Sequence[bytes]
    geoms: Any  # WGS84 geometries: an object array, or layers.servecache.WkbGeoms
    bounds: np.ndarray


def serialise(gdf: pd.DataFrame, extra: pd.DataFrame | None, ids: np.ndarray) -> Serialised:
    """Serialise every feature of a layer (EPSG:25832) with its properties and ``extra``'s."""
    props = properties_frame(gdf, extra)
    work = np.asarray(gdf.geometry.values)
    geoms = to_wgs84(work)
    bounds = shapely.bounds(geoms) if len(geoms) else np.zeros((0, 4))
    props_json = properties_json(props)
    feats = features_bytes(ids.tolist(), geometry_json(geoms), props_json)
    coll = Collection("", ids, feats, bounds, geoms, {}, {}, work_geoms=work, props=props_json)
    return Serialised(feats, coll.features_in(WORK_OUT), props_json, geoms, bounds)


def build_collection(
    cid: str, gdf: pd.DataFrame, extra: pd.DataFrame | None = None, made: Serialised | None = None
) -> Collection:
    """Pre-serialise one layer (EPSG:25832 GeoDataFrame) as an OGC collection; ``made``: its
    serialised part, when already made (from the serving cache)."""
    ids, types, columns = collection_columns(cid, gdf, extra)
    s = made or serialise(gdf, extra, ids)
    coll = Collection(
        cid,
        ids,
        s.features,
        s.bounds,
        s.geoms,
        columns,
        types,
        work_geoms=np.asarray(gdf.geometry.values),
        props=s.props,
    )
    coll.by_crs[WORK_OUT.uri] = s.features_work  # the storage CRS is served as fast as CRS84
    return coll


# -- in ------------------------------------------------------------------------------------
ACCEPTED = "send a GeoJSON Feature, Polygon or MultiPolygon (RFC 7946, WGS84 longitude, latitude)"


def _count_positions(coords: Any, depth: int, cap: int) -> int:
    """Count positions of a coordinates array of the given nesting depth, checking its shape."""
    total = 0
    stack = [(coords, depth)]
    while stack:
        node, d = stack.pop()
        if not isinstance(node, list):
            raise InvalidGeometry("coordinates must be nested arrays of [longitude, latitude]")
        if d == 2:  # a ring: a list of positions
            total += len(node)
            if total > cap:
                raise TooLarge(f"the geometry has more than {cap:,} vertices")
            continue
        stack.extend((child, d - 1) for child in node)
    return total


def _ring(ring: list[Any]) -> np.ndarray:
    if len(ring) < 4:
        raise InvalidGeometry("a polygon ring needs at least 4 positions")
    for pos in ring:
        if (
            not isinstance(pos, list)
            or len(pos) not in (2, 3)
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in pos)
        ):
            raise InvalidGeometry("each position must be [longitude, latitude] numbers")
    arr = np.array([pos[:2] for pos in ring], dtype=float)
    if not np.isfinite(arr).all():
        raise InvalidGeometry("coordinates must be finite numbers")
    if not np.array_equal(arr[0], arr[-1]):
        raise InvalidGeometry("a polygon ring must be closed: its last position must equal its first")
    return arr


def _polygon(rings: list[Any]) -> shapely.Polygon:
    if not rings:
        raise InvalidGeometry("a polygon needs an exterior ring")
    arrs = [_ring(r) for r in rings]
    return shapely.Polygon(arrs[0], arrs[1:])


def _check_nrw(coords: np.ndarray) -> None:
    """Raise unless every position lies within North Rhine-Westphalia's WGS84 extent."""
    x0, y0, x1, y1 = NRW_BOUNDS_WGS84
    x, y = coords[:, 0], coords[:, 1]

    def inside(a: np.ndarray, b: np.ndarray) -> bool:
        return bool(((a >= x0) & (a <= x1) & (b >= y0) & (b <= y1)).all())

    if inside(x, y):
        return
    if inside(y, x):
        raise InvalidGeometry("coordinates look swapped: GeoJSON is longitude, latitude")
    if (np.abs(x) > 180).any() or (np.abs(y) > 90).any():
        raise InvalidGeometry(
            "coordinates outside North Rhine-Westphalia: they look projected "
            "(metres); GeoJSON is WGS84 longitude, latitude"
        )
    raise InvalidGeometry("coordinates outside North Rhine-Westphalia")


_REASON = re.compile(r"^(?P<what>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")


def invalid_reason(geom: shapely.Geometry) -> str:
    """shapely's validity reason, as 'Self-intersection at x,y'."""
    reason = shapely.is_valid_reason(geom)
    m = _REASON.match(reason)
    if not m:
        return reason
    x, y = (round(float(m[k]), DECIMALS) for k in ("x", "y"))
    return f"{m['what'].strip()} at {x},{y}"


def read_polygon(raw: bytes, max_vertices: int) -> shapely.Geometry:
    """Parse a POSTed GeoJSON body into a valid WGS84 Polygon or MultiPolygon.

    Raises InvalidParameter (not JSON), InvalidGeometry (wrong type, non-finite or open rings,
    outside NRW, swapped axes, invalid rings) and TooLarge (more than ``max_vertices``).
    """
    try:  # strict RFC 8259: NaN, Infinity, 1e400 and nesting deeper than 1024 are not JSON
        obj = orjson.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidParameter(f"the request body is not valid JSON; {ACCEPTED}") from None
    if not isinstance(obj, dict):
        raise InvalidGeometry(f"the body is not a GeoJSON object; {ACCEPTED}")
    if obj.get("type") == "Feature":
        obj = obj.get("geometry")
        if not isinstance(obj, dict):
            raise InvalidGeometry("the Feature has no geometry")
    gtype = obj.get("type")
    if gtype not in ("Polygon", "MultiPolygon"):
        raise InvalidGeometry(f"only Polygon and MultiPolygon geometries can be scored; {ACCEPTED}")
    coords: Any = obj.get("coordinates")
    depth = 3 if gtype == "Polygon" else 4
    if _count_positions(coords, depth, max_vertices) == 0:
        raise InvalidGeometry("the geometry is empty")
    geom: shapely.Polygon | shapely.MultiPolygon
    if gtype == "Polygon":
        geom = _polygon(coords)
    else:
        geom = shapely.MultiPolygon([_polygon(p) for p in coords])
    _check_nrw(shapely.get_coordinates(geom))
    if not shapely.is_valid(geom):
        raise InvalidGeometry(
            f"invalid geometry: {invalid_reason(geom)} (not repaired; fix the rings and send it again)"
        )
    if shapely.area(geom) <= 0:
        raise InvalidGeometry("the geometry has no area")
    return geom


def to_work_crs(geom_wgs84: shapely.Geometry) -> shapely.Geometry:
    """WGS84 → EPSG:25832 (the computing CRS)."""
    tr = transformer(4326, 25832)

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    out = shapely.transform(geom_wgs84, project)
    if not shapely.is_valid(out):
        raise InvalidGeometry(
            "the geometry becomes invalid when projected to EPSG:25832; simplify near-touching rings"
        )
    return out
