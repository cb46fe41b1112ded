"""The ``facts`` format of rail_stations and airports (no ``path``): the built-in fact tables.

``layers/facts/rail_stations.csv`` (DB Haltestellendaten 2020, FV and RV, NRW + 10 km) and
``layers/facts/airports.csv`` (OpenFlights, NRW + 10 km, with the commercial flag); their
provenance is in layers/facts/README.md.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geo.crs import WORK_CRS, transformer
from layers import transport  # noqa: F401  # registers the transport schemas that check() reads
from layers.schema import check

FACT_FILES = {"rail_stations": "facts/rail_stations.csv", "airports": "facts/airports.csv"}


def read_station_facts(path: Path | None = None, cfg: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """The built-in rail station fact table (DB Haltestellendaten 2020, FV and RV, NRW + 10 km)."""
    f = _fact_table("rail_stations")
    to_utm = transformer(4326, 25832)
    x, y = to_utm.transform(f["lon"].astype(float).to_numpy(), f["lat"].astype(float).to_numpy())
    out = gpd.GeoDataFrame(
        {
            "eva_nr": f["eva_nr"],
            "ds100": f["ds100"].where(f["ds100"].notna(), None),
            "name": f["name"],
            "traffic": f["traffic"],
            "long_distance": (f["traffic"] == "FV").to_numpy(dtype=bool),
            "source": "DB Haltestellendaten",
        },
        geometry=shapely.points(x, y),
        crs=WORK_CRS,
    )
    return check("rail_stations", out, f"layers/{FACT_FILES['rail_stations']}")


def read_airport_facts(path: Path | None = None, cfg: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """The built-in airport fact table (OpenFlights, NRW + 10 km, with the commercial flag)."""
    f = _fact_table("airports")
    to_utm = transformer(4326, 25832)
    x, y = to_utm.transform(f["lon"].astype(float).to_numpy(), f["lat"].astype(float).to_numpy())
    out = gpd.GeoDataFrame(
        {
            "airport_id": f["airport_id"],
            "name": f["name"],
            "iata": f["iata"].where(f["iata"].notna(), None),
            "icao": f["icao"].where(f["icao"].notna(), None),
            "commercial": f["commercial"].str.casefold().eq("true").to_numpy(dtype=bool),
            "source": "OpenFlights",
        },
        geometry=shapely.points(x, y),
        crs=WORK_CRS,
    )
    return check("airports", out, f"layers/{FACT_FILES['airports']}")


def _fact_table(layer: str) -> pd.DataFrame:
    with resources.files("layers").joinpath(FACT_FILES[layer]).open("rb") as f:
        return pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
