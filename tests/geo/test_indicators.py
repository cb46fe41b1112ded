"""Indicators per site (geo/indicators.py, geo/sites.py) against independent calculations.

Every expected value is computed in the test, by hand or with a plain geopandas/shapely
calculation that works differently from the code under test (``gpd.overlay`` against explicit
100 m cell boxes instead of exactextract, ``LineString.distance`` / ``gpd.sjoin_nearest`` instead of
an STRtree over 2-point segments, ``shapely.union_all`` instead of per-site piece unions).

Fixtures are tiny hand-made geometries in EPSG:25832 near x = 350 000, y = 5 700 000 (Kreis
Recklinghausen), aligned to the 100 m analysis grid ``NRW_GRID`` (x0 = 280 000, y1 = 5 821 000).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import indicators as ind
from geo.criteria import PROFILES
from geo.errors import InvalidParameter
from geo.grid import NRW_GRID, Coverage
from geo.layer_index import LayerIndex
from geo.planning import PairAreas
from geo.scoring import Scorer
from geo.sites import PUBLIC_COLUMNS, _layer_rows, compute_indicators, derive_sites

CRS = "EPSG:25832"
NAN = float("nan")
X, Y = 350_000, 5_700_000  # a corner of a 100 m grid cell inside NRW


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(x0, y0, x1, y1)


# -- a coverage grid with a small patch of known values -------------------------------------------
# Key: (x, y) of the south-west corner of a 100 m cell → share. NaN marks a cell known to have no
# data; every cell outside the patch is NaN as well.
PATCH_ROWS = {  # y of the row's south edge → shares of the columns x = 350 000 … 350 400
    5_700_300: [0.10, 0.20, 0.30, 0.40, NAN],
    5_700_200: [0.50, 0.60, 0.70, 0.80, NAN],
    5_700_100: [0.15, 0.25, 0.35, 0.45, NAN],
    5_700_000: [0.55, 0.65, 0.75, 0.85, NAN],
}
PATCH = {(X + 100 * i, y): v for y, row in PATCH_ROWS.items() for i, v in enumerate(row)}


def grid_of(patch: dict[tuple[int, int], float]) -> Coverage:
    """The NRW grid (float32, NaN everywhere) with the patch written into its cells."""
    grid = np.full(NRW_GRID.shape, np.nan, dtype=np.float32)
    for (x, y), v in patch.items():
        row = int((NRW_GRID.y1 - (y + 100)) // 100)  # row 0 is the northern edge
        col = int((x - NRW_GRID.x0) // 100)
        grid[row, col] = v
    return Coverage("grid_100m", grid=grid)


@pytest.fixture(scope="module")
def patch_grid() -> Coverage:
    return grid_of(PATCH)


def overlay_share(
    sites: list[shapely.Geometry], patch: dict[tuple[int, int], float] = PATCH
) -> tuple[np.ndarray, np.ndarray]:
    """Independent share and data fraction: geopandas.overlay of the sites with the cell boxes."""
    site_gdf = gpd.GeoDataFrame({"sid": range(len(sites))}, geometry=sites, crs=CRS)
    cells = gpd.GeoDataFrame(
        {"value": list(patch.values())}, geometry=[box(x, y, x + 100, y + 100) for x, y in patch], crs=CRS
    )
    pieces = gpd.overlay(site_gdf, cells, how="intersection", keep_geom_type=True)
    pieces = pieces[pieces["value"].notna()]
    pieces = pieces.assign(a=pieces.area, av=pieces.area * pieces["value"])
    sums = pieces.groupby("sid")[["a", "av"]].sum().reindex(range(len(sites)), fill_value=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(sums["a"] > 0, sums["av"] / sums["a"], np.nan)
    return share, sums["a"].to_numpy() / site_gdf.area.to_numpy()


# -- coverage share on the grid ------------------------------------------------------------------
def test_site_covering_two_half_cells_gets_their_mean(patch_grid):
    # half of the 0.55 cell and half of the 0.65 cell
    share, frac = ind.grid_share(np.array([box(X + 50, Y, X + 150, Y + 100)]), patch_grid)
    assert share[0] == pytest.approx(0.60, abs=1e-6)
    assert frac[0] == pytest.approx(1.0, abs=1e-6)


SHAPES = {
    "straddles six cells": box(X + 30, Y + 120, X + 270, Y + 290),
    "triangle": shapely.Polygon([(X + 10, Y + 10), (X + 390, Y + 50), (X + 150, Y + 390)]),
    "with a hole": box(X + 20, Y + 20, X + 380, Y + 380).difference(box(X + 120, Y + 120, X + 280, Y + 280)),
    "two parts": shapely.MultiPolygon(
        [box(X + 10, Y + 10, X + 90, Y + 60), box(X + 230, Y + 310, X + 390, Y + 395)]
    ),
    "partly over no-data cells": box(X + 330, Y + 130, X + 470, Y + 260),
    "partly outside the patch": box(X - 50, Y + 350, X + 150, Y + 450),
}


@pytest.mark.parametrize("site", SHAPES.values(), ids=SHAPES.keys())
def test_grid_share_is_overlap_weighted_mean_of_overlay_with_cell_boxes(patch_grid, site):
    share, frac = ind.grid_share(np.array([site]), patch_grid)
    want_share, want_frac = overlay_share([site])
    assert share[0] == pytest.approx(want_share[0], abs=1e-6)
    assert frac[0] == pytest.approx(want_frac[0], abs=1e-6)


def test_site_partly_over_nodata_gets_share_of_the_part_with_data(patch_grid):
    # half on the 0.85 cell, half on the no-data column: the share is 0.85, not 0.425
    share, frac = ind.grid_share(np.array([box(X + 350, Y, X + 450, Y + 100)]), patch_grid)
    assert share[0] == pytest.approx(0.85, abs=1e-6)
    assert frac[0] == pytest.approx(0.5, abs=1e-6)
    share, frac = ind.grid_share(np.array([SHAPES["partly over no-data cells"]]), patch_grid)
    assert 0 < frac[0] < 1


@pytest.mark.parametrize(
    "site",
    [
        box(X + 400, Y, X + 500, Y + 400),  # the no-data column
        box(X + 5000, Y, X + 5100, Y + 100),
    ],  # far from the patch
    ids=["on no-data cells", "away from the patch"],
)
def test_site_entirely_over_nodata_is_missing_not_zero(patch_grid, site):
    share, frac = ind.grid_share(np.array([site]), patch_grid)
    assert np.isnan(share[0])
    assert frac[0] == 0.0


def test_overlapping_sites_each_get_their_own_exact_share(patch_grid):
    a = box(X + 50, Y + 50, X + 250, Y + 250)
    b = box(X + 150, Y + 150, X + 350, Y + 350)
    both, _ = ind.grid_share(np.array([a, b]), patch_grid)
    want, _ = overlay_share([a, b])
    np.testing.assert_allclose(both, want, atol=1e-6)
    alone = [ind.grid_share(np.array([s]), patch_grid)[0][0] for s in (a, b)]
    np.testing.assert_allclose(both, alone, atol=1e-12)
    assert abs(both[0] - both[1]) > 0.05  # really two different values


def test_one_hectare_site_offset_37m_is_exact_where_cell_centre_sampling_is_wrong(patch_grid):
    site = box(X + 37, Y + 137, X + 137, Y + 237)
    # overlaps 63 m × 63 m of the 0.15 cell, 37 × 63 of 0.25, 63 × 37 of 0.50, 37 × 37 of 0.60
    exact = 0.63 * 0.63 * 0.15 + 0.37 * 0.63 * 0.25 + 0.63 * 0.37 * 0.50 + 0.37 * 0.37 * 0.60
    assert exact == pytest.approx(0.3165)
    assert ind.area_ha(np.array([site]))[0] == pytest.approx(1.0)
    share, frac = ind.grid_share(np.array([site]), patch_grid)
    assert share[0] == pytest.approx(exact, abs=1e-6)
    assert frac[0] == pytest.approx(1.0, abs=1e-6)
    # cell-centre sampling keeps only the cells whose centre lies inside the site: one cell
    centres = [v for (x, y), v in PATCH.items() if site.contains(shapely.Point(x + 50, y + 50))]
    assert centres == [0.15]
    assert abs(np.mean(centres) - share[0]) > 0.16


def test_many_sites_split_over_worker_processes_get_the_same_shares(patch_grid, monkeypatch):
    sites = np.array(list(SHAPES.values()) * 3)
    serial = ind.grid_share(sites, patch_grid)
    monkeypatch.setattr(ind, "PARALLEL_MIN_SITES", 2)
    parallel = ind.grid_share(sites, patch_grid)
    np.testing.assert_allclose(parallel[0], serial[0], atol=1e-12)
    np.testing.assert_allclose(parallel[1], serial[1], atol=1e-12)
    np.testing.assert_allclose(serial[0], np.tile(overlay_share(list(SHAPES.values()))[0], 3), atol=1e-6)


# -- hydrogen: distance to the nearest segment ----------------------------------------------------
SITE = box(X, Y, X + 200, Y + 200)
LINES = {
    # 2-point line whose vertices are 10 km away but which passes 1 km west of the site
    "long 2-point": (shapely.LineString([(X - 1000, Y - 10_000), (X - 1000, Y + 10_000)]), 1000.0),
    # multi-vertex V whose middle vertex is 300 m north of the site
    "V": (shapely.LineString([(X - 500, Y + 5000), (X + 100, Y + 500), (X + 900, Y + 5000)]), 300.0),
    "touching a corner": (shapely.LineString([(X + 200, Y + 200), (X + 1000, Y + 1000)]), 0.0),
    "crossing": (shapely.LineString([(X - 100, Y + 100), (X + 300, Y + 100)]), 0.0),
    # diagonal: nearest to the south-east corner at (X + 600, Y - 400): 400·√2
    "diagonal": (shapely.LineString([(X + 500, Y - 500), (X + 1000, Y)]), 400 * math.sqrt(2)),
    "multiline": (
        shapely.MultiLineString(
            [[(X + 9000, Y), (X + 9000, Y + 900)], [(X + 700, Y + 50), (X + 800, Y + 50), (X + 800, Y + 150)]]
        ),
        500.0,
    ),
}


@pytest.mark.parametrize("line,by_hand", LINES.values(), ids=LINES.keys())
def test_distance_to_a_line_equals_shapely_distance_and_hand_value(line, by_hand):
    d, i = ind.nearest_lines(np.array([SITE]), np.array([line]))
    assert d[0] == pytest.approx(SITE.distance(line), abs=1e-9)
    assert d[0] == pytest.approx(by_hand, abs=1e-9)
    assert i[0] == 0


def test_nearest_line_among_many_matches_sjoin_nearest():
    lines = [line for line, _ in LINES.values() if SITE.distance(line) > 0]
    sites = [SITE, box(X + 3000, Y + 2000, X + 3100, Y + 2100), box(X - 2500, Y - 700, X - 2400, Y - 600)]
    d, i = ind.nearest_lines(np.array(sites), np.array(lines))
    want = gpd.sjoin_nearest(
        gpd.GeoDataFrame(geometry=sites, crs=CRS),
        gpd.GeoDataFrame({"line": range(len(lines))}, geometry=lines, crs=CRS),
        distance_col="d",
    ).sort_index()
    assert not want.index.duplicated().any()  # every site has a unique nearest line
    np.testing.assert_allclose(d, want["d"].to_numpy(), atol=1e-9)
    np.testing.assert_array_equal(i, want["line"].to_numpy())
    np.testing.assert_allclose(d, [min(s.distance(ln) for ln in lines) for s in sites], atol=1e-9)


def test_without_lines_the_distance_is_infinite_and_the_index_minus_one():
    d, i = ind.nearest_lines(np.array([SITE]), np.array([], dtype=object))
    assert d[0] == np.inf and i[0] == -1


# segments by commissioning year (deliberately not sorted)
H2_LINES = [
    LINES["V"][0],
    LINES["long 2-point"][0],
    LINES["crossing"][0],
    shapely.LineString([(X + 20_000, Y), (X + 20_000, Y + 100)]),
]
H2_YEARS = np.array([2031, 2027, 2032, 2031])
FAR = box(X - 12_100, Y, X - 12_000, Y + 100)  # nearer to the 2027 line than to later ones


def test_h2_by_year_counts_every_segment_in_service_by_that_year():
    sites = np.array([SITE, FAR])
    by_year = ind.h2_by_year(sites, np.array(H2_LINES), H2_YEARS)
    assert sorted(by_year) == [2027, 2031, 2032]
    for year, (km, yr) in by_year.items():
        for s, site in enumerate(sites):
            in_service = [
                (site.distance(ln), y) for ln, y in zip(H2_LINES, H2_YEARS, strict=True) if y <= year
            ]
            d, y = min(in_service)
            assert km[s] == pytest.approx(d / 1000, abs=1e-12)
            assert yr[s] == y
    # by hand for the site: 1 km (2027), 0.3 km (V, 2031), 0 (crossing, 2032)
    assert [by_year[y][0][0] for y in (2027, 2031, 2032)] == pytest.approx([1.0, 0.3, 0.0])
    assert [by_year[y][1][0] for y in (2027, 2031, 2032)] == [2027, 2031, 2032]
    # FAR: the 2027 line stays nearest (11 km); the year stays 2027
    assert by_year[2032][0][1] == pytest.approx(11.0)
    assert by_year[2032][1][1] == 2027


def test_a_segment_commissioned_2031_does_not_count_for_a_2030_horizon():
    by_year = ind.h2_by_year(np.array([SITE]), np.array(H2_LINES), H2_YEARS)
    km, yr = ind.pick_horizon(by_year, 2030, 1)
    assert km[0] == pytest.approx(1.0) and yr[0] == 2027
    km, yr = ind.pick_horizon(by_year, 2031, 1)
    assert km[0] == pytest.approx(0.3) and yr[0] == 2031
    km, yr = ind.pick_horizon(by_year, 2050, 1)
    assert km[0] == 0.0 and yr[0] == 2032


def test_before_the_first_commissioning_year_nothing_is_in_service():
    by_year = ind.h2_by_year(np.array([SITE, FAR]), np.array(H2_LINES), H2_YEARS)
    km, yr = ind.pick_horizon(by_year, 2026, 2)
    assert np.isnan(km).all() and np.isnan(yr).all()


def test_h2_distance_never_grows_with_later_years():
    sites = np.array([SITE, FAR, box(X + 19_000, Y + 3000, X + 19_100, Y + 3100)])
    by_year = ind.h2_by_year(sites, np.array(H2_LINES), H2_YEARS)
    kms = np.array([by_year[y][0] for y in sorted(by_year)])
    assert (np.diff(kms, axis=0) <= 0).all()


# -- municipalities and unit statistics ------------------------------------------------------------
A = box(X, Y, X + 1000, Y + 1000)  # 05562008, Kreis 05562
B = box(X + 1000, Y, X + 2000, Y + 1000)  # 05562012, Kreis 05562
C = box(X, Y - 1000, X + 1000, Y)  # 05513000, Kreis 05513 (a kreisfreie Stadt)
UNITS = np.array([A, B, C])
UNIT_AGS = np.array(["05562008", "05562012", "05513000"], dtype=object)
TWO_MUNIS = box(X + 700, Y + 400, X + 1100, Y + 600)  # 300 × 200 m in A, 100 × 200 m in B
THREE_UNITS = box(X + 700, Y - 100, X + 1100, Y + 600)  # A, B, C and 100 × 100 m outside all


def overlay_areas(site: shapely.Geometry) -> dict[str, float]:
    """Independent: area of the site in each unit with geopandas.overlay."""
    pieces = gpd.overlay(
        gpd.GeoDataFrame(geometry=[site], crs=CRS),
        gpd.GeoDataFrame({"ags": UNIT_AGS}, geometry=UNITS, crs=CRS),
        how="intersection",
        keep_geom_type=True,
    )
    areas = pieces.assign(a=pieces.area).groupby("ags")["a"].sum()
    return {str(k): float(v) for k, v in areas.items() if v > 0}


def test_unit_overlaps_lists_the_area_in_each_municipality():
    pairs = ind.unit_overlaps(np.array([TWO_MUNIS, THREE_UNITS]), UNITS)
    got = {(int(s), UNIT_AGS[u]): a for s, u, a in pairs.itertuples(index=False)}
    assert got == pytest.approx(
        {
            (0, "05562008"): 60_000.0,
            (0, "05562012"): 20_000.0,
            (1, "05562008"): 180_000.0,
            (1, "05562012"): 60_000.0,
            (1, "05513000"): 30_000.0,
        }
    )
    for s, site in enumerate((TWO_MUNIS, THREE_UNITS)):
        assert {a: v for (i, a), v in got.items() if i == s} == pytest.approx(overlay_areas(site))


def test_site_touching_a_neighbour_only_along_the_border_lies_in_one_unit():
    inside = box(X + 800, Y + 100, X + 1000, Y + 300)  # its east edge is the A/B border
    pairs = ind.unit_overlaps(np.array([inside]), UNITS)
    assert list(UNIT_AGS[pairs["unit"]]) == ["05562008"]
    assert pairs["area_m2"].tolist() == pytest.approx([40_000.0])


def test_largest_overlap_picks_the_unit_with_most_area_and_minus_one_for_none():
    sites = np.array(
        [TWO_MUNIS, box(X + 1200, Y + 100, X + 1300, Y + 200), box(X + 9000, Y, X + 9100, Y + 100)]
    )
    pairs = ind.unit_overlaps(sites, UNITS)
    best = ind.largest_overlap(pairs, len(sites))
    assert best[0] == 0 and best[1] == 1 and best[2] == -1


def test_municipal_statistics_give_the_area_weighted_mix():
    sites = np.array([TWO_MUNIS])
    pairs = ind.unit_overlaps(sites, UNITS)
    values = pd.Series({"05562008": 0.2, "05562012": 0.8, "05513000": 0.5})
    share, frac = ind.unit_share(pairs, UNIT_AGS, values, shapely.area(sites))
    assert share[0] == pytest.approx((60_000 * 0.2 + 20_000 * 0.8) / 80_000)  # 0.35
    assert frac[0] == pytest.approx(1.0)
    areas = overlay_areas(TWO_MUNIS)
    assert share[0] == pytest.approx(sum(a * values[k] for k, a in areas.items()) / TWO_MUNIS.area)


@pytest.mark.parametrize(
    "values",
    [pd.Series({"05562008": 0.2, "05562012": NAN}), pd.Series({"05562008": 0.2})],
    ids=["unit value NaN", "unit not in the table"],
)
def test_unit_with_unknown_value_is_left_out_and_lowers_the_data_fraction(values):
    sites = np.array([TWO_MUNIS])
    pairs = ind.unit_overlaps(sites, UNITS)
    share, frac = ind.unit_share(pairs, UNIT_AGS, values, shapely.area(sites))
    assert share[0] == pytest.approx(0.2)
    assert frac[0] == pytest.approx(0.75)


def test_site_in_units_without_any_value_is_missing_not_zero():
    sites = np.array([TWO_MUNIS])
    pairs = ind.unit_overlaps(sites, UNITS)
    share, frac = ind.unit_share(pairs, UNIT_AGS, pd.Series({"05513000": 0.9}), shapely.area(sites))
    assert np.isnan(share[0]) and frac[0] == 0.0


def test_municipal_coverage_share_through_coverage_share():
    sites = np.array([TWO_MUNIS, THREE_UNITS])
    pairs = ind.unit_overlaps(sites, UNITS)
    cov = Coverage("municipal", units=pd.Series({"05562008": 0.2, "05562012": 0.8, "05513000": 1.0}))
    share, frac = ind.coverage_share(sites, cov, pairs, UNIT_AGS)
    assert share == pytest.approx([0.35, (180_000 * 0.2 + 60_000 * 0.8 + 30_000 * 1.0) / 270_000])
    assert frac == pytest.approx([1.0, 270_000 / 280_000])


def test_kreis_statistics_use_the_first_five_digits_of_the_ags():
    sites = np.array([THREE_UNITS])
    pairs = ind.unit_overlaps(sites, UNITS)
    cov = Coverage("kreis", units=pd.Series({"05562": 0.5, "05513": 0.9}))
    share, frac = ind.coverage_share(sites, cov, pairs, UNIT_AGS)
    # 240 000 m² in Kreis 05562 (A + B), 30 000 m² in 05513, 10 000 m² outside every unit
    areas = overlay_areas(THREE_UNITS)
    in_05562 = areas["05562008"] + areas["05562012"]
    assert in_05562 == pytest.approx(240_000) and areas["05513000"] == pytest.approx(30_000)
    assert share[0] == pytest.approx((240_000 * 0.5 + 30_000 * 0.9) / 270_000)
    assert frac[0] == pytest.approx(270_000 / 280_000)


def test_kreis_with_unknown_value_is_left_out_of_the_mix():
    sites = np.array([THREE_UNITS])
    pairs = ind.unit_overlaps(sites, UNITS)
    cov = Coverage("kreis", units=pd.Series({"05562": NAN, "05513": 0.9}))
    share, frac = ind.coverage_share(sites, cov, pairs, UNIT_AGS)
    assert share[0] == pytest.approx(0.9)
    assert frac[0] == pytest.approx(30_000 / 280_000)


# -- brownfields ----------------------------------------------------------------------------------
def test_overlapping_brownfields_are_not_double_counted():
    site = box(X, Y, X + 200, Y + 100)
    brownfields = [
        box(X, Y, X + 100, Y + 100),
        box(X + 50, Y, X + 150, Y + 100),
        box(X + 50, Y, X + 150, Y + 100),
    ]  # the last one twice, e.g. two cadastres
    other = box(X + 5000, Y, X + 5100, Y + 100)
    single = box(X + 5000, Y + 500, X + 5100, Y + 600)
    frac = ind.brownfield_fraction(
        np.array([site, other, single]), np.array([*brownfields, box(X + 5050, Y + 500, X + 5100, Y + 600)])
    )
    want = shapely.union_all(brownfields).intersection(site).area / site.area
    assert want == pytest.approx(0.75)  # a plain sum: 3 ha of pieces on a 2 ha site
    assert frac == pytest.approx([0.75, 0.0, 0.5])


def test_site_whose_every_brownfield_overlaps_another_is_not_double_counted():
    # the only site has two overlapping brownfields and no single one
    site = box(X, Y, X + 200, Y + 100)
    frac = ind.brownfield_fraction(
        np.array([site]), np.array([box(X, Y, X + 100, Y + 100), box(X + 50, Y, X + 150, Y + 100)])
    )
    assert frac == pytest.approx([0.75])


# sites → brownfields on them; the union decides, by hand
MAJORITY = {
    "two copies of 30 %: union 30 %, sum 60 %": (
        box(X, Y, X + 100, Y + 100),
        [box(X, Y, X + 30, Y + 100)] * 2,
        False,
    ),
    "exactly half, in two overlapping pieces": (
        box(X + 1000, Y, X + 1200, Y + 100),
        [box(X + 1000, Y, X + 1080, Y + 100), box(X + 1050, Y, X + 1100, Y + 100)],
        True,
    ),
    "just under half": (box(X + 2000, Y, X + 2100, Y + 100), [box(X + 2000, Y, X + 2049, Y + 100)], False),
    "one brownfield larger than the site": (
        box(X + 3000, Y, X + 3100, Y + 100),
        [box(X + 2900, Y - 100, X + 3200, Y + 200)],
        True,
    ),
    "three pieces, 20 % each, one shared": (
        box(X + 4000, Y, X + 4100, Y + 100),
        [
            box(X + 4000, Y, X + 4020, Y + 100),
            box(X + 4040, Y, X + 4060, Y + 100),
            box(X + 4040, Y, X + 4060, Y + 100),
        ],
        False,
    ),
    "no brownfield": (box(X + 5000, Y, X + 5100, Y + 100), [], False),
}


def test_brownfield_majority_is_decided_by_the_union_of_brownfields():
    sites = np.array([s for s, _, _ in MAJORITY.values()])
    brownfields = np.array([b for _, bs, _ in MAJORITY.values() for b in bs])
    want = [want for _, _, want in MAJORITY.values()]
    by_union = [
        shapely.union_all(bs).intersection(s).area / s.area >= 0.5 if bs else False
        for s, bs, _ in MAJORITY.values()
    ]
    assert by_union == want
    assert ind.brownfield_majority(sites, brownfields).tolist() == want
    assert (ind.brownfield_fraction(sites, brownfields) >= 0.5).tolist() == want


def test_brownfield_fraction_without_brownfields_is_zero():
    frac = ind.brownfield_fraction(np.array([SITE]), np.array([], dtype=object))
    assert frac.tolist() == [0.0]


# -- funding --------------------------------------------------------------------------------------
FUNDING = pd.DataFrame(
    {
        "key": ["05562", "05562012", "05513000", "05513000", "05334"],
        "category": ["GRW_D", "GRW_C", "GRW_D", "JTF", "FIVE_SITES"],
    }
)


@pytest.mark.parametrize(
    "ags,best,programmes",
    [
        ("05562008", "GRW_D", ["GRW_D"]),  # the Kreis row applies to its municipalities
        ("05562012", "GRW_C", ["GRW_C", "GRW_D"]),  # Gemeinde row, better than the Kreis row
        ("05513000", "JTF", ["JTF", "GRW_D"]),  # two rows for one key: the best first
        ("05334002", "FIVE_SITES", ["FIVE_SITES"]),
        ("05111000", "none", []),  # in no listed area
        (None, None, []),  # unknown municipality
        (NAN, None, []),
    ],
)
def test_funding_region_best_category(ags, best, programmes):
    got, progs = ind.funding_region(np.array([ags], dtype=object), FUNDING)
    assert got[0] == best
    assert progs[0] == programmes


# -- compute_indicators on a tiny set of layers ----------------------------------------------------
MUNIS = gpd.GeoDataFrame(
    {
        "ags": ["05562008", "05562012"],
        "name": ["Nordheim", "Südheim"],
        "kreis_ags": ["05562", "05562"],
        "kreis_name": ["Recklinghausen", "Recklinghausen"],
    },
    geometry=[shapely.MultiPolygon([A]), shapely.MultiPolygon([B])],
    crs=CRS,
)
GIB = box(X + 100, Y + 100, X + 500, Y + 500)  # 16 ha, in A, partly over the coverage patch
GIB_Z_OUTSIDE = box(X + 3000, Y, X + 3200, Y + 200)  # east of both municipalities
BROWNFIELDS = {  # area_id: (geometry, ags, contamination)
    # exactly half inside the GIB (and that half inside b3): planning "GIB"
    "b1": (box(X + 150, Y + 50, X + 250, Y + 150), "05562008", "none"),
    # outside every plan area: "BROWNFIELD"
    "b2": (box(X + 1200, Y + 200, X + 1300, Y + 300), "05562012", "suspected"),
    # the western half of the GIB (no AGS of its own): planning "GIB"
    "b3": (box(X + 100, Y + 100, X + 300, Y + 500), None, "confirmed"),
    # 40 % inside the GIB, inside b3 there: "BROWNFIELD"
    "b4": (box(X + 40, Y + 300, X + 140, Y + 400), "05562008", "remediated"),
}
LEP = box(X + 1400, Y + 400, X + 1600, Y + 600)
H2 = gpd.GeoDataFrame(
    {
        "segment_id": ["w", "e"],
        "name": ["west", "east"],
        "kind": ["conversion", "new_build"],
        "commissioning_year": [2027, 2031],
    },
    geometry=[
        shapely.LineString([(X - 1000, Y - 1000), (X - 1000, Y + 2000)]),
        shapely.LineString([(X + 2500, Y - 1000), (X + 2200, Y + 300), (X + 2500, Y + 2000)]),
    ],
    crs=CRS,
)


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    bf = gpd.GeoDataFrame(
        {
            "area_id": list(BROWNFIELDS),
            "name": [f"Brache {k}" for k in BROWNFIELDS],
            "ags": [v[1] for v in BROWNFIELDS.values()],
            "former_use": "industry",
            "contamination": [v[2] for v in BROWNFIELDS.values()],
            "availability": "now",
        },
        geometry=[v[0] for v in BROWNFIELDS.values()],
        crs=CRS,
    )
    rp = gpd.GeoDataFrame(
        {
            "area_id": ["g1", "g2"],
            "category": ["GIB", "GIB_Z"],
            "plan": ["Münster", "Münster"],
            "name": ["GIB Nord", "GIB-Z Ost"],
        },
        geometry=[GIB, GIB_Z_OUTSIDE],
        crs=CRS,
    )
    lep = gpd.GeoDataFrame(
        {
            "area_id": ["l1"],
            "name": ["LEP Süd"],
            "municipalities": ["Südheim"],
            "area_ha_reported": [4.0],
            "accuracy": ["polygon"],
        },
        geometry=[LEP],
        crs=CRS,
    )
    return {"municipalities": MUNIS, "regional_plan": rp, "brownfields": bf, "lep_sites": lep, "hydrogen": H2}


@pytest.fixture(scope="module")
def computed(layers, patch_grid) -> gpd.GeoDataFrame:
    sites = derive_sites(layers)
    coverage = {
        "fibre": patch_grid,
        "mobile_5g": Coverage("municipal", units=pd.Series({"05562008": 0.8, "05562012": 0.3})),
    }
    funding = pd.DataFrame({"key": ["05562", "05562012"], "category": ["GRW_D", "GRW_C"]})
    return compute_indicators(sites, layers, coverage, funding).set_index("site_id", drop=False)


SITE_IDS = ["rp-g1", "rp-g2", "bf-b1", "bf-b2", "bf-b3", "bf-b4", "lep-l1"]
GEOMS = {
    "rp-g1": GIB,
    "rp-g2": GIB_Z_OUTSIDE,
    "lep-l1": LEP,
    **{f"bf-{k}": v[0] for k, v in BROWNFIELDS.items()},
}


def missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def test_compute_indicators_keeps_every_site_with_public_columns_first(computed):
    assert computed["site_id"].tolist() == SITE_IDS
    assert computed.crs == CRS
    public = [c for c in PUBLIC_COLUMNS if c in computed.columns]
    assert list(computed.columns[: len(public)]) == public
    assert set(PUBLIC_COLUMNS) <= set(computed.columns)
    assert {"_fibre_data", "_mobile_5g_data"} <= set(computed.columns)
    assert any(c.startswith("_h2_km_") for c in computed.columns)
    assert computed["kind"].tolist() == ["regional_plan"] * 2 + ["brownfield"] * 4 + ["lep"]


def test_compute_indicators_area_and_municipality(computed):
    assert computed["area_ha"].tolist() == pytest.approx([GEOMS[s].area / 10_000 for s in SITE_IDS])
    assert computed["area_ha"].tolist() == pytest.approx([16, 4, 1, 1, 8, 1, 4])
    want_ags = {
        "rp-g1": "05562008",
        "bf-b1": "05562008",
        "bf-b2": "05562012",
        "bf-b3": "05562008",
        "bf-b4": "05562008",
        "lep-l1": "05562012",
    }
    names = {"05562008": "Nordheim", "05562012": "Südheim"}
    for s in SITE_IDS:
        row = computed.loc[s]
        if s in want_ags:
            assert row["ags"] == want_ags[s]
            assert row["municipality"] == names[want_ags[s]]
            assert row["kreis_ags"] == "05562" and row["kreis"] == "Recklinghausen"
        else:  # outside every municipality: unknown, never a guess
            assert all(missing(row[c]) for c in ("ags", "municipality", "kreis_ags", "kreis"))


# by hand, in SITE_IDS order: GIB's western half is brownfield b3 (b1 and b4 lie inside b3 there)
PLANNING = ["GIB", "GIB_Z", "GIB", "BROWNFIELD", "GIB", "BROWNFIELD", "LEP"]
ON_BROWNFIELDS = [True, False, True, True, True, True, False]


def test_compute_indicators_planning_category_and_brownfield(computed):
    assert computed["planning_category"].tolist() == PLANNING
    # GIB: exactly 0.5 on brownfields counts
    union = shapely.union_all([g for g, _, _ in BROWNFIELDS.values()])
    assert union.intersection(GIB).area / GIB.area == 0.5
    assert computed["is_brownfield"].tolist() == ON_BROWNFIELDS
    assert computed.loc["rp-g1", "plan"] == "Münster"
    assert computed.loc["bf-b2", "contamination"] == "suspected"
    assert missing(computed.loc["rp-g1", "contamination"])
    assert computed.loc["bf-b4", "availability"] == "now"
    assert computed.loc["bf-b4", "former_use"] == "industry"


def test_each_plan_area_and_brownfield_pair_is_intersected_once(layers, patch_grid, monkeypatch):
    # "is a plan area on brownfields" and "which plan area holds a brownfield" ask for the same
    # overlaps: a build intersects each pair of the two layers once, with the same answers
    seen: list[frozenset[bytes]] = []
    intersection = shapely.intersection

    def counted(a, b, *args, **kwargs):
        seen.extend(
            frozenset((x.wkb, y.wkb)) for x, y in zip(np.atleast_1d(a), np.atleast_1d(b), strict=True)
        )
        return intersection(a, b, *args, **kwargs)

    monkeypatch.setattr(shapely, "intersection", counted)
    sites = derive_sites(layers)
    got = compute_indicators(sites, layers, {"fibre": patch_grid}, None)
    plan = {g.wkb for g in layers["regional_plan"].geometry}
    brownfields = {g.wkb for g in layers["brownfields"].geometry}
    pairs = [p for p in seen if len(p) == 2 and p & plan and p & brownfields]
    assert pairs and len(pairs) == len(set(pairs))
    assert got["planning_category"].tolist() == PLANNING
    assert got["is_brownfield"].tolist() == ON_BROWNFIELDS


def test_sites_that_are_not_their_layers_rows_are_intersected_as_they_are(layers, patch_grid):
    # a site named after a plan area but with another geometry (an edited copy) is not taken
    # for that row: its own geometry decides
    sites = derive_sites(layers)
    gib = int(np.flatnonzero(sites["site_id"] == "rp-g1")[0])
    moved = sites.copy()
    moved.loc[gib, "geometry"] = shapely.affinity.translate(GIB, xoff=2000)  # off every brownfield
    got = compute_indicators(moved, layers, {"fibre": patch_grid}, None)
    assert not got.loc[gib, "is_brownfield"]
    assert compute_indicators(sites, layers, {"fibre": patch_grid}, None).loc[gib, "is_brownfield"]


def test_layer_rows_name_the_rows_sites_were_derived_from(layers):
    sites = derive_sites(layers)
    geoms = np.asarray(sites.geometry.values)
    out = {"site_id": sites["site_id"], "kind": sites["kind"]}
    rows = _layer_rows(out, geoms, LayerIndex(layers))
    assert rows["regional_plan"].tolist() == [0, 1, -1, -1, -1, -1, -1]
    assert rows["brownfields"].tolist() == [-1, -1, 0, 1, 2, 3, -1]
    # ad-hoc areas are no layer's rows: nothing is looked up (here: no area_id to look up)
    bare = {name: layer.drop(columns="area_id") for name, layer in layers.items() if "area_id" in layer}
    adhoc = {"site_id": np.array(["rp-g1", "x"], dtype=object), "kind": np.array(["adhoc"] * 2, dtype=object)}
    rows = _layer_rows(adhoc, geoms[:2], LayerIndex(bare))
    assert rows["regional_plan"].tolist() == rows["brownfields"].tolist() == [-1, -1]


def test_pair_areas_are_the_intersections_computed_once(monkeypatch):
    a = np.array([box(X, Y, X + 100, Y + 100), box(X + 200, Y, X + 300, Y + 100)])
    b = np.array([box(X + 50, Y, X + 250, Y + 50)])
    memo = PairAreas(len(b))
    first = memo.area(a, b[[0, 0]], np.array([0, 1]), np.array([0, 0]))
    assert first.tolist() == [2500.0, 2500.0]  # by hand: 50 × 50 m each
    monkeypatch.setattr(shapely, "intersection", lambda *_a, **_k: pytest.fail("intersected again"))
    assert memo.area(a[[1]], b, np.array([1]), np.array([0])).tolist() == [2500.0]
    monkeypatch.undo()
    # a pair without a row (-1) is not remembered: it is computed every time
    assert memo.area(a[[0]], b, np.array([-1]), np.array([0])).tolist() == [2500.0]
    assert len(memo.keys) == 2


def hand_h2(site: str, horizon: float) -> tuple[float, float]:
    """Distance (km) to, and year of, the nearest hydrogen segment in service by ``horizon``."""
    g = GEOMS[site]
    found = [
        (g.distance(line) / 1000, year)
        for line, year in zip(H2.geometry, H2["commissioning_year"], strict=True)
        if year <= horizon
    ]
    return min(found) if found else (NAN, NAN)


def test_compute_indicators_hydrogen_distance_by_year(computed):
    years = sorted(int(c.rsplit("_", 1)[1]) for c in computed.columns if c.startswith("_h2_km_"))
    assert 2031 in years  # the last commissioning year: every segment in service
    for s in SITE_IDS:
        row = computed.loc[s]
        for y in years:
            km, yr = hand_h2(s, y)
            assert row[f"_h2_km_{y}"] == pytest.approx(km, nan_ok=True)
            assert row[f"_h2_year_{y}"] == pytest.approx(yr, nan_ok=True)
        km, yr = hand_h2(s, math.inf)  # the headline columns: every segment
        assert row["h2_distance_km"] == pytest.approx(km)
        assert row["h2_commissioning_year"] == yr
    assert computed.loc["rp-g1", "h2_distance_km"] == pytest.approx(1.1)  # by hand: 1100 m west
    assert hand_h2("lep-l1", 2030) == pytest.approx((2.4, 2027))
    assert computed.loc["lep-l1", "h2_commissioning_year"] == 2031


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_compute_indicators_give_every_profile_its_horizon_distance(computed, profile):
    # whatever per-year columns are stored, the Scorer must find the segments in service by the
    # profile's horizon (hydrogen: 2030, so the 2031 segment east of the LEP site does not count)
    p = PROFILES[profile]
    got = Scorer(computed.reset_index(drop=True)).indicators(p)
    for i, s in enumerate(SITE_IDS):
        km, yr = hand_h2(s, p.h2_horizon)
        assert got["h2_distance_km"][i] == pytest.approx(km)
        assert got["h2_commissioning_year"][i] == yr


def test_compute_indicators_fibre_from_grid_and_5g_from_municipal_statistics(computed):
    fibre, frac = overlay_share([GEOMS[s] for s in SITE_IDS])
    np.testing.assert_allclose(computed["fibre_share"].to_numpy(float), fibre, atol=1e-6)
    np.testing.assert_allclose(computed["_fibre_data"].to_numpy(float), frac, atol=1e-6)
    assert 0 < computed.loc["rp-g1", "_fibre_data"] < 1  # the GIB reaches past the patch
    assert np.isnan(computed.loc["bf-b2", "fibre_share"])  # off the patch: missing, not 0
    want_5g = {
        "rp-g1": 0.8,
        "rp-g2": NAN,
        "bf-b1": 0.8,
        "bf-b2": 0.3,
        "bf-b3": 0.8,
        "bf-b4": 0.8,
        "lep-l1": 0.3,
    }
    np.testing.assert_allclose(computed["mobile_5g_share"].to_numpy(float), [want_5g[s] for s in SITE_IDS])
    assert computed["_mobile_5g_data"].tolist() == pytest.approx([1, 0, 1, 1, 1, 1, 1])


def test_fibre_and_5g_grids_together_each_get_their_own_share(layers, patch_grid):
    inverse = {k: 1.0 - v for k, v in PATCH.items()}  # NaN stays NaN
    coverage = {"fibre": patch_grid, "mobile_5g": grid_of(inverse)}
    out = compute_indicators(derive_sites(layers), layers, coverage, None)
    geoms = [GEOMS[s] for s in out["site_id"]]
    for name, patch in (("fibre", PATCH), ("mobile_5g", inverse)):
        share, frac = overlay_share(geoms, patch)
        np.testing.assert_allclose(out[f"{name}_share"].to_numpy(float), share, atol=1e-6)
        np.testing.assert_allclose(out[f"_{name}_data"].to_numpy(float), frac, atol=1e-6)


def test_compute_indicators_funding_region(computed):
    got = [None if missing(x) else x for x in computed["funding_region"]]
    assert got == ["GRW_D", None, "GRW_D", "GRW_C", "GRW_D", "GRW_D", "GRW_C"]


def test_sites_without_a_coverage_layer_have_missing_shares(layers):
    out = compute_indicators(derive_sites(layers), layers, {}, None)
    assert out["fibre_share"].isna().all() and out["mobile_5g_share"].isna().all()
    assert (out["_fibre_data"] == 0).all() and (out["_mobile_5g_data"] == 0).all()
    assert out["funding_region"].isna().all()


def test_lep_point_becomes_a_circle_of_the_reported_area():
    lep = gpd.GeoDataFrame(
        {
            "area_id": ["p"],
            "name": ["Punkt"],
            "municipalities": ["x"],
            "area_ha_reported": [50.0],
            "accuracy": ["point"],
        },
        geometry=[shapely.Point(X + 500, Y + 500)],
        crs=CRS,
    )
    sites = derive_sites({"lep_sites": lep})
    assert sites["site_id"].tolist() == ["lep-p"]
    assert ind.area_ha(sites.geometry.values)[0] == pytest.approx(50.0, rel=2e-3)
    assert sites.geometry.iloc[0].centroid.distance(shapely.Point(X + 500, Y + 500)) < 1e-6


def test_any_allowed_horizon_finds_the_segments_in_service_or_refuses(computed):
    # a horizon without stored distances: either the right distances or an explicit refusal,
    # never silently "nothing in service" (h2 value 0)
    p = PROFILES["balanced"].model_copy(update={"h2_horizon": 2028})
    try:
        got = Scorer(computed.reset_index(drop=True)).indicators(p)
    except InvalidParameter:
        return
    for i, s in enumerate(SITE_IDS):
        km, yr = hand_h2(s, 2028)
        assert got["h2_distance_km"][i] == pytest.approx(km)
        assert got["h2_commissioning_year"][i] == yr


def test_a_source_key_the_geometry_contradicts_is_a_warning_and_the_geometry_wins(layers):
    bf = layers["brownfields"].copy()
    # b1 lies wholly in Nordheim (05562008) but its cadastre says Südheim; b2 names no
    # municipality of the layer at all; b3 gives none (no warning for a missing key)
    bf["ags"] = ["05562012", "05999999", None, "05562008"]
    warnings: list[str] = []
    out = compute_indicators(
        derive_sites({**layers, "brownfields": bf}),
        {**layers, "brownfields": bf},
        {},
        None,
        warn=warnings.append,
    )
    got = out.set_index("site_id")["ags"]
    assert got["bf-b1"] == "05562008" and got["bf-b2"] == "05562012"
    assert got["bf-b3"] == "05562008" and got["bf-b4"] == "05562008"
    assert len(warnings) == 1
    assert warnings[0].startswith("2 site(s) carry a municipality key")
    assert "bf-b1 (05562012 → 05562008)" in warnings[0]
    assert "bf-b2 (05999999 → 05562012)" in warnings[0]
    assert "bf-b3" not in warnings[0] and "bf-b4" not in warnings[0]
    quiet: list[str] = []  # the keys of the fixture agree with the geometry
    compute_indicators(derive_sites(layers), layers, {}, None, warn=quiet.append)
    assert quiet == []
