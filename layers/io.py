"""Opening vector and table files: CRS checks, zone-prefix detection, reprojection to EPSG:25832."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Literal

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
    """Return the hex SHA-256 of a file; of a directory, over its files' names and contents."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            h.update(str(file.relative_to(path)).encode() + b"\0")
        with open(file, "rb") as f:
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
    sheet, every cell as a string. ``attrs["number_format"]`` says how the CSV writes numbers
    (``"de"`` for ``;``, ``"en"`` for ``,``; none for xlsx, whose text cells may be either).
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
                line = raw[: exc.start].count(b"\n") + 1
                raise SourceError(
                    layer,
                    path,
                    f"line {line} is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
                ) from None
        head = text.split("\n", 1)[0]
        sep = ";" if head.count(";") > head.count(",") else ","
        table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""])
        # the number format of the file type: ';' CSVs are German (Excel's German export),
        # ',' CSVs cannot hold decimal commas unquoted, so English; a source may declare its own
        table.attrs["number_format"] = "de" if sep == ";" else "en"
        return table
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(layer, path, f"cannot be read as a table: {exc}") from exc


NumberFormat = Literal["de", "en"]
NUMBER_FORMATS: dict[str, tuple[str, str]] = {"de": (",", "."), "en": (".", ",")}  # decimal, group
_GROUPED = {
    f: re.compile(rf"^[+-]?[1-9]\d{{0,2}}(\{g}\d{{3}})+(\{d}\d+)?$") for f, (d, g) in NUMBER_FORMATS.items()
}
_PLAIN = {
    "de": re.compile(r"^[+-]?(\d+(,\d*)?|,\d+)$"),
    "en": re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"),
}
NA_WORDS = frozenset({"-", "k.A.", "n/a", "n.v.", "NA"})


def number_format(cfg: dict[str, object], table: pd.DataFrame | None = None) -> str | None:
    """A source's number format: declared in sources.toml (``number_format = "de"``), else the
    one its file type implies (``read_table``'s ``attrs``), else none (ambiguity is an error).
    """
    declared = cfg.get("number_format")
    if declared is not None:
        return str(declared)
    return None if table is None else table.attrs.get("number_format")


class AmbiguousNumber(ValueError):
    """A number that German and English formats read differently ('1.234'), with no format
    declared: an error, not a guess.
    """


def _read_as(text: str, fmt: str) -> float | None:
    decimal, group = NUMBER_FORMATS[fmt]
    if _GROUPED[fmt].match(text):
        return float(text.replace(group, "").replace(decimal, "."))
    if _PLAIN[fmt].match(text):
        return float(text.replace(decimal, "."))
    return None


def parse_number(value: object, number_format: str | None = None) -> float:
    """Parse a number cell: ``'1.234,5'`` (German: ``.`` groups thousands, ``,`` is the
    decimal), ``'1,234.5'`` (English), ``'45 %'`` or ``''`` (NaN).

    ``number_format`` (``"de"`` or ``"en"``) declares the file's format: ``parse_number("1.234",
    "de") == 1234.0``, ``parse_number("1.234", "en") == 1.234``; a cell that is not a number in
    that format raises ValueError (``"1.5"`` in German). Without a declared format a cell is read
    when both formats agree or only one fits (``"1.5"``, ``"1,5"``, ``"1.234,5"``, ``"1234"``),
    and raises AmbiguousNumber when they disagree (``"1.234"``, ``"1,234"``). Spaces (also
    no-break and thin spaces) group thousands in both. Numbers that are already numbers pass.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    if number_format is not None and number_format not in NUMBER_FORMATS:
        raise ValueError(f"unknown number format {str(number_format)[:10]!r}; use 'de' or 'en'")
    text = str(value).strip().replace("%", "")
    text = re.sub(r"[\s\u00a0\u2009\u202f]", "", text)
    if not text or text in NA_WORDS:
        return float("nan")
    formats = [number_format] if number_format else list(NUMBER_FORMATS)
    readings = {f: v for f in formats if (v := _read_as(text, f)) is not None}
    if not readings:
        what = {"de": " in German format", "en": " in English format"}.get(number_format or "", "")
        raise ValueError(f"{text[:20]!r} is not a number{what}")
    found = set(readings.values())
    if len(found) > 1:
        raise AmbiguousNumber(
            f"{text[:20]!r} is ambiguous: {readings['de']:g} in German, "
            f"{readings['en']:g} in English; declare number_format = "
            '"de" or "en" for this file'
        )
    return found.pop()
