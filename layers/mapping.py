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

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.errors import SourceError, rows_text
from layers.schema import NUMERIC, SCHEMAS


def apply_mapping(layer: str, src: gpd.GeoDataFrame, cfg: dict[str, Any], path: Path | None,
                  fill: dict[str, Any]) -> gpd.GeoDataFrame:
    """Rename source columns to canonical ones and translate code values.

    ``fill`` gives values for canonical columns the source need not have (e.g. ``unknown``).
    Every unmapped code value, missing source column or numeric key is reported at once.
    """
    schema = SCHEMAS[layer]
    columns: dict[str, str] = dict(cfg.get("columns", {}))
    values: dict[str, dict[str, str]] = dict(cfg.get("values", {}))
    defaults: dict[str, Any] = dict(cfg.get("defaults", {}))
    problems: list[str] = []

    unknown = [c for c in list(columns) + list(values) + list(defaults) if c not in schema.columns]
    if unknown:
        problems.append(f"unknown canonical field(s) {', '.join(sorted(set(unknown)))}; "
                        f"known: {', '.join(schema.columns)}")
    absent = [f"{canon} = \"{col}\"" for canon, col in columns.items() if col not in src.columns]
    if absent:
        problems.append(f"source column(s) not in file: {', '.join(absent)}; the file has: "
                        f"{', '.join(c for c in src.columns if c != 'geometry')}")
    if problems:
        raise SourceError(layer, path, problems)

    out = pd.DataFrame(index=src.index)
    for canon in schema.columns:
        if canon in columns:
            col = src[columns[canon]]
            if canon in schema.keys and pd.api.types.is_numeric_dtype(col):
                problems.append(
                    f"column '{columns[canon]}' holds {canon} keys as numbers (e.g. {col.iloc[0]}); "
                    "AGS keys are 8-character strings with a leading zero: store the column as text")
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
            problems.append(f"no source for required field '{canon}': add it under [{layer}.columns] "
                            f"or [{layer}.defaults]")

    for canon, table in values.items():
        if canon not in out.columns:
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
                f"add them to [{layer}.values.{canon}] mapping to one of {', '.join(sorted(allowed))}")
        out[canon] = mapped
    if problems:
        raise SourceError(layer, path, problems)
    return gpd.GeoDataFrame(out, geometry=src.geometry.values, crs=src.crs)
