"""Derive the population facts of the demo from the staged official files (issue 21 §5).

Run: ``.venv/bin/python layers/facts/derive_population.py [RAW_DIR]`` (default ``../shared/data/raw``).

- ``kreis_population_2018.csv``: the 53 NRW Kreise (``kreis_ags`` 5-digit text, ``name``,
  ``population``) from ``destatis_kreise_2018/kreise_bevoelkerung_2018.csv`` (Destatis GV-ISys,
  31.12.2018; SOURCES.md §10), rows whose AGS starts with ``05``, in key order; the total must be
  17,932,651.
- ``population_margin.json``: for the demo grid's 30 km margin outside NRW, the German neighbour
  Kreise of ``bkg_vg250_kreise/vg250_kreise_2025_nrw_umland.gpkg`` (BKG VG250, 01.01.2025;
  SOURCES.md §6: the Kreise within 10 km of NRW, not in NRW), their 2018 population and area
  from the Destatis file, the mean density (persons/km²), and the union of their land areas,
  clipped to NRW's extent + 30 km, simplified (Douglas-Peucker 500 m) and rounded to 10 m, as
  EPSG:25832 WKT. Everything outside it in the margin (the Netherlands, Belgium, German land
  beyond these Kreise) gets no residents in the demo.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import shapely

HERE = Path(__file__).resolve().parent
NRW_TOTAL = 17_932_651
MARGIN_M = 30_000.0
NRW_BOUNDS = (280_000.0, 5_577_000.0, 532_000.0, 5_821_000.0)  # geo/crs.py, not imported: standalone


def kreise_2018(raw: Path) -> pd.DataFrame:
    """The Destatis Kreis table, AGS kept as text."""
    return pd.read_csv(
        raw / "destatis_kreise_2018" / "kreise_bevoelkerung_2018.csv", sep=";", dtype={"AGS": str}
    )


def nrw_table(raw: Path) -> pd.DataFrame:
    """The 53 NRW Kreise: kreis_ags, name, population (checked: the NRW total is 17,932,651)."""
    d = kreise_2018(raw)
    nrw = d[d["AGS"].str.startswith("05")].sort_values("AGS")
    out = pd.DataFrame(
        {"kreis_ags": nrw["AGS"], "name": nrw["name"], "population": nrw["population"].astype("int64")}
    )
    if len(out) != 53 or int(out["population"].sum()) != NRW_TOTAL:
        raise ValueError(
            f"expected 53 Kreise and {NRW_TOTAL:,} residents, got {len(out)}, {out['population'].sum():,}"
        )
    return out.reset_index(drop=True)


def margin(raw: Path) -> dict[str, object]:
    """The German neighbour Kreise around NRW: keys, 2018 density and their outline in the margin."""
    vg = pyogrio.read_dataframe(raw / "bkg_vg250_kreise" / "vg250_kreise_2025_nrw_umland.gpkg")
    if vg.crs is None or vg.crs.to_epsg() != 25832:
        raise ValueError("the VG250 file is expected in EPSG:25832 (SOURCES.md §6)")
    nb = vg[~vg["AGS"].str.startswith("05")]
    d = kreise_2018(raw).set_index("AGS")
    keys = sorted(set(nb["AGS"]))
    missing = [k for k in keys if k not in d.index]
    if missing:
        raise ValueError(f"neighbour Kreise without 2018 figures: {missing}")
    pop = int(d.loc[keys, "population"].sum())
    area = float(d.loc[keys, "area_km2"].sum())
    x0, y0, x1, y1 = NRW_BOUNDS
    box = shapely.box(x0 - MARGIN_M, y0 - MARGIN_M, x1 + MARGIN_M, y1 + MARGIN_M)
    union = shapely.intersection(shapely.union_all(nb.geometry.values), box)
    outline = shapely.set_precision(shapely.simplify(union, 500.0), 10.0)
    return {
        "source": "BKG VG250 Kreise 01.01.2025 (SOURCES.md §6) and Destatis GV-ISys 31.12.2018 (§10)",
        "licence": "dl-de/by-2-0: © GeoBasis-DE / BKG 2025; © Statistisches Bundesamt (Destatis), 2019",
        "kreise": keys,
        "population_2018": pop,
        "area_km2": round(area, 2),
        "density_per_km2": round(pop / area, 1),
        "crs": "EPSG:25832",
        "wkt": shapely.to_wkt(outline, rounding_precision=0),
    }


def main(raw: Path, out: Path = HERE) -> None:
    """Write both files into ``out`` (default: next to this script)."""
    table = nrw_table(raw)
    table.to_csv(out / "kreis_population_2018.csv", index=False, lineterminator="\n")
    doc = json.dumps(margin(raw), indent=1, ensure_ascii=False) + "\n"
    (out / "population_margin.json").write_text(doc, encoding="utf-8")
    print(f"{len(table)} Kreise, {table['population'].sum():,} residents")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data" / "raw")
