"""Derive the industrial excess-heat fact table from the staged Hotmaps file (SOURCES.md §3).

    .venv/bin/python layers/facts/derive_industrial_heat.py [RAW_DIR]   # default ../shared/data/raw

writes ``layers/facts/industrial_heat.csv`` next to this script: every installation of
``hotmaps_industrial_sites/nrw_hotmaps_industrial_sites.geojson`` (the Hotmaps Industrial Database
clipped by the stager to NRW + 10 km: 298 points, all with coordinates), with the columns

``installation_id`` (SiteID), ``name`` (SiteName, else CompanyName), ``company`` (CompanyName),
``sector`` (Subsector), ``excess_heat_gwh`` (Excess_Heat_Total, GWh/a, unchanged: 0 stays 0),
``city``, ``country``, ``lon``, ``lat`` (WGS84, rounded to 6 decimals, about 0.1 m) and ``in_nrw``
(the stager's flag: inside the DVG2 state boundary).

Rows are sorted by SiteID so that a re-run gives the same file byte for byte
(tests/layers/test_waste_heat.py re-derives it and compares).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyogrio

HERE = Path(__file__).resolve().parent
DEFAULT_RAW = HERE.parents[2] / "shared" / "data" / "raw"
HOTMAPS_FILE = "hotmaps_industrial_sites/nrw_hotmaps_industrial_sites.geojson"


def derive_industrial_heat(raw: Path) -> pd.DataFrame:
    """The staged Hotmaps installations as the fact table (see the module docstring)."""
    src = pyogrio.read_dataframe(raw / HOTMAPS_FILE)
    if src.crs is None or src.crs.to_epsg() != 4326:
        raise ValueError(f"{HOTMAPS_FILE}: expected WGS84 (EPSG:4326), found {src.crs}")

    def text(col: str) -> pd.Series:
        return (
            src[col].astype(object).where(src[col].notna() & (src[col].astype(str).str.strip() != ""), None)
        )

    site, company = text("SiteName"), text("CompanyName")
    out = pd.DataFrame(
        {
            "installation_id": src["SiteID"].astype(int),
            "name": site.where(site.notna(), company),
            "company": company,
            "sector": text("Subsector"),
            "excess_heat_gwh": src["Excess_Heat_Total"].astype(float).round(2),
            "city": text("City"),
            "country": text("Country"),
            "lon": src.geometry.x.round(6),
            "lat": src.geometry.y.round(6),
            "in_nrw": src["in_nrw"].astype(bool),
        }
    )
    return out.sort_values("installation_id").reset_index(drop=True)


def main(argv: list[str]) -> None:
    """Write industrial_heat.csv from RAW_DIR (default ../shared/data/raw)."""
    raw = Path(argv[1]) if len(argv) > 1 else DEFAULT_RAW
    frame = derive_industrial_heat(raw)
    frame.to_csv(HERE / "industrial_heat.csv", index=False, lineterminator="\n")
    print(f"industrial_heat.csv: {len(frame)} installations, {int(frame['in_nrw'].sum())} in NRW")


if __name__ == "__main__":
    main(sys.argv)
