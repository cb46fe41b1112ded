"""Opening vector and table files: CRS checks, zone-prefix detection, reprojection to EPSG:25832."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import WORK_CRS, has_zone_prefix
from layers.errors import SourceError

NO_CRS_HINT = (
    "the file has no coordinate reference system. Add one, e.g. a .prj next to the shapefile, or "
    "`ogr2ogr -a_srs EPSG:25832 fixed.gpkg <file>` if the coordinates are ETRS89/UTM 32N"
)


def sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def require_file(layer: str, path: Path) -> None:
    """Raise a SourceError naming the layer when ``path`` does not exist."""
    if not path.exists():
        raise SourceError(layer, path, "file not found")


def read_vector(layer: str, path: Path, source_layer: str | None = None) -> gpd.GeoDataFrame:
    """Read any OGR file into EPSG:25832, refusing files without a CRS.

    Eastings with the UTM zone prefix "32" (EPSG:4647 convention) are detected and corrected
    whether the file declares EPSG:4647 or, wrongly, EPSG:25832.
    """
    require_file(layer, path)
    try:
        gdf = gpd.read_file(path, layer=source_layer, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types; the message is what matters
        raise SourceError(layer, path, f"cannot be read as a vector file: {exc}") from exc
    if gdf.crs is None:
        raise SourceError(layer, path, NO_CRS_HINT)
    return to_work_crs(gdf)


def to_work_crs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to EPSG:25832, stripping a "32" zone prefix from eastings where present.

    EPSG:4647 is UTM 32N with the zone number before the easting, so removing 32,000,000 m gives
    EPSG:25832 exactly. Files that declare EPSG:25832 but carry prefixed eastings are fixed too.
    """
    if gdf.crs is None:
        raise ValueError("GeoDataFrame has no CRS: set it with .set_crs(...) before converting")
    if not (gdf.crs.equals(WORK_CRS) or gdf.crs.to_epsg() == 4647):
        return gdf.to_crs(WORK_CRS)
    bounds = gdf.geometry.bounds
    if has_zone_prefix(np.concatenate([bounds["minx"].to_numpy(), bounds["maxx"].to_numpy()])):
        gdf = gdf.copy()
        gdf.geometry = shapely.transform(gdf.geometry.values, lambda c: c - [32_000_000.0, 0.0])
    return gdf.set_crs(WORK_CRS, allow_override=True)


def read_table(layer: str, path: Path, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV (comma, or German ``;`` with decimal commas; UTF-8 or Windows-1252) or an xlsx
    sheet, every cell as a string.
    """
    require_file(layer, path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return pd.read_excel(path, sheet_name=sheet or 0, dtype=str)
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            text = raw.decode("cp1252", errors="replace")
            if "Ã" in text or "â€" in text or "â‰" in text:  # UTF-8 read as cp1252: a broken byte
                line = raw[:exc.start].count(b"\n") + 1
                raise SourceError(layer, path, f"line {line} is not valid UTF-8 (byte "
                                  f"0x{raw[exc.start]:02x}); save the file as UTF-8") from None
        head = text.split("\n", 1)[0]
        sep = ";" if head.count(";") > head.count(",") else ","
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                           na_values=[""])
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(layer, path, f"cannot be read as a table: {exc}") from exc


def parse_number(value: object) -> float:
    """Parse '1.234,5' (German), '1234.5', '45 %' or '' into a float (NaN when empty)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    text = str(value).strip().replace("%", "").replace("\u00a0", "").replace(" ", "")
    if not text or text in {"-", "k.A.", "n/a"}:
        return float("nan")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    return float(text)
