"""CRS rules: compute in EPSG:25832, convert to WGS84 only at the edges.

Transformers are built once (``always_xy=True``) and reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer

from geo.errors import InvalidParameter

WORK_CRS = CRS.from_epsg(25832)
WGS84 = CRS.from_epsg(4326)
INSPIRE_CRS = CRS.from_epsg(3035)
ZONE_PREFIXED_CRS = CRS.from_epsg(4647)

# North Rhine-Westphalia's extent in EPSG:25832 (DVG2 state boundary, rounded outwards to 1 km).
NRW_BOUNDS = (280_000.0, 5_577_000.0, 532_000.0, 5_821_000.0)
# The same extent in WGS84 (lon/lat), rounded outwards to 0.01 degree.
NRW_BOUNDS_WGS84 = (5.86, 50.32, 9.47, 52.54)


@lru_cache(maxsize=16)
def transformer(src: int | str, dst: int | str) -> Transformer:
    """Return a cached ``always_xy`` transformer between two CRS given as EPSG codes or strings."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def has_zone_prefix(x: np.ndarray) -> bool:
    """Tell whether eastings carry the UTM zone "32" prefix (EPSG:4647 style, e.g. 32_380_000 m).

    Plain EPSG:25832 eastings in NRW lie between 280,000 and 532,000 m; prefixed ones between
    32,280,000 and 32,532,000 m.
    """
    x = np.asarray(x, dtype="float64")
    x = x[np.isfinite(x)]
    return bool(x.size) and bool(np.all((x > 32_000_000) & (x < 33_000_000)))


# -- output CRSs (OGC API – Features Part 2, exports) -----------------------------------------
OGC_CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"


@dataclass(frozen=True)
class OutputCrs:
    """A CRS geometries can be delivered in: its URI, EPSG code, axis order and precision.

    ``swap_axes``: the CRS's authority axis order is not x/y (EPSG:4326 and
    EPSG:4258 are latitude, longitude; EPSG:3035 is northing, easting), which OGC API –
    Features Part 2 and GeoJSON with a ``crs`` follow. Files (GeoPackage, Shapefile) store x/y
    (longitude or easting first) whatever the CRS, as GIS software expects.
    """

    uri: str
    epsg: int
    label: str
    swap_axes: bool
    decimals: int  # 7 (≈ 1 cm) for degrees, 2 (1 cm) for metres

    @property
    def curie(self) -> str:
        """``EPSG:25832`` or ``OGC:CRS84``."""
        return "OGC:CRS84" if self.uri == OGC_CRS84 else f"EPSG:{self.epsg}"

    @property
    def metric(self) -> bool:
        """True for projected CRSs in metres."""
        return self.decimals == 2


OUTPUT_CRS: tuple[OutputCrs, ...] = (
    OutputCrs(OGC_CRS84, 4326, "WGS 84 longitude/latitude (CRS84)", False, 7),
    OutputCrs(EPSG_URI.format(code=4326), 4326, "WGS 84 latitude/longitude (EPSG:4326)", True, 7),
    OutputCrs(EPSG_URI.format(code=25832), 25832, "ETRS89 / UTM zone 32N (EPSG:25832)", False, 2),
    OutputCrs(EPSG_URI.format(code=4258), 4258, "ETRS89 latitude/longitude (EPSG:4258)", True, 7),
    OutputCrs(
        EPSG_URI.format(code=3035), 3035, "ETRS89 / LAEA Europe (EPSG:3035), northing/easting", True, 2
    ),
)
CRS84_OUT = OUTPUT_CRS[0]
WORK_OUT = OUTPUT_CRS[2]
_BY_NAME = {
    **{c.uri: c for c in OUTPUT_CRS},
    **{c.curie: c for c in OUTPUT_CRS},
    "CRS84": CRS84_OUT,
    "urn:ogc:def:crs:OGC:1.3:CRS84": CRS84_OUT,
    **{f"urn:ogc:def:crs:EPSG::{c.epsg}": c for c in OUTPUT_CRS[1:]},
    **{str(c.epsg): c for c in OUTPUT_CRS[1:]},
}


def output_crs(text: str | None, default: OutputCrs = CRS84_OUT) -> OutputCrs:
    """Parse a CRS given as an OGC URI (``http://www.opengis.net/def/crs/EPSG/0/25832``), a
    CURIE (``EPSG:25832``, ``[EPSG:25832]``, ``OGC:CRS84``) or an EPSG code; raise
    InvalidParameter naming the supported ones.
    """
    if text is None or text == "":
        return default
    key = text.strip()
    if key.startswith("[") and key.endswith("]"):
        key = key[1:-1]
    found = _BY_NAME.get(key) or _BY_NAME.get(key.upper())
    if found is None:
        names = ", ".join(c.uri for c in OUTPUT_CRS)
        raise InvalidParameter(f"unsupported CRS; supported: {names} (or EPSG:25832 etc.)")
    return found


def project_xy(xy: np.ndarray, crs: OutputCrs, src: int = 25832) -> np.ndarray:
    """Transform x/y coordinates (n × 2, ``src``) to ``crs``, x/y order, rounded to its
    precision (1 cm).
    """
    if crs.epsg == src:
        out = np.array(xy, dtype=float)
    else:
        x, y = transformer(src, crs.epsg).transform(xy[:, 0], xy[:, 1])
        out = np.column_stack([x, y])
    scale = 10.0**crs.decimals
    return np.rint(out * scale) / scale
