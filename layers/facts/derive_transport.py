"""Derive the transport fact tables from the staged files (SOURCES.md §7 and §8).

    .venv/bin/python layers/facts/derive_transport.py [RAW_DIR]   # default ../shared/data/raw

writes ``layers/facts/rail_stations.csv`` and ``layers/facts/airports.csv`` next to this script.

- rail_stations.csv: the stations of ``transport/db_haltestellen_2020_nrw10km.gpkg`` (DB
  Haltestellendaten 2020, clipped to NRW + 10 km) with ``Verkehr`` FV or RV; "nur DPN" stops
  (served only by non-DB regional operators) are left out to keep the table small. Columns:
  ``eva_nr, ds100, name, traffic, lon, lat, in_nrw`` from ``EVA_NR, DS100, NAME, Verkehr, Laenge,
  Breite, in_nrw``; values unchanged, coordinates rounded to 6 decimals (as in the source).
- airports.csv: every row of ``transport/openflights_airports_nrw10km.gpkg`` (OpenFlights, NRW +
  10 km). Columns ``airport_id, iata, icao, name, lon, lat, commercial, in_nrw`` from ``Airport
  ID, IATA, ICAO, Name, Longitude, Latitude, in_nrw``; ``commercial`` is ``IATA in
  layers.transport.COMMERCIAL_IATA`` (the documented list).

``in_nrw`` is the stager's flag: the point lies inside the DVG2 state boundary. Rows are sorted
by id so that a re-run gives the same file byte for byte (tests/layers/test_transport.py checks it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyogrio

HERE = Path(__file__).resolve().parent
DEFAULT_RAW = HERE.parents[2] / "shared" / "data" / "raw"
STATIONS_FILE = "transport/db_haltestellen_2020_nrw10km.gpkg"
AIRPORTS_FILE = "transport/openflights_airports_nrw10km.gpkg"


def derive_rail_stations(raw: Path) -> pd.DataFrame:
    """FV and RV stations of the staged DB file, reduced columns."""
    src = pyogrio.read_dataframe(raw / STATIONS_FILE, read_geometry=False)
    src = src[src["Verkehr"].isin(["FV", "RV"])]
    out = pd.DataFrame(
        {
            "eva_nr": src["EVA_NR"].astype(str),
            "ds100": src["DS100"],
            "name": src["NAME"],
            "traffic": src["Verkehr"],
            "lon": src["Laenge"].round(6),
            "lat": src["Breite"].round(6),
            "in_nrw": src["in_nrw"].astype(bool),
        }
    )
    return out.sort_values("eva_nr").reset_index(drop=True)


def derive_airports(raw: Path) -> pd.DataFrame:
    """All staged OpenFlights rows with the commercial flag of ``layers.transport``."""
    from layers.transport import COMMERCIAL_IATA

    src = pyogrio.read_dataframe(raw / AIRPORTS_FILE, read_geometry=False)
    out = pd.DataFrame(
        {
            "airport_id": src["Airport ID"].astype(int),
            "iata": src["IATA"],
            "icao": src["ICAO"],
            "name": src["Name"],
            "lon": src["Longitude"].round(6),
            "lat": src["Latitude"].round(6),
            "commercial": src["IATA"].isin(COMMERCIAL_IATA),
            "in_nrw": src["in_nrw"].astype(bool),
        }
    )
    out = out.sort_values("airport_id").reset_index(drop=True)
    out["airport_id"] = out["airport_id"].astype(str)
    return out


def main(argv: list[str]) -> int:
    """Write both fact tables from RAW_DIR (default ../shared/data/raw)."""
    raw = Path(argv[0]) if argv else DEFAULT_RAW
    for name, frame in (
        ("rail_stations.csv", derive_rail_stations(raw)),
        ("airports.csv", derive_airports(raw)),
    ):
        frame.to_csv(HERE / name, index=False, lineterminator="\n")
        print(f"{name}: {len(frame)} rows")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1]))
    raise SystemExit(main(sys.argv[1:]))
