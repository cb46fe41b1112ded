"""Renewable generation units (wind and solar) from the Marktstammdatenregister bulk export.

The layer ``renewable_units`` holds one point per wind turbine or solar unit in operation in and
around NRW (EPSG:25832): ``unit_id`` (EinheitMastrNummer), ``technology`` (wind, solar),
``capacity_mw`` (Bruttoleistung kW / 1000) and ``status`` (EinheitBetriebsstatus, 35 = in
operation). A criterion sums ``capacity_mw`` within a radius of a site (``geo.measures.SumWithin``).

Format ``mastr``: the BNetzA *Gesamtdatenexport* (dl-de/by-2-0). ``path`` names a directory
holding ``EinheitenWind*.xml`` and ``EinheitenSolar*.xml`` (the solar units come in several
numbered files) or one such file; the option ``technology`` ("wind", "solar" or "wind,solar",
the default) picks which. Each file is UTF-16 (checked: a byte-order mark, or ``<?`` in UTF-16)
and holds one ``<EinheitWind>``/``<EinheitSolar>`` element per unit under the root
``<EinheitenWind>``/``<EinheitenSolar>``, with child elements ``EinheitMastrNummer``,
``Laengengrad``/``Breitengrad`` (WGS84 degrees), ``Bruttoleistung`` (kW, decimal point),
``EinheitBetriebsstatus`` and ``Bundesland`` (1409 = NRW).

The files are GB-sized, so they are streamed (``XMLPullParser`` over 1 MiB chunks, each unit
cleared once read) and only units in operation inside NRW's extent + 15 km are kept. The parser
is hardened without a dependency: the prolog is scanned before parsing and any ``<!DOCTYPE``
(hence any entity declaration, the only way to an entity bomb or an external entity) is refused;
an undeclared entity reference is then a syntax error. Units without coordinates (small PV
units, whose location the register does not publish) are skipped and counted; the same unit
listed twice (the export repeats the last unit of one numbered file at the start of the next)
is kept once. ``gdf.attrs["mastr"]`` holds the summary (see ``Summary``) for the manifest.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import geopandas as gpd
import numpy as np

from geo.crs import NRW_BOUNDS, WORK_CRS, transformer
from layers.errors import SourceError
from layers.renewables_demo import demo
from layers.schema import Schema, check
from layers.sources import Format, LayerSpec, register_layer

LAYER = "renewable_units"
TECHNOLOGIES = ("wind", "solar")
IN_OPERATION = 35  # EinheitBetriebsstatus: 31 in planning, 35 in operation, 37/38 shut down
NRW_LAND = "1409"  # Bundesland catalogue value of North Rhine-Westphalia
MARGIN_M = 15_000.0  # units this far outside NRW's extent still count for sites at the border
GERMANY = (5.5, 47.0, 15.5, 55.5)  # lon/lat box a MaStR coordinate must lie in
ROOTS = {"EinheitenWind": ("EinheitWind", "wind"), "EinheitenSolar": ("EinheitSolar", "solar")}
FILE_PATTERNS = {"wind": "EinheitenWind*.xml", "solar": "EinheitenSolar*.xml"}
CHUNK = 1 << 20
PROLOG_BYTES = 1 << 16
MAX_PROBLEMS = 25
DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")  # xsd:decimal: a point, no exponent

SCHEMA = Schema(
    "unit_id",
    ("unit_id", "technology", "capacity_mw", "status"),
    ("Point",),
    codes={"technology": TECHNOLOGIES},
)
DEFAULTS = {
    "mastr": {
        "licence": "dl-de/by-2-0",
        "attribution": "© Bundesnetzagentur, Marktstammdatenregister (Gesamtdatenexport), dl-de/by-2-0",
    }
}


@dataclass
class Summary:
    """What a read kept and left out, per reason (MW are gross capacity of units in operation)."""

    files: list[str] = field(default_factory=list)
    units_read: int = 0
    not_in_operation: int = 0
    kept: int = 0
    kept_mw: float = 0.0
    outside_extent: int = 0  # in operation, with coordinates, beyond NRW's extent + 15 km
    without_coordinates: int = 0
    without_coordinates_mw: float = 0.0
    without_coordinates_nrw: int = 0  # of those, registered in NRW (Bundesland 1409)
    without_coordinates_nrw_mw: float = 0.0
    duplicates: int = 0  # the same EinheitMastrNummer again (kept once)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, MW rounded to 0.1 kW."""
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _wgs84_window() -> tuple[float, float, float, float]:
    """A lon/lat box that contains NRW's extent + 15 km (a cheap first filter while streaming)."""
    x0, y0, x1, y1 = NRW_BOUNDS
    xs = np.concatenate([np.linspace(x0, x1, 50), np.full(50, x1), np.linspace(x0, x1, 50), np.full(50, x0)])
    ys = np.concatenate([np.full(50, y0), np.linspace(y0, y1, 50), np.full(50, y1), np.linspace(y0, y1, 50)])
    m = MARGIN_M
    xs = np.clip(xs, x0, x1) + np.where(xs <= x0, -m, np.where(xs >= x1, m, 0))
    ys = np.clip(ys, y0, y1) + np.where(ys <= y0, -m, np.where(ys >= y1, m, 0))
    lon, lat = transformer(25832, 4326).transform(xs, ys)
    return (
        float(lon.min()) - 0.05,
        float(lat.min()) - 0.05,
        float(lon.max()) + 0.05,
        float(lat.max()) + 0.05,
    )


WINDOW = _wgs84_window()


def files_of(path: Path, technologies: tuple[str, ...]) -> list[Path]:
    """The export files to read: ``path`` itself, or the matching files in the directory."""
    if path.is_file():
        return [path]
    found: list[Path] = []
    for tech in technologies:
        found += sorted(path.glob(FILE_PATTERNS[tech]), key=_file_order)
    return found


def _file_order(p: Path) -> tuple[str, int]:
    m = re.search(r"_(\d+)\.xml$", p.name, re.IGNORECASE)
    return (p.name.split("_")[0], int(m.group(1)) if m else 0)


def _codec(layer: str, path: Path, head: bytes) -> str:
    """utf-16-le or utf-16-be from the byte-order mark (or the UTF-16 form of ``<?``)."""
    if head[:2] == codecs.BOM_UTF16_LE or head[:4] == b"<\x00?\x00":
        return "utf-16-le"
    if head[:2] == codecs.BOM_UTF16_BE or head[:4] == b"\x00<\x00?":
        return "utf-16-be"
    if not head:
        raise SourceError(layer, path, "the file is empty")
    what = "UTF-8 with a byte-order mark" if head[:3] == codecs.BOM_UTF8 else "not UTF-16"
    raise SourceError(
        layer,
        path,
        f"not UTF-16 (the MaStR export's encoding): the file starts with bytes {head[:4].hex(' ')} "
        f"({what}); use the export as downloaded, or convert it with iconv -t UTF-16",
    )


def check_prolog(layer: str, path: Path) -> None:
    """Refuse a file that is not UTF-16 or declares a DOCTYPE (entities) before its root element."""
    with open(path, "rb") as f:
        head = f.read(PROLOG_BYTES)
    codec = _codec(layer, path, head)
    text = head[: len(head) // 2 * 2].decode(codec, errors="replace").lstrip("\ufeff")
    i = 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        line = text.count("\n", 0, i) + 1
        if i >= len(text):
            raise SourceError(
                layer, path, f"no root element in the first {PROLOG_BYTES // 1024} KiB (line {line})"
            )
        if text.startswith("<?", i) or text.startswith("<!--", i):
            end = text.find("?>" if text[i + 1] == "?" else "-->", i + 2)
            if end < 0:
                raise SourceError(
                    layer, path, f"line {line}: unterminated declaration or comment in the prolog"
                )
            i = end + 2
        elif text.startswith("<!", i):
            raise SourceError(
                layer,
                path,
                f"line {line}: a {text[i : i + 9]!r} declaration is refused: the MaStR export has no "
                "DOCTYPE, and one can declare entities (an entity bomb or external files)",
            )
        elif text.startswith("<", i):
            return
        else:
            raise SourceError(layer, path, f"line {line}: text before the root element: {text[i : i + 20]!r}")


def _number(text: str | None) -> float | None:
    """An xsd:decimal, or None when the element is absent or empty; ValueError otherwise."""
    if text is None or not text.strip():
        return None
    t = text.strip()
    if not DECIMAL.match(t):
        raise ValueError(t[:30])
    return float(t)


@dataclass
class _Units:
    """The kept units of a read, as plain lists (cheap while streaming)."""

    ids: list[str] = field(default_factory=list)
    tech: list[str] = field(default_factory=list)
    kw: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    last: str = ""  # the previous file's last unit: the export repeats it as the next file's first


class _Broken(Exception):
    """The XML parser stopped: where and why, and whether it was at the end of the file."""

    def __init__(self, line: int, column: int, reason: str, at_end: bool):
        super().__init__(reason)
        self.line, self.column, self.reason, self.at_end = line, column, reason, at_end


def _events(f: BinaryIO) -> Iterator[tuple[str, ET.Element]]:
    """Start and end events of a file fed in chunks (expat; ``_Broken`` when it is not XML)."""
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    while True:
        chunk = f.read(CHUNK)
        try:
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
            yield from cast(Iterator[tuple[str, ET.Element]], parser.read_events())  # start/end only
        except ET.ParseError as exc:
            line, col = exc.position
            raise _Broken(line, col, str(exc).split(":")[0][:80], not chunk) from None
        if not chunk:
            return


@dataclass
class _Reading:
    """One file being streamed: where it is, and what it found."""

    path: Path
    units: _Units
    summary: Summary
    problems: list[str]
    unit_tag: str = ""
    prefix: str = ""
    tech: str = ""
    n: int = 0  # unit elements completed

    def where(self, uid: str = "") -> str:
        tag = self.unit_tag.removeprefix(self.prefix) or "unit"
        return f"{self.path.name}: <{tag}> element {self.n}" + (f" ({uid[:20]})" if uid else "")

    def number(self, elem: ET.Element, name: str, uid: str) -> tuple[float | None, bool]:
        """The child's decimal (None if absent) and whether it was readable."""
        try:
            return _number(elem.findtext(self.prefix + name)), True
        except ValueError as exc:
            self.problems.append(f"{self.where(uid)}: {name} {str(exc)!r} is not a number")
            return None, False

    def take(self, elem: ET.Element) -> None:
        """Check one unit element and keep it if it is in operation near NRW."""
        self.n += 1
        s, units = self.summary, self.units
        s.units_read += 1
        uid = (elem.findtext(self.prefix + "EinheitMastrNummer") or "").strip()
        if self.n == 1 and uid and uid == units.last:
            s.duplicates += 1
            return
        units.last = uid
        kw, kw_ok = self.number(elem, "Bruttoleistung", uid)
        lon, lon_ok = self.number(elem, "Laengengrad", uid)
        lat, lat_ok = self.number(elem, "Breitengrad", uid)
        status = (elem.findtext(self.prefix + "EinheitBetriebsstatus") or "").strip()
        land = (elem.findtext(self.prefix + "Bundesland") or "").strip()
        if not uid:
            self.problems.append(f"{self.where()}: EinheitMastrNummer is missing")
        if lon_ok and lat_ok and (lon is None) != (lat is None):
            self.problems.append(f"{self.where(uid)}: only one of Laengengrad/Breitengrad is given")
        elif lon is not None and lat is not None:
            glon0, glat0, glon1, glat1 = GERMANY
            if not (glon0 <= lon <= glon1 and glat0 <= lat <= glat1):
                self.problems.append(
                    f"{self.where(uid)}: coordinates {lon:g}, {lat:g} lie outside Germany "
                    f"(longitude {glon0}–{glon1}, latitude {glat0}–{glat1}; swapped?)"
                )
        if status != str(IN_OPERATION):
            s.not_in_operation += 1
            return
        if kw is None:
            if kw_ok:
                self.problems.append(f"{self.where(uid)}: in operation, Bruttoleistung is missing")
            return
        if lon is None or lat is None:
            s.without_coordinates += 1
            s.without_coordinates_mw += kw / 1000.0
            if land == NRW_LAND:
                s.without_coordinates_nrw += 1
                s.without_coordinates_nrw_mw += kw / 1000.0
            return
        lon0, lat0, lon1, lat1 = WINDOW
        if not (lon0 <= lon <= lon1 and lat0 <= lat <= lat1):
            s.outside_extent += 1
            return
        if uid in units.seen:
            s.duplicates += 1
            return
        units.seen.add(uid)
        units.ids.append(uid)
        units.tech.append(self.tech)
        units.kw.append(kw)
        units.lon.append(lon)
        units.lat.append(lat)

    def root(self, layer: str, elem: ET.Element) -> None:
        """The root element names the technology (and a namespace, if any)."""
        prefix, _, local = elem.tag.rpartition("}")
        if local not in ROOTS:
            raise SourceError(
                layer,
                self.path,
                f"root element is <{local[:40]}>, expected <EinheitenWind> or <EinheitenSolar>",
            )
        self.prefix = prefix + "}" if prefix else ""
        self.unit_tag, self.tech = self.prefix + ROOTS[local][0], ROOTS[local][1]


def stream_file(
    layer: str,
    path: Path,
    units: _Units,
    summary: Summary,
    problems: list[str],
    technologies: tuple[str, ...],
) -> None:
    """Stream one export file into ``units``; content problems go to ``problems``."""
    check_prolog(layer, path)
    r = _Reading(path, units, summary, problems)
    root: ET.Element | None = None
    with open(path, "rb") as f:
        try:
            for event, elem in _events(f):
                if root is None:  # the first event: the root's start
                    root = elem
                    r.root(layer, elem)
                    if r.tech not in technologies:
                        return
                    summary.files.append(path.name)
                elif event == "end" and elem.tag == r.unit_tag:
                    r.take(elem)
                    root.clear()  # the unit is read: free it (and anything else under the root)
        except _Broken as exc:
            if exc.at_end:
                raise SourceError(
                    layer,
                    path,
                    f"the file is cut off: it ends inside an element (line {exc.line}, column {exc.column}) "
                    f"after {r.n} complete unit elements",
                ) from None
            raise SourceError(
                layer,
                path,
                f"not well-formed XML at line {exc.line}, column {exc.column} after {r.n} unit elements: "
                f"{exc.reason}",
            ) from None
    if root is None:
        raise SourceError(layer, path, "no root element")


def _technologies(layer: str, path: Path, cfg: dict[str, Any]) -> tuple[str, ...]:
    raw = str(cfg.get("technology", ",".join(TECHNOLOGIES)))
    techs = tuple(t.strip().lower() for t in raw.split(",") if t.strip())
    bad = [t for t in techs if t not in TECHNOLOGIES]
    if bad or not techs:
        raise SourceError(
            layer, path, f'technology must be "wind", "solar" or "wind,solar"; found {raw[:40]!r}'
        )
    return techs


def stream_units(
    path: Path, cfg: dict[str, Any] | None = None, on_file: Callable[[Path, Summary], None] | None = None
) -> tuple[_Units, Summary]:
    """Stream every export file of ``path`` (``on_file`` is called after each, for progress)."""
    cfg = cfg or {}
    techs = _technologies(LAYER, path, cfg)
    files = files_of(path, techs)
    if not files:
        patterns = " or ".join(FILE_PATTERNS[t] for t in techs)
        raise SourceError(LAYER, path, f"no MaStR export files ({patterns}) in the directory")
    units, summary = _Units(), Summary()
    problems: list[str] = []
    for file in files:
        stream_file(LAYER, file, units, summary, problems, techs)
        if problems:
            shown = problems[:MAX_PROBLEMS]
            if len(problems) > MAX_PROBLEMS:
                shown.append(f"... and {len(problems) - MAX_PROBLEMS} more problems in {file.name}")
            raise SourceError(LAYER, file, shown)
        if on_file is not None:
            on_file(file, summary)
    return units, summary


def read_mastr(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Read the MaStR export into ``renewable_units`` (EPSG:25832), with ``attrs["mastr"]``."""
    units, summary = stream_units(path, cfg)
    x, y = transformer(4326, 25832).transform(np.asarray(units.lon, float), np.asarray(units.lat, float))
    x0, y0, x1, y1 = NRW_BOUNDS
    inside = (x >= x0 - MARGIN_M) & (x <= x1 + MARGIN_M) & (y >= y0 - MARGIN_M) & (y <= y1 + MARGIN_M)
    summary.outside_extent += int((~inside).sum())
    kw = np.asarray(units.kw, float)[inside]
    gdf = gpd.GeoDataFrame(
        {
            "unit_id": np.asarray(units.ids, dtype=object)[inside],
            "technology": np.asarray(units.tech, dtype=object)[inside],
            "capacity_mw": kw / 1000.0,
            "status": np.full(int(inside.sum()), IN_OPERATION, dtype=np.int64),
        },
        geometry=gpd.points_from_xy(x[inside], y[inside]),
        crs=WORK_CRS,
    )
    summary.kept, summary.kept_mw = len(gdf), float(kw.sum() / 1000.0)
    gdf.attrs["mastr"] = summary.as_dict()
    return check(LAYER, gdf, path)


register_layer(
    LayerSpec(
        LAYER,
        formats={
            "mastr": Format(
                read_mastr,
                DEFAULTS["mastr"]["licence"],
                DEFAULTS["mastr"]["attribution"],
                options=("technology",),
            )
        },
        schema=SCHEMA,
        demo=demo,
        note=(
            "renewable_units: SYNTHETIC wind turbines and solar units (with coordinates, ≥ 30 kW, "
            "and ground-mounted parks) of NRW's real order of magnitude; not the register's units"
        ),
    )
)
