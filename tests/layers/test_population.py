"""The population layer: the Zensus grid reader, its bad input, the registration and the demo grid.

``layers.population`` registers a plug-in layer when imported. The ``pop`` fixture imports it
with ``tests.layers._plugins.plugin``, which takes the registration back afterwards, so the other
tests of the session (demo builds) do not see the layer before the lead adds it to
layers/sources.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from layers.errors import SourceError
from tests.layers._plugins import plugin

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "population"
HEADER = "GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner\n"
KOELN = "CRS3035RES100mN3096600E4107200;4107250;3096650;12\n"


@pytest.fixture(scope="module")
def pop() -> Iterator[ModuleType]:
    """layers.population, registered for the module's tests only (tests/layers/_plugins.py)."""
    with plugin("layers.population", "layers.population_demo") as (population, _):
        yield population


def _expected(path: Path, size: float, spec: Any) -> np.ndarray:
    """The grid computed independently: pyproj, then the cell holding each transformed centre."""
    df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    x = df.iloc[:, 1].astype(float).to_numpy()
    y = df.iloc[:, 2].astype(float).to_numpy()
    n = pd.to_numeric(df.iloc[:, 3], errors="coerce").fillna(0).to_numpy()
    tx, ty = Transformer.from_crs(3035, 25832, always_xy=True).transform(x, y)
    out = np.zeros(spec.shape)
    for xx, yy, nn in zip(tx, ty, n, strict=True):
        col, row = int((xx - spec.x0) // size), int((spec.y1 - yy) // size)
        if 0 <= col < spec.nx and 0 <= row < spec.ny:
            out[row, col] += nn
    return out


def test_grid_covers_nrw_plus_30_km(pop: ModuleType) -> None:
    s = pop.POP_GRID_100M
    assert (s.res, s.nx, s.ny) == (100.0, 3120, 3040)
    assert s.bounds == (250_000.0, 5_547_000.0, 562_000.0, 5_851_000.0)
    k = pop.POP_GRID_1KM
    assert (k.res, k.nx, k.ny) == (1000.0, 312, 304) and k.bounds == s.bounds


def test_reads_the_100m_grid_by_transformed_centre(pop: ModuleType) -> None:
    cov = pop.read_zensus_grid(FIX / "zensus_100m.csv", {})
    assert cov.resolution == "grid_100m" and cov.spec == pop.POP_GRID_100M
    assert cov.grid.dtype == np.float32 and not np.isnan(cov.grid).any()
    np.testing.assert_array_equal(cov.grid, _expected(FIX / "zensus_100m.csv", 100.0, cov.spec))
    # 17 lines: München lies off the grid; 3 withheld cells ('–' twice, one empty) count as 0
    assert (cov.cells, cov.outside, cov.withheld) == (16, 1, 3)
    assert cov.grid.sum() == 12 + 57 + 133 + 8 + 240 + 96 + 31 + 3 + 75 + 410 + 27 + 1520 + 64
    stats = cov.stats()
    assert stats["withheld"] == 3 and stats["outside"] == 1 and stats["nodata"] == 0
    assert stats["residents"] == 2676.0 and stats["values"] == int(np.count_nonzero(cov.grid))
    assert cov.attrs == {"cells_withheld": 3, "cells_placed": 16, "cells_outside": 1}  # the manifest's


def test_reads_the_1km_grid(pop: ModuleType) -> None:
    cov = pop.read_zensus_grid(FIX / "zensus_1km.csv", {})
    assert cov.resolution == "grid_1km" and cov.spec.res == 1000.0
    np.testing.assert_array_equal(cov.grid, _expected(FIX / "zensus_1km.csv", 1000.0, cov.spec))
    assert (cov.cells, cov.outside, cov.withheld, float(cov.grid.sum())) == (3, 1, 1, 8123.0 + 2210.0)


def test_reads_in_chunks_and_windows_1252(pop: ModuleType, tmp_path: Path, monkeypatch: Any) -> None:
    text = (FIX / "zensus_100m.csv").read_text(encoding="utf-8")
    f = tmp_path / "cp1252.csv"
    f.write_bytes(text.encode("cp1252"))
    monkeypatch.setattr(pop, "CHUNK", 3)
    cov = pop.read_zensus_grid(f, {})
    assert (cov.cells, cov.withheld, float(cov.grid.sum())) == (16, 3, 2676.0)


def _refused(pop: ModuleType, tmp_path: Path, text: str) -> str:
    f = tmp_path / "bad.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as exc:
        pop.read_zensus_grid(f, {})
    message = str(exc.value)
    assert str(f) in message and "population" in message
    return message


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (HEADER.replace(";", ","), ["line 1", "comma", "';'-separated"]),
        (HEADER.replace(";", "\t"), ["line 1", "tab"]),
        ("ID;x;y;Einwohner\n" + KOELN, ["line 1", "not a Zensus grid", "GITTER_ID_100m;x_mp_100m"]),
        (HEADER + KOELN + "X;356250;5645650;7\n", ["outside Germany", "line 3", "another CRS"]),
        (HEADER + KOELN + "X;4107250;3096650;viele\n", ["not a number", "line 3", "'viele'"]),
        (HEADER + "X;4107250;3096650;-4\n" + KOELN, ["counts below 0", "line 2", "'-4'"]),
        (HEADER + "X;abc;3096650;4\n", ["coordinates that are not numbers", "line 2", "'abc'"]),
        (HEADER + "X;4107200;3096650;4\n", ["not 100m cell centres", "line 2"]),
        (HEADER, ["no data lines"]),
        (HEADER + "X;4437850;2781950;5\n", ["none of the 1 cells lies within NRW + 30 km"]),
    ],
)
def test_bad_input_is_refused_with_file_line_and_reason(
    pop: ModuleType, tmp_path: Path, text: str, expect: list[str]
) -> None:
    message = _refused(pop, tmp_path, text)
    for part in expect:
        assert part in message


def test_problems_list_lines_and_truncate_hostile_values(pop: ModuleType, tmp_path: Path) -> None:
    lines = [KOELN] + [f"X;4107250;3096650;{'A' * 5000}\n" for _ in range(500)]
    message = _refused(pop, tmp_path, HEADER + "".join(lines))
    assert "500 line(s)" in message and "line 3, 4, 5" in message and "+480 more" in message
    assert "A" * 21 not in message and len(message) < 1000


def test_cut_off_line_is_refused_with_its_line(pop: ModuleType, tmp_path: Path) -> None:
    # a file cut off inside a coordinate; a line cut off before its count reads as withheld ("")
    message = _refused(pop, tmp_path, HEADER + KOELN + "CRS3035RES100mN3096600E4107200;4107250;30966")
    assert "line 3" in message and "outside Germany" in message


def test_registered_as_a_grid_layer_and_read_from_sources_toml(pop: ModuleType, tmp_path: Path) -> None:
    from layers import sources

    spec = sources.PLUGIN_LAYERS["population"]
    assert spec.kind == "grid" and spec.schema is None and "SYNTHETIC" in spec.note
    assert set(spec.formats) == {"zensus-grid"} and spec.formats["zensus-grid"].licence == "dl-de/by-2-0"
    assert "population" in sources.LAYERS
    toml = tmp_path / "sources.toml"
    muni = Path(__file__).resolve().parents[1] / "fixtures" / "dvg"
    shp = muni / "dvg2gem_nw.shp"
    toml.write_text(
        f'[municipalities]\npath = "{shp}"\nformat = "dvg"\n\n'
        f'[population]\npath = "{FIX / "zensus_100m.csv"}"\nformat = "zensus-grid"\ndate = "2022-05-15"\n',
        encoding="utf-8",
    )
    cfg = sources.load_sources(toml)
    src = cfg["population"]
    assert src.licence == "dl-de/by-2-0" and "Zensus 2022" in src.attribution
    cov = src.read()
    assert isinstance(cov, pop.PopulationGrid) and cov.withheld == 3


def test_demo_grid_sums_per_kreis_exactly(pop: ModuleType) -> None:
    from layers.municipalities import boundaries
    from layers.population_demo import generate, kreis_population, rasterize

    muni = boundaries()[["ags", "name", "kreis_ags", "kreis_name", "geometry"]]
    a = generate(np.random.default_rng(7), muni)
    b = generate(np.random.default_rng(7), muni)
    np.testing.assert_array_equal(a.grid, b.grid)  # deterministic from the rng
    g = a.grid
    assert a.spec == pop.POP_GRID_100M and g.dtype == np.float32
    assert not np.isnan(g).any() and (g >= 0).all() and (g == np.round(g)).all()
    label = rasterize(np.asarray(muni.geometry.values, dtype=object), a.spec)
    kreis = muni["kreis_ags"].to_numpy()[label[label >= 0]]
    sums = pd.Series(g[label >= 0].astype(np.int64)).groupby(kreis).sum()
    facts = kreis_population().set_index("kreis_ags")["population"]
    assert (sums == facts.loc[sums.index]).all() and int(sums.sum()) == 17_932_651
    # dense in the Rhine and Ruhr cities, sparse in the Sauerland; residents in the German margin
    km2 = (
        pd.Series(np.bincount(label[label >= 0].ravel(), minlength=len(muni)) / 100.0)
        .groupby(muni["kreis_ags"].to_numpy())
        .sum()
    )
    density = sums / km2
    assert density["05113"] > 2000 and density["05315"] > 2000 and density["05958"] < 200  # Essen, Köln
    outside = g[label < 0]
    assert 2e6 < outside.sum() < 8e6
    # none in the Netherlands: the cell of Venlo's centre (6.17 E, 51.37 N) and around it
    x, y = Transformer.from_crs(4326, 25832, always_xy=True).transform(6.17, 51.37)
    row, col, _ = a.spec.cell_of(np.array([x]), np.array([y]))
    assert g[row[0] - 20 : row[0] + 20, col[0] - 20 : col[0] + 20].sum() == 0


def test_rasterize_agrees_with_shapely(pop: ModuleType) -> None:
    from geo.grid import GridSpec
    from layers.population_demo import rasterize

    spec = GridSpec(x0=0.0, y1=1000.0, res=10.0, nx=100, ny=100)
    ring = shapely.Polygon(
        [(105, 105), (895, 140), (700, 880), (120, 700)], [[(300, 300), (500, 300), (400, 500)]]
    )
    other = shapely.box(900, 0, 1000, 1000)
    lab = rasterize(np.array([ring, other], dtype=object), spec)
    xs, ys = spec.centres()
    gx, gy = np.meshgrid(xs, ys)
    want = np.where(shapely.contains_xy(ring, gx, gy), 0, np.where(shapely.contains_xy(other, gx, gy), 1, -1))
    assert (lab == want).mean() > 0.999 and (lab == 0).sum() > 3000


@pytest.mark.realdata
def test_fact_files_are_derived_from_the_staged_files(shared_raw: Path, tmp_path: Path) -> None:
    import importlib.util

    from tests.conftest import ROOT

    facts = ROOT / "layers" / "facts"
    spec = importlib.util.spec_from_file_location("derive_population", facts / "derive_population.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(shared_raw, tmp_path)
    for name in ("kreis_population_2018.csv", "population_margin.json"):
        assert (tmp_path / name).read_bytes() == (facts / name).read_bytes(), name


@pytest.mark.realdata
def test_demo_grid_sums_per_kreis_to_the_staged_destatis_file(pop: ModuleType, shared_raw: Path) -> None:
    """Each populated cell's Kreis found by shapely (not by the generator's raster), summed."""
    from layers.municipalities import boundaries
    from layers.population_demo import generate

    official = pd.read_csv(
        shared_raw / "destatis_kreise_2018" / "kreise_bevoelkerung_2018.csv", sep=";", dtype={"AGS": str}
    )
    official = official[official["AGS"].str.startswith("05")].set_index("AGS")["population"]
    assert len(official) == 53 and int(official.sum()) == 17_932_651
    muni = boundaries()[["ags", "name", "kreis_ags", "kreis_name", "geometry"]]
    cov = generate(np.random.default_rng(42), muni)
    rows, cols = np.nonzero(cov.grid)
    xs, ys = cov.spec.centres()
    points = shapely.points(xs[cols], ys[rows])
    which_point, which_muni = shapely.STRtree(muni.geometry.values).query(points, predicate="within")
    kreis = muni["kreis_ags"].to_numpy()[which_muni]
    sums = pd.Series(cov.grid[rows[which_point], cols[which_point]].astype(np.int64)).groupby(kreis).sum()
    assert sorted(sums.index) == sorted(official.index)
    # the generator's own cell assignment gives the official totals exactly ...
    from layers.population_demo import rasterize

    label = rasterize(np.asarray(muni.geometry.values, dtype=object), cov.spec)[rows, cols]
    own = pd.Series(cov.grid[rows, cols][label >= 0].astype(np.int64))
    own_sums = own.groupby(muni["kreis_ags"].to_numpy()[label[label >= 0]]).sum()
    assert (own_sums - official.loc[own_sums.index]).abs().max() == 0
    # ... and shapely agrees but for the few cells whose centre lies on a municipal boundary
    theirs = np.full(len(rows), -1)
    theirs[which_point] = which_muni
    differ = theirs != label
    assert differ.sum() < 50
    slack = float(cov.grid[rows[differ], cols[differ]].sum())
    assert (sums - official.loc[sums.index]).abs().sum() <= 2 * slack
    centres = shapely.points(xs[cols[differ]], ys[rows[differ]])
    edges = shapely.boundary(np.asarray(muni.geometry.values))
    assert shapely.distance(centres[:, None], edges[None, :]).min(axis=1).max() < 0.01
