"""Regional plan areas for industry and commerce from XPlanGML (format ``xplan-rp``).

Source: an XPlanGML 5.x or 6.x file of a Raumordnungsplan (``xplan:XPlanAuszug`` with
``gml:featureMember``/``gml:featureMembers``, or a WFS ``wfs:member`` collection). Elements are
matched by local name, so any XPlanGML version namespace works. Only ``RP_IndustrieGewerbe``
features become rows; the ``RP_Plan`` name becomes ``plan``; every other feature type
(``RP_Bereich``, ``RP_Freiraum`` ...) is ignored.

Geometry (``xplan:position``): ``gml:Polygon``, ``gml:MultiSurface`` (``surfaceMember``/
``surfaceMembers``) or ``gml:Surface`` with ``gml:PolygonPatch``; rings are ``gml:LinearRing`` with
``gml:posList`` or ``gml:pos`` (2D or 3D, the height is dropped). The CRS comes from the
``srsName`` of the geometry, else of the feature's ``gml:boundedBy/gml:Envelope``, else of the
file's, else of the root element; ``EPSG:25832``, ``urn:ogc:def:crs:EPSG::25832`` and
``http://www.opengis.net/def/crs/EPSG/0/25832`` all work, and EPSG:4647 zone-prefixed eastings
are corrected. No ``srsName`` anywhere is an error.

Category from ``xplan:typ`` (RP_IndustrieGewerbeTypen; DESIGN §4.2):
1000 Industrie, 2000 Gewerbe, 3000 GewerbeIndustrie, 9000 GIB -> ``GIB``;
5000 FlaechenintensivesGrossvorhaben -> ``LARGE_PROJECT``;
7000 HafenorientierteWirtschaftlicheAnlage, 9999 Sonstige -> ``GIB_Z``.
``xplan:istZweckbindung = true`` turns ``GIB`` into ``GIB_Z``. ``[regional_plan.values.category]``
in sources.toml (typ code -> category) overrides the table; an unknown code is an error. A feature
without ``typ`` is a plain ``GIB``; with several codes the most specific category wins
(LARGE_PROJECT, then GIB_Z, then GIB).

Output (EPSG:25832): ``area_id`` (the feature's gml:id), ``category`` (GIB, GIB_Z, LARGE_PROJECT),
``plan`` (RP_Plan name, else ``[regional_plan.defaults] plan``, else the file name), ``name``
(``xplan:name`` or ``xplan:text``, else None), geometry Polygon or MultiPolygon.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo.crs import WORK_CRS
from layers.errors import SourceError
from layers.io import to_work_crs
from layers.schema import check

LAYER = "regional_plan"
DEFAULTS = {
    "xplan-rp": {
        "licence": "unknown",
        "attribution": "Regionalplanungsbehörde, Regionalplan (XPlanGML); set licence and "
        "attribution in sources.toml",
    },
}

FEATURE = "RP_IndustrieGewerbe"
PLAN = "RP_Plan"
CONTAINERS = frozenset({"featureMember", "featureMembers", "member"})
CATEGORIES = {
    "1000": "GIB",
    "2000": "GIB",
    "3000": "GIB",
    "9000": "GIB",
    "5000": "LARGE_PROJECT",
    "7000": "GIB_Z",
    "9999": "GIB_Z",
}
PRECEDENCE = ("LARGE_PROJECT", "GIB_Z", "GIB", "ASB_GE")
TRUE = frozenset({"true", "1"})
PLAIN_EPSG = re.compile(r"EPSG:\d+", re.IGNORECASE)  # traditionally x/y (lon/lat) order
EPSG_IN_NAME = re.compile(r"EPSG[:/](?:[\d.]*[:/])?(\d+)$", re.IGNORECASE)
ADV_CRS = {"ETRS89_UTM32": 25832, "ETRS89_UTM33": 25833, "DE_DHDN_3GK2": 31466, "DE_DHDN_3GK3": 31467}
NO_CRS = (
    "the file has no coordinate reference system: there is no srsName on the geometries, on "
    'gml:boundedBy/gml:Envelope or on the root element. Add srsName="EPSG:25832" to the '
    "gml:Envelope of the root gml:boundedBy (or to each geometry) if the coordinates are "
    "ETRS89/UTM 32N"
)


@dataclass
class _Feature:
    """One RP_IndustrieGewerbe as read from the file, before CRS handling."""

    fid: str | None
    typs: list[str]
    zweckbindung: bool
    name: str | None
    srs: str | None
    geometry: shapely.Geometry | None = None
    category: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """Name the feature in messages."""
        return f"feature {self.fid}" if self.fid else "a feature without gml:id"


def read_xplan_rp(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Read the RP_IndustrieGewerbe areas of an XPlanGML regional plan."""
    path = Path(path)
    if not path.exists():
        raise SourceError(LAYER, path, "file not found")
    features, plan_name, file_srs, types = _scan(path)
    if not features:
        found = ", ".join(sorted(types)) or "none"
        raise SourceError(
            LAYER,
            path,
            f"no {FEATURE} features in the file (feature types found: "
            f"{found}); is this an XPlanGML Raumordnungsplan?",
        )
    plan = plan_name or cfg.get("defaults", {}).get("plan") or path.stem
    overrides = {str(k): v for k, v in cfg.get("values", {}).get("category", {}).items()}
    messages = _categorise(features, CATEGORIES | overrides)

    for f in features:
        f.srs = f.srs or file_srs
    if any(f.srs is None for f in features if f.geometry is not None):
        raise SourceError(LAYER, path, NO_CRS)
    _to_work_crs(features)

    good = [f for f in features if not f.problems and f.category is not None]
    messages = [p for f in features for p in f.problems] + messages
    out = gpd.GeoDataFrame(
        {
            "area_id": [f.fid for f in good],
            "category": [f.category for f in good],
            "plan": [plan] * len(good),
            "name": [f.name for f in good],
        },
        geometry=cast(list[shapely.Geometry], [f.geometry for f in good]),  # each has one
        crs=WORK_CRS,
    )
    try:
        check(LAYER, out, path, row_labels=[f.label for f in good])
    except SourceError as exc:
        messages += exc.problems
    if messages:
        raise SourceError(LAYER, path, messages)
    return out


def _scan(path: Path) -> tuple[list[_Feature], str | None, str | None, set[str]]:
    """Stream the file: the RP_IndustrieGewerbe features, the plan name, the file's srsName."""
    features: list[_Feature] = []
    types: set[str] = set()
    plan_name = root_srs = envelope_srs = None
    stack: list[str] = []
    try:
        for event, el in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                if not stack:
                    root_srs = _attr(el, "srsName")
                stack.append(_local(el.tag))
                continue
            name = stack.pop()
            if len(stack) == 1 and name == "boundedBy":
                envelope_srs = _srs(el)
            elif len(stack) == 2 and stack[1] in CONTAINERS:
                types.add(name)
                if name == FEATURE:
                    features.append(_feature(el))
                elif name == PLAN and plan_name is None:
                    plan_name = _text(el, "name")
                el.clear()
    except ET.ParseError as exc:
        raise SourceError(LAYER, path, f"not a well-formed XML file: {exc}") from exc
    return features, plan_name, envelope_srs or root_srs, types


def _feature(el: ET.Element) -> _Feature:
    """Read id, attributes and geometry of one RP_IndustrieGewerbe element."""
    f = _Feature(
        fid=_attr(el, "id"),
        typs=[c.text.strip() for c in el if _local(c.tag) == "typ" and c.text and c.text.strip()],
        zweckbindung=(_text(el, "istZweckbindung") or "").lower() in TRUE,
        name=_text(el, "name") or _text(el, "text"),
        srs=None,
    )
    position = next((c for c in el if _local(c.tag) == "position"), None)
    if position is None or len(position) == 0:
        f.problems.append(f"{f.label} has no xplan:position geometry")
        return f
    geom_el = position[0]
    bounded = next((c for c in el if _local(c.tag) == "boundedBy"), None)
    f.srs = _srs(geom_el) or (_srs(bounded) if bounded is not None else None)
    try:
        f.geometry = _geometry(geom_el)
    except (ValueError, shapely.errors.GEOSException) as exc:
        f.problems.append(f"{f.label}: cannot read its geometry: {exc}")
    return f


def _categorise(features: list[_Feature], table: dict[str, str]) -> list[str]:
    """Set each feature's category from its typ codes; report each unknown code with its ids."""
    unknown: dict[str, list[str]] = {}
    for f in features:
        missing = [code for code in f.typs if code not in table]
        for code in missing:
            unknown.setdefault(code, []).append(f.fid or "(no gml:id)")
        if not missing:
            cat = min((table[code] for code in f.typs), key=_rank, default="GIB")
            f.category = "GIB_Z" if cat == "GIB" and f.zweckbindung else cat
    known = ", ".join(f"{k} -> {v}" for k, v in sorted(table.items()))
    return [
        f"unknown typ code {code!r} in feature(s) {', '.join(ids[:10])}"
        f"{f' (+{len(ids) - 10} more)' if len(ids) > 10 else ''}; known codes: {known}. Map it "
        f'under [regional_plan.values.category] in sources.toml, e.g. "{code}" = "GIB"'
        for code, ids in sorted(unknown.items())
    ]


def _rank(category: str) -> int:
    """Order categories from most to least specific; unknown canonical values come last."""
    return PRECEDENCE.index(category) if category in PRECEDENCE else len(PRECEDENCE)


def _to_work_crs(features: list[_Feature]) -> None:
    """Reproject every parsed geometry to EPSG:25832, one group per srsName."""
    groups: dict[str, list[_Feature]] = {}
    for f in features:
        if f.geometry is not None and not f.problems:
            groups.setdefault(f.srs or "", []).append(f)
    for srs, members in groups.items():
        try:
            crs = _crs(srs)
        except CRSError:
            for f in members:
                f.problems.append(f'{f.label}: unrecognised srsName {srs!r}; use e.g. "EPSG:25832"')
            continue
        geoms = cast(list[shapely.Geometry], [f.geometry for f in members])  # none is None
        if _lat_first(crs) and not PLAIN_EPSG.fullmatch(srs.strip()):
            geoms = list(shapely.transform(geoms, lambda c: c[:, ::-1]))  # GML URN axis order
        gdf = to_work_crs(gpd.GeoDataFrame(geometry=geoms, crs=crs))
        for f, g in zip(members, gdf.geometry.values, strict=True):
            f.geometry = g


def _crs(srs: str) -> CRS:
    """Turn a GML srsName into a CRS (EPSG codes in any notation, AdV names, or pyproj input)."""
    m = EPSG_IN_NAME.search(srs.strip())
    if m:
        return CRS.from_epsg(int(m.group(1)))
    for adv, code in ADV_CRS.items():
        if srs.strip().upper().endswith(adv):
            return CRS.from_epsg(code)
    return CRS.from_user_input(srs)


def _lat_first(crs: CRS) -> bool:
    """Tell whether a geographic CRS's official axis order puts latitude first (EPSG:4326)."""
    return crs.is_geographic and crs.axis_info[0].direction.lower() == "north"


def _geometry(el: ET.Element) -> shapely.Geometry:
    """Build a Polygon or MultiPolygon from gml:Polygon, gml:MultiSurface or gml:Surface."""
    kind = _local(el.tag)
    dim = _dimension(el)
    if kind in ("Polygon", "PolygonPatch"):
        return _polygon(el, dim)
    patches = [p for p in el.iter() if _local(p.tag) in ("Polygon", "PolygonPatch")]
    if kind not in ("MultiSurface", "Surface", "CompositeSurface") or not patches:
        raise ValueError(
            f"gml:{kind} is not supported; expected gml:Polygon, gml:MultiSurface or gml:Surface"
        )
    parts = [_polygon(p, _dimension(p, dim)) for p in patches]
    if kind == "MultiSurface":
        return shapely.MultiPolygon(parts)
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def _polygon(el: ET.Element, dim: int) -> shapely.Polygon:
    """Build a Polygon from its gml:exterior and gml:interior rings."""
    exterior = [c for c in el if _local(c.tag) == "exterior"]
    if len(exterior) != 1:
        raise ValueError(f"gml:{_local(el.tag)} needs exactly one gml:exterior")
    holes = [_ring(c, dim) for c in el if _local(c.tag) == "interior"]
    return shapely.Polygon(_ring(exterior[0], dim), holes)


def _ring(boundary: ET.Element, dim: int) -> list[tuple[float, float]]:
    """Read the coordinates of the gml:LinearRing inside a gml:exterior or gml:interior."""
    ring = boundary[0] if len(boundary) else None
    if ring is None or _local(ring.tag) != "LinearRing":
        what = f"gml:{_local(ring.tag)}" if ring is not None else "an empty boundary"
        raise ValueError(
            f"{what} is not supported (curves/arcs); convert the ring to a "
            "gml:LinearRing with straight segments"
        )
    dim = _dimension(ring, dim)
    pos_list = next((c for c in ring if _local(c.tag) == "posList"), None)
    if pos_list is not None:
        values = (pos_list.text or "").split()
        dim = _dimension(pos_list, dim)
    else:
        points = [(p.text or "").split() for p in ring if _local(p.tag) == "pos"]
        if not points:
            raise ValueError("gml:LinearRing has no gml:posList or gml:pos")
        dim = len(points[0])
        values = [v for p in points for v in p]
    if dim < 2 or len(values) % dim:
        raise ValueError(f"{len(values)} numbers do not make {dim}-D coordinates")
    numbers = [float(v) for v in values]
    return [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), dim)]


def _dimension(el: ET.Element, default: int = 2) -> int:
    """Return the srsDimension given on an element, else ``default``."""
    value = _attr(el, "srsDimension")
    return int(value) if value else default


def _srs(el: ET.Element) -> str | None:
    """Return the first srsName on an element or inside it (geometry parts, gml:Envelope)."""
    return next((_attr(e, "srsName") for e in el.iter() if _attr(e, "srsName")), None)


def _text(el: ET.Element, name: str) -> str | None:
    """Return the stripped text of the first direct child with this local name, or None."""
    for child in el:
        if _local(child.tag) == name and child.text and child.text.strip():
            return child.text.strip()
    return None


def _attr(el: ET.Element, name: str) -> str | None:
    """Return an attribute by local name, in any namespace (gml:id, srsName ...)."""
    for key, value in el.attrib.items():
        if _local(key) == name:
            return value
    return None


def _local(tag: str) -> str:
    """Strip the ``{namespace}`` from an element or attribute name."""
    return tag.rsplit("}", 1)[-1]
