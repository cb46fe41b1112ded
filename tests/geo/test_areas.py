"""geo/areas.py against plain geopandas: overlay for which sites lie in an area and which cross
its boundary, dissolve for Kreise and the state, sjoin and distance for context features and the
nearest LEP site, pandas sorting for the export order.

The fixture is six 1 km squares (two Kreise of three municipalities) and sites placed inside,
across a municipal boundary, across the Kreis boundary, along a boundary (touching only), partly
and wholly outside; the last test uses the 396 real municipalities and random sites.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.areas import AreaIndex, dissolve, export_order, nearest_lep, union
from geo.criteria import H2_ZERO_KM
from geo.errors import NotFound

KM = 1000.0


def square(x: float, y: float, w: float = KM, h: float = KM) -> shapely.Polygon:
    return shapely.box(x, y, x + w, y + h)


@pytest.fixture(scope="module")
def munis() -> gpd.GeoDataFrame:
    """Kreis 05111: three squares in the bottom row; Kreis 05112: three in the top row."""
    rows = []
    for i in range(3):
        rows.append((f"05111{i:03d}", f"Unten {i}", "05111", "Kreis Unten", square(i * KM, 0)))
        rows.append((f"05112{i:03d}", f"Oben {i}", "05112", "Kreis Oben", square(i * KM, KM)))
    df = pd.DataFrame(rows, columns=["ags", "name", "kreis_ags", "kreis_name", "geometry"])
    return gpd.GeoDataFrame(df, geometry="geometry", crs=25832)


SITES = {
    "inside": square(100, 100, 200, 200),
    "across_munis": square(900, 300, 200, 200),  # 05111000 | 05111001
    "across_kreise": square(1300, 900, 200, 200),  # 05111001 / 05112001
    "four_corners": square(1900, 900, 200, 200),  # 4 municipalities, 2 Kreise
    "touching": square(1000, 1200, 300, 300),  # its left edge lies on a boundary
    "partly_out": square(2900, 400, 300, 200),  # sticks out of the state on the right
    "wholly_out": square(5000, 5000, 100, 100),
    "inside_top": square(2300, 1500, 100, 100),
}


@pytest.fixture(scope="module")
def sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"site_id": list(SITES)}, geometry=list(SITES.values()), crs=25832).reset_index(
        drop=True
    )


@pytest.fixture(scope="module")
def context() -> dict[str, gpd.GeoDataFrame]:
    far = H2_ZERO_KM * KM
    return {
        "brownfields": gpd.GeoDataFrame(
            {"name": ["in 0", "edge", "across", "outside"]},
            geometry=[
                square(200, 200, 100, 100),
                square(-100, 0, 100, 100),  # touches 05111000 along its left edge only
                square(800, 500, 400, 100),
                square(4000, 0, 100, 100),
            ],
            crs=25832,
        ),
        "hydrogen": gpd.GeoDataFrame(
            {"name": ["near", "just in", "too far"]},
            geometry=[
                shapely.LineString([(0, -500), (3000, -500)]),
                shapely.LineString([(-far + 1, 500), (-far + 1, 600)]),
                shapely.LineString([(-far - 1, 500), (-far - 1, 600)]),
            ],
            crs=25832,
        ),
        "lep_sites": gpd.GeoDataFrame(
            {"name": ["Nord", "Süd"]},
            geometry=[square(0, 4000, 100, 100), square(0, -3000, 50, 50)],
            crs=25832,
        ),
    }


@pytest.fixture(scope="module")
def index(munis, sites, context) -> AreaIndex:
    return AreaIndex({"municipalities": munis, "sites": sites, **context})


def overlay_pairs(sites: gpd.GeoDataFrame, munis: gpd.GeoDataFrame) -> pd.DataFrame:
    """(site, ags, kreis_ags) of every site/municipality pair whose overlap has an area."""
    s = sites.assign(site=np.arange(len(sites)))[["site", "geometry"]]
    ov = gpd.overlay(s, munis[["ags", "kreis_ags", "geometry"]], how="intersection", keep_geom_type=True)
    return pd.DataFrame(ov[ov.area > 1e-6][["site", "ags", "kreis_ags"]])


def reference(sites: gpd.GeoDataFrame, munis: gpd.GeoDataFrame):
    """Sites of an area and whether they cross its boundary, by overlay and dissolve."""
    pairs = overlay_pairs(sites, munis)
    outside = ~sites.geometry.covered_by(munis.dissolve().geometry.iloc[0]).to_numpy()

    def expected(column: str | None, key: str | None) -> tuple[list[int], list[bool]]:
        return _expected(pairs, outside, column, key)

    return expected


def _expected(pairs, outside, column, key):
    mine = pairs if column is None else pairs[pairs[column] == key]
    rows = sorted(set(mine["site"]))
    crosses = []
    for r in rows:
        other = column is not None and (pairs[(pairs["site"] == r)][column] != key).any()
        crosses.append(bool(outside[r] or other))
    return rows, crosses


def test_sites_of_every_area_and_who_crosses_match_an_overlay(index, munis, sites):
    expected = reference(sites, munis)
    areas = [("municipality", a, "ags") for a in munis["ags"]]
    areas += [("kreis", k, "kreis_ags") for k in munis["kreis_ags"].unique()]
    for kind, key, column in [*areas, ("nrw", None, None)]:
        rows, crosses = index.rows(index.area(kind, key))  # type: ignore[arg-type]
        want_rows, want_crosses = expected(column, key)
        assert rows.tolist() == want_rows, (kind, key)
        assert crosses.tolist() == want_crosses, (kind, key)


def test_the_cases_of_the_fixture(index):
    ids = list(SITES)

    def names(kind, key):
        rows, crosses = index.rows(index.area(kind, key))
        return {ids[r]: bool(c) for r, c in zip(rows.tolist(), crosses.tolist(), strict=True)}

    assert names("municipality", "05111001") == {
        "across_munis": True,
        "across_kreise": True,
        "four_corners": True,
    }
    # touching 05111000/05112000 along the boundary only: in 05112001 alone, not crossing
    assert names("municipality", "05112001") == {
        "across_kreise": True,
        "four_corners": True,
        "touching": False,
    }
    assert names("kreis", "05112")["touching"] is False
    assert names("kreis", "05111")["across_munis"] is False  # both municipalities are in the Kreis
    state = names("nrw", None)
    assert state["partly_out"] is True and state["four_corners"] is False
    assert "wholly_out" not in state


def test_areas_keys_names_and_unknown_keys(index):
    m = index.area("municipality", "05112002")
    assert (m.kind, m.key, m.name, m.kreis, m.slug, m.units.tolist()) == (
        "municipality",
        "05112002",
        "Oben 2",
        "Kreis Oben",
        "05112002",
        [5],
    )
    k = index.area("kreis", "05111")
    assert (k.name, k.kreis, k.units.tolist()) == ("Kreis Unten", None, [0, 2, 4])
    assert index.area("nrw", None).slug == "nrw"
    with pytest.raises(NotFound):
        index.area("municipality", "05999000")
    with pytest.raises(NotFound):
        index.area("kreis", "05999")


def test_dissolve_and_outlines_match_geopandas_dissolve(index, munis):
    keys, first, geoms = dissolve(munis.geometry.values, munis["kreis_ags"].to_numpy())
    ref = munis.dissolve(by="kreis_ags", aggfunc="first")
    assert keys.tolist() == ref.index.tolist()
    assert munis["kreis_name"].to_numpy()[first].tolist() == ref["kreis_name"].tolist()
    for g, r in zip(geoms, ref.geometry, strict=True):
        assert g.equals(r) and g.is_valid
    for key, r in zip(ref.index, ref.geometry, strict=True):
        assert index.outline(index.area("kreis", key)).equals(r)
    state = munis.dissolve().geometry.iloc[0]
    assert union(munis.geometry.values).equals(state)
    assert index.outline(index.area("nrw", None)).equals(state)


def test_union_of_parts_that_are_no_coverage_is_still_right():
    parts = gpd.GeoSeries([square(0, 0), square(500, 500), square(2000, 0, 10, 10)])  # overlapping
    got = union(parts.values)
    assert got.is_valid and got.equals(parts.union_all())


def test_export_order_sorts_ranked_by_rank_then_the_rest_by_site_id(index, sites):
    rank = np.array([3, 0, 1, 0, 2, 0, 0, 4])
    site_ids = np.array(["h", "c", "a", "b", "z", "a2", "x", "y"], dtype=object)
    rows = np.array([0, 1, 2, 3, 4, 5, 7])
    df = pd.DataFrame({"row": rows, "rank": rank[rows], "sid": site_ids[rows]})
    df["ranked"] = df["rank"] > 0
    want = df.sort_values(["ranked", "rank", "sid"], ascending=[False, True, True])["row"].tolist()
    assert export_order(rank, rows, site_ids).tolist() == want

    area = index.area("municipality", "05111001")
    chosen = index.sites(area, rank, site_ids)
    rows, crosses = index.rows(area)
    assert chosen.rows.tolist() == export_order(rank, rows, site_ids).tolist()
    cross_of = dict(zip(rows.tolist(), crosses.tolist(), strict=True))
    assert chosen.crosses.tolist() == [cross_of[r] for r in chosen.rows.tolist()]
    ranked = rank[chosen.rows] > 0
    assert chosen.rank.tolist() == [i + 1 if ok else 0 for i, ok in enumerate(ranked)]


def test_context_features_match_sjoin_and_distance(index, munis, context):
    for key in munis["ags"]:
        area = index.area("municipality", key)
        one = munis[munis["ags"] == key]
        bf = context["brownfields"]
        ov = gpd.overlay(
            bf.assign(row=np.arange(len(bf))), one[["geometry"]], how="intersection", keep_geom_type=True
        )
        want = sorted(ov[ov.area > 0]["row"])
        assert index.features("brownfields", area).tolist() == want, key
        h2 = context["hydrogen"]
        near = h2.distance(one.geometry.iloc[0]) <= H2_ZERO_KM * KM
        assert index.features("hydrogen", area).tolist() == np.flatnonzero(near.to_numpy()).tolist()
    assert index.features("brownfields", index.area("municipality", "05111000")).tolist() == [0, 2]
    nrw = index.area("nrw", None)
    assert index.features("brownfields", nrw).tolist() == [0, 1, 2, 3]  # the state: all of them
    assert index.features("no_such_layer", nrw) is None


def test_nearest_lep_matches_geopandas_distance(sites, context):
    lep = context["lep_sites"]
    for geom in sites.geometry:
        got = nearest_lep(geom, lep)
        d = lep.distance(geom)
        assert got == {
            "nearest_lep": lep["name"].iloc[int(d.to_numpy().argmin())],
            "nearest_lep_km": round(float(d.min()) / 1e3, 3),
        }
    assert nearest_lep(sites.geometry.iloc[0], None) == {"nearest_lep": None, "nearest_lep_km": None}
    assert nearest_lep(sites.geometry.iloc[0], lep.iloc[:0]) == {"nearest_lep": None, "nearest_lep_km": None}


def test_real_municipalities_random_sites_match_an_overlay():
    from layers.municipalities import boundaries

    munis = boundaries()
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = munis.total_bounds
    n = 400
    cx, cy = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    geoms = shapely.buffer(shapely.points(cx, cy), rng.uniform(100, 3000, n), quad_segs=3)
    sites = gpd.GeoDataFrame({"site_id": [f"s{i}" for i in range(n)]}, geometry=geoms, crs=25832)
    index = AreaIndex({"municipalities": munis, "sites": sites})
    kreise = sorted(munis["kreis_ags"].unique())
    expected = reference(sites, munis)
    for kind, key, column in [
        *[("municipality", a, "ags") for a in munis["ags"].iloc[::20]],
        *[("kreis", k, "kreis_ags") for k in kreise[::5]],
        ("nrw", None, None),
    ]:
        rows, crosses = index.rows(index.area(kind, key))  # type: ignore[arg-type]
        want_rows, want_crosses = expected(column, key)
        assert rows.tolist() == want_rows, (kind, key)
        assert crosses.tolist() == want_crosses, (kind, key)
    keys, _, geoms = dissolve(munis.geometry.values, munis["kreis_ags"].to_numpy())
    ref = munis.dissolve(by="kreis_ags")
    assert keys.tolist() == ref.index.tolist()
    assert all(g.equals(r) for g, r in zip(geoms, ref.geometry, strict=True))
