"""The generalised DVG2 boundaries (layers/facts/nrw_boundaries.topojson) and how the demo uses them."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.municipalities import boundaries, facts, kreise

# Official areas (km², DVG2 STAND 2022-03-08) are stored independently in the fact table
# nrw_municipalities.csv; three well-known ones (Köln, Düsseldorf, Dortmund) written out by hand.
KNOWN_KM2 = {"05315000": 405.0, "05111000": 217.4, "05913000": 280.7}


@pytest.fixture(scope="module")
def munis() -> gpd.GeoDataFrame:
    """The 396 generalised municipalities."""
    return boundaries()


@pytest.fixture(scope="module")
def krs() -> gpd.GeoDataFrame:
    """The 53 Kreise."""
    return kreise()


def test_keys_and_names_are_the_facts(munis, krs):
    f = facts()
    assert len(munis) == 396 and munis["ags"].is_unique
    assert munis["ags"].tolist() == f["ags"].tolist()
    assert munis["name"].tolist() == f["name"].tolist()
    assert munis["kreis_name"].tolist() == f["kreis_name"].tolist()
    assert (munis["kreis_ags"] == munis["ags"].str[:5]).all()
    assert len(krs) == 53 and sorted(krs["kreis_ags"]) == sorted(set(f["kreis_ags"]))
    by_key = krs.set_index("kreis_ags")["name"]
    assert by_key["05562"] == "Recklinghausen" and by_key["05315"] == "Köln"
    assert munis.crs.to_epsg() == 25832 and krs.crs.to_epsg() == 25832


def test_areas_within_one_percent_of_the_official_areas(munis, krs):
    ref = facts().set_index("ags")["area_km2"]
    km2 = munis.set_index("ags").area / 1e6
    assert np.abs(km2 / ref - 1).max() < 0.01
    for ags, area in KNOWN_KM2.items():
        assert km2[ags] == pytest.approx(area, rel=0.01), ags
    # the stored official areas agree with the fact table too (two derivations, one source)
    assert np.abs(munis.set_index("ags")["area_m2_dvg2"] / 1e6 / ref - 1).max() < 1e-3
    kreis_ref = ref.groupby(ref.index.str[:5]).sum()
    kreis_km2 = krs.set_index("kreis_ags").area / 1e6
    assert np.abs(kreis_km2 / kreis_ref[kreis_km2.index] - 1).max() < 0.01
    assert km2.sum() == pytest.approx(34_112, rel=0.01)  # NRW: 34,112 km²


def test_municipalities_form_a_coverage_without_gaps_or_overlaps(munis):
    geoms = munis.geometry.values
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms, gap_width=1.0)  # no overlaps, no slivers ≤ 1 m
    state = shapely.coverage_union_all(geoms)
    # no overlaps: the union's area is the sum of the areas
    assert state.area == pytest.approx(shapely.area(geoms).sum(), rel=1e-9)
    # no gaps: no holes anywhere (NRW holds no enclave of another state); the main part and
    # the five small exclaves of DVG2 (e.g. by the Dutch border)
    parts = sorted(shapely.get_parts(state), key=lambda p: -p.area)
    assert [len(p.interiors) for p in parts] == [0] * 6
    assert parts[0].area / state.area > 0.998


def test_neighbours_share_edges(munis):
    geoms = munis.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="touches")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.intersection(geoms[left], geoms[right])
    assert (shapely.area(shared) == 0).all()  # touching, never overlapping
    edge = shapely.length(shared) > 0
    # nearly all touching pairs share an edge (a few meet only at a point)
    assert edge.mean() > 0.95 and edge.sum() > 1000
    # every municipality has a neighbour along an edge
    assert set(left[edge]) | set(right[edge]) == set(range(len(geoms)))
    # Köln and Leverkusen share an edge; Köln and Bonn do not touch
    i = {a: k for k, a in enumerate(munis["ags"])}
    pairs = set(zip(left[edge].tolist(), right[edge].tolist(), strict=True))
    assert tuple(sorted((i["05315000"], i["05316000"]))) in pairs
    assert tuple(sorted((i["05315000"], i["05314000"]))) not in pairs


def test_kreise_are_the_union_of_their_municipalities(munis, krs):
    k = krs.set_index("kreis_ags")
    for key in ("05562", "05315", "05958"):
        union = shapely.coverage_union_all(munis.geometry.values[munis["kreis_ags"] == key])
        assert shapely.symmetric_difference(union, k.loc[key, "geometry"]).area < 1.0


@pytest.mark.realdata
def test_boundaries_match_dvg2(shared_raw, munis):
    import pyogrio

    dvg = pyogrio.read_dataframe(shared_raw / "geobasis_nrw_dvg2" / "dvg2gem_nw.shp")
    dvg = dvg.set_index(dvg["KN"].astype(str)).loc[munis["ags"]]
    assert (dvg["GN"].to_numpy() == munis["name"].to_numpy()).all()
    ratio = munis.area.to_numpy() / dvg.area.to_numpy()
    assert np.abs(ratio - 1).max() < 0.01
    assert (munis["area_m2_dvg2"].to_numpy() == np.round(dvg.area.to_numpy())).all()
    # the generalised outline stays within about 200 m of the official one (tolerance 50 m)
    h = shapely.hausdorff_distance(
        shapely.boundary(munis.geometry.values), shapely.boundary(dvg.geometry.values)
    )
    assert np.median(h) < 80 and h.max() < 300

    # neighbours along an edge are the official neighbours
    def edge_pairs(geoms: np.ndarray) -> set[tuple[int, int]]:
        a, b = shapely.STRtree(geoms).query(geoms, predicate="touches")
        a, b = a[a < b], b[a < b]
        long = shapely.length(shapely.intersection(geoms[a], geoms[b])) > 500
        return set(zip(a[long].tolist(), b[long].tolist(), strict=True))

    ours, official = edge_pairs(munis.geometry.values), edge_pairs(dvg.geometry.values)
    assert len(ours ^ official) <= 0.02 * len(official)


@pytest.mark.realdata
def test_fact_file_is_derived_from_dvg2_byte_for_byte(shared_raw):
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location(
        "derive_boundaries", ROOT / "layers" / "facts" / "derive_boundaries.py"
    )
    assert spec is not None and spec.loader is not None
    d = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(d)
    assert d.dumps(d.derive(shared_raw)) == d.OUT.read_text(encoding="utf-8")
