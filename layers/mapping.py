"""The `mapped` format: any OGR file plus column and code mappings from sources.toml.

```toml
[brownfields.columns]               # canonical field = source column
area_id = "FL_NR"
[brownfields.values.contamination]  # source value = canonical value
"ja" = "confirmed"
[brownfields.defaults]              # canonical field = constant for every row
plan = "Regionalplan Düsseldorf"
```
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.availability import RESTRICTIONS, SEPARATORS
from layers.errors import SourceError, rows_text
from layers.schema import FALSE_WORDS, LAND, NUMERIC, OPTIONAL_DEFAULTS, SCHEMAS, TRUE_WORDS, Schema


def apply_mapping(
    layer: str, src: gpd.GeoDataFrame, cfg: dict[str, Any], path: Path | None, fill: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Rename source columns to canonical ones and translate code values.

    ``fill`` gives values for canonical columns the source need not have (e.g. ``unknown``).
    Every unmapped code value, missing source column or numeric key is reported at once.
    """
    schema = SCHEMAS[layer]
    columns: dict[str, str] = dict(cfg.get("columns", {}))
    values: dict[str, dict[str, str]] = dict(cfg.get("values", {}))
    defaults: dict[str, Any] = dict(cfg.get("defaults", {}))
    problems = _config_problems(schema, src, columns, values, defaults)
    if problems:
        raise SourceError(layer, path, problems)

    out = pd.DataFrame(index=src.index)
    _required_fields(layer, schema, src, out, columns, defaults, fill, problems)
    for canon in schema.optional:  # confidential and land fields: mapped, default or empty
        out[canon] = (
            src[columns[canon]].to_numpy(object)
            if canon in columns
            else defaults.get(canon, OPTIONAL_DEFAULTS.get(canon))
        )
    _translate_codes(layer, schema, out, columns, values, problems)
    _type_optional_fields(layer, schema, out, columns, values, problems)  # then their types
    if problems:
        raise SourceError(layer, path, problems)
    return gpd.GeoDataFrame(out, geometry=src.geometry.values, crs=src.crs)


def _config_problems(
    schema: Schema,
    src: gpd.GeoDataFrame,
    columns: dict[str, str],
    values: dict[str, dict[str, str]],
    defaults: dict[str, Any],
) -> list[str]:
    """Mapped fields the layer does not have, and mapped source columns the file does not have."""
    problems: list[str] = []
    known = (*schema.columns, *schema.optional)
    unknown = [c for c in list(columns) + list(values) + list(defaults) if c not in known]
    if unknown:
        problems.append(
            f"unknown canonical field(s) {', '.join(sorted(set(unknown)))}; known: {', '.join(known)}"
        )
    absent = [f'{canon} = "{col}"' for canon, col in columns.items() if col not in src.columns]
    if absent:
        problems.append(
            f"source column(s) not in file: {', '.join(absent)}; the file has: "
            f"{', '.join(c for c in src.columns if c != 'geometry')}"
        )
    return problems


def _required_fields(
    layer: str,
    schema: Schema,
    src: gpd.GeoDataFrame,
    out: pd.DataFrame,
    columns: dict[str, str],
    defaults: dict[str, Any],
    fill: dict[str, Any],
    problems: list[str],
) -> None:
    """Fill ``out``'s canonical columns from a source column, a default, ``fill`` or numbered ids."""
    for canon in schema.columns:
        if canon in columns:
            col = src[columns[canon]]
            if canon in schema.keys and pd.api.types.is_numeric_dtype(col):
                problems.append(
                    f"column '{columns[canon]}' holds {canon} keys as numbers (e.g. {col.iloc[0]}); "
                    "AGS keys are 8-character strings with a leading zero: store the column as text"
                )
            if canon in NUMERIC:
                out[canon] = pd.to_numeric(col, errors="coerce")
            else:
                out[canon] = col.map(lambda v: None if pd.isna(v) else str(v).strip())
        elif canon in defaults:
            out[canon] = defaults[canon]
        elif canon in fill:
            out[canon] = fill[canon]
        elif canon == schema.id_column:
            out[canon] = [f"{layer}-{i + 1}" for i in range(len(src))]
        else:
            problems.append(
                f"no source for required field '{canon}': add it under [{layer}.columns] "
                f"or [{layer}.defaults]"
            )


def _translate_codes(
    layer: str,
    schema: Schema,
    out: pd.DataFrame,
    columns: dict[str, str],
    values: dict[str, dict[str, str]],
    problems: list[str],
) -> None:
    """Replace source values by canonical codes ([layer.values.<field>]); report unmapped ones."""
    for canon, table in values.items():
        if canon not in out.columns or schema.optional.get(canon) == "list":  # lists: per item
            continue
        table = {str(k): v for k, v in table.items()}
        allowed = set(schema.codes.get(canon, ()))
        raw = out[canon]
        mapped = raw.map(lambda v, t=table: t.get(str(v), v) if v is not None else None)
        bad = mapped.notna() & ~mapped.isin(allowed) if allowed else pd.Series(False, index=raw.index)
        if bad.any():
            seen = sorted({str(v) for v in raw[bad]})
            problems.append(
                f"unmapped value(s) {', '.join(repr(s) for s in seen[:8])} in column "
                f"'{columns.get(canon, canon)}' (rows {rows_text(list(np.flatnonzero(bad.to_numpy())))}): "
                f"add them to [{layer}.values.{canon}] mapping to one of {', '.join(sorted(allowed))}"
            )
        out[canon] = mapped


def _type_optional_fields(
    layer: str,
    schema: Schema,
    out: pd.DataFrame,
    columns: dict[str, str],
    values: dict[str, dict[str, str]],
    problems: list[str],
) -> None:
    """Parse the optional fields by their type: booleans, numbers, stripped strings (empty is null)."""
    for canon, kind in schema.optional.items():
        if kind == "boolean":
            out[canon] = _booleans(out[canon], canon, columns.get(canon, canon), problems)
        elif kind == "number":
            out[canon] = _numbers(out[canon], canon, columns.get(canon, canon), problems)
        elif kind == "date":
            out[canon] = _dates(out[canon], canon, columns.get(canon, canon), problems)
        elif kind == "list":
            table = {str(k): v for k, v in values.get(canon, {}).items()}
            out[canon] = _lists(
                out[canon], f"{layer}.values.{canon}", columns.get(canon, canon), table, problems
            )
        else:
            empty = OPTIONAL_DEFAULTS[canon] if canon in LAND else None  # availability: unknown
            out[canon] = pd.Series(
                [
                    empty if v is None or pd.isna(v) or not str(v).strip() else str(v).strip()
                    for v in out[canon]
                ],
                index=out.index,
                dtype=object,
            )


def _numbers(col: pd.Series, canon: str, source: str, problems: list[str]) -> pd.Series:
    """Numbers (a decimal comma is accepted); empty is null; anything else is reported."""

    def parse(v: Any) -> float | None:
        if v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip():
            return np.nan
        if isinstance(v, (bool, np.bool_)):
            return None
        try:
            x = float(str(v).strip().replace(",", "."))
        except ValueError:
            return None
        return x if np.isfinite(x) and x >= 0 else None

    out = col.map(parse)
    bad = out.isna().to_numpy(bool) & ~col.map(
        lambda v: v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip()
    ).to_numpy(bool)
    if bad.any():
        problems.append(
            f"column '{source}' must hold numbers ≥ 0 for {canon} "
            f"(rows {rows_text(list(np.flatnonzero(bad)))})"
        )
    return out.astype(float)


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip()


def _dates(col: pd.Series, canon: str, source: str, problems: list[str]) -> pd.Series:
    """Dates as ISO text: dates, ``YYYY-MM-DD``, ``DD.MM.YYYY``, ``YYYY-MM`` (its first day)."""

    def parse(v: Any) -> str | None:
        if _empty(v):
            return None
        if isinstance(v, dt.datetime | pd.Timestamp):
            return v.date().isoformat()
        if isinstance(v, dt.date):
            return v.isoformat()
        text = str(v).strip()
        for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%Y-%m"):
            try:
                return dt.datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
        return "bad"

    out = col.map(parse)
    bad = (out == "bad").to_numpy(bool)
    if bad.any():
        problems.append(
            f"column '{source}' must hold dates (YYYY-MM-DD, DD.MM.YYYY or YYYY-MM) for {canon} "
            f"(rows {rows_text(list(np.flatnonzero(bad)))})"
        )
    return out.map(lambda v: None if v == "bad" else v).astype(object)


def _lists(col: pd.Series, where: str, source: str, table: dict[str, str], problems: list[str]) -> pd.Series:
    """Lists separated by ``;``, ``,`` or ``|``, each item mapped by ``[layer.values.<field>]`` to a
    code of ``RESTRICTIONS`` or ``none``; stored ``;``-joined in canonical order (``""``: checked,
    none found; empty: not checked)."""
    unmapped: dict[str, list[int]] = {}

    def parse(i: int, v: Any) -> str | None:
        if _empty(v):
            return None
        items = [table.get(x.strip(), x.strip()) for x in SEPARATORS.split(str(v)) if x.strip()]
        for x in items:
            if x not in RESTRICTIONS and x != "none":
                unmapped.setdefault(x, []).append(i)
        return ";".join(c for c in RESTRICTIONS if c in items)

    out = pd.Series([parse(i, v) for i, v in enumerate(col)], index=col.index, dtype=object)
    if unmapped:
        rows = sorted({r for rs in unmapped.values() for r in rs})
        problems.append(
            f"unmapped value(s) {', '.join(repr(s) for s in sorted(unmapped)[:8])} in column '{source}' "
            f"(rows {rows_text(rows)}): add them to [{where}] mapping to one of "
            f"{', '.join(RESTRICTIONS)} or none"
        )
    return out


def _booleans(col: pd.Series, canon: str, source: str, problems: list[str]) -> pd.Series:
    """true/false, ja/nein, yes/no, 1/0 (any case) as booleans; empty is true for ``public``."""

    def parse(v: Any) -> Any:
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if v is None or (isinstance(v, float) and np.isnan(v)) or not str(v).strip():
            return OPTIONAL_DEFAULTS.get(canon)
        text = str(v).strip().lower()
        if text.endswith(".0"):
            text = text[:-2]
        return True if text in TRUE_WORDS else False if text in FALSE_WORDS else "bad"

    out = col.map(parse)
    bad = (out == "bad").to_numpy(bool)
    if bad.any():
        problems.append(
            f"column '{source}' must hold true/false (ja/nein, 1/0) for {canon} "
            f"(rows {rows_text(list(np.flatnonzero(bad)))})"
        )
    return out.map(lambda v: v if v != "bad" else None)
