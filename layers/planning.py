"""Regional-plan industrial areas (GIB) and brownfields from any OGR file (format ``mapped``).

Column names differ per planning region and cadastre, so sources.toml maps them
(see layers/mapping.py). XPlanGML regional plans are read by layers/xplan.py.

Output (EPSG:25832):
- ``regional_plan``: ``area_id``, ``category`` ∈ GIB, GIB_Z, LARGE_PROJECT, ASB_GE, ``plan``, ``name``.
- ``brownfields``: ``area_id``, ``name``, ``ags``, ``former_use``, ``contamination`` ∈ none, suspected,
  confirmed, remediated, unknown; ``availability`` ∈ now, lt_1y, 1_3y, gt_3y, unknown (the
  older codes lt2y and gt2y are read as 1_3y and gt_3y, geo/availability.py).
- both may carry ``available_from`` (ISO date), ``restrictions`` (``;``-joined codes) and, the
  plan areas, ``availability`` (issue 19 §1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from geo.availability import canonical
from layers.io import read_vector
from layers.mapping import apply_mapping
from layers.schema import check

DEFAULTS = {
    "regional_plan": {
        "mapped": {"licence": "dl-de/by-2-0", "attribution": "Regionalplanungsbehörde (see sources.toml)"}
    },
    "brownfields": {
        "mapped": {"licence": "see source", "attribution": "Brachflächenkataster (see sources.toml)"}
    },
}
FILL: dict[str, dict[str, Any]] = {
    "regional_plan": {"name": None, "plan": None},
    "brownfields": {
        "name": None,
        "ags": None,
        "former_use": None,
        "contamination": "unknown",
        "availability": "unknown",
    },
}


def read_mapped(layer: str, path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Read a regional-plan or brownfield layer with the column and code mappings of ``cfg``."""
    src = read_vector(layer, path, cfg.get("layer"))
    out = apply_mapping(layer, src, cfg, path, fill=FILL[layer])
    out.geometry = shapely.force_2d(out.geometry.values)
    out["availability"] = canonical(out["availability"])
    return check(layer, out, path)
