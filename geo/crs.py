"""CRS rules: compute in EPSG:25832, convert to WGS84 only at the edges.

Transformers are built once (``always_xy=True``) and reused.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer

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
