"""The map data written at publish: map.pmtiles (read back with the pmtiles reader, tiles decoded
with mapbox-vector-tile and a raw protobuf walk) and the coverage overlays (decoded with Pillow).
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
from collections import defaultdict
from io import BytesIO
from pathlib import Path
from typing import Any

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from PIL import Image
from pmtiles.reader import MmapSource, Reader, all_tiles

from geo.crs import NRW_BOUNDS_WGS84, transformer
from geo.grid import NRW_GRID, Coverage
from layers import tiles_overlays, tiles_spec
from layers.build import build
from layers.io import sha256
from layers.store import Store
from tests.conftest import DemoCache

EVERY_ZOOM = ("municipalities", "municipality_labels", "kreise", "kreis_labels", "hydrogen", "lep_sites")


# -- helpers: an independent look at the bytes -----------------------------------------------
def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def raw_layer_names(tile: bytes) -> list[str]:
    """The layer names of an MVT tile in order, checking the Tile message has only layers (3)."""
    names, i = [], 0
    while i < len(tile):
        key, i = _varint(tile, i)
        assert key == (3 << 3) | 2, "an MVT Tile holds only length-delimited field 3 (layers)"
        n, i = _varint(tile, i)
        layer, i = tile[i : i + n], i + n
        j = 0
        while j < len(layer):
            k, j = _varint(layer, j)
            wire = k & 7
            if wire == 2:
                m, j = _varint(layer, j)
                if k >> 3 == 1:
                    names.append(layer[j : j + m].decode())
                j += m
            elif wire == 0:
                _, j = _varint(layer, j)
            elif wire == 5:
                j += 4
            elif wire == 1:
                j += 8
            else:
                raise AssertionError(f"unexpected wire type {wire}")
    return names


def lonlat(z: int, x: int, y: int, px: float, py: float, extent: int = 4096) -> tuple[float, float]:
    """Tile-local MVT coordinates (y down) to WGS84."""
    n = 2**z
    gx, gy = (x + px / extent) / n, (y + py / extent) / n
    return gx * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * gy))))


def site_id_of(f: dict[str, Any], public_sites: gpd.GeoDataFrame) -> str:
    """A site feature's site_id: polygons carry it, points their fid (position among the public)."""
    p = f["properties"]
    return p["site_id"] if "site_id" in p else public_sites["site_id"].iloc[p["fid"]]


class Archive:
    """All tiles of a PMTiles file: raw bytes per (z, x, y), decoded on demand."""

    def __init__(self, path: Path):
        with open(path, "rb") as f:
            reader = Reader(MmapSource(f))
            self.header = reader.header()
            self.metadata = reader.metadata()
            self.raw = {zxy: gzip.decompress(data) for zxy, data in all_tiles(reader.get_bytes)}
        self.names = {zxy: raw_layer_names(data) for zxy, data in self.raw.items()}
        self._decoded: dict[tuple[int, int, int], dict[str, Any]] = {}

    def decoded(self, zxy: tuple[int, int, int]) -> dict[str, Any]:
        if zxy not in self._decoded:
            self._decoded[zxy] = mapbox_vector_tile.decode(
                self.raw[zxy], default_options={"y_coord_down": True}
            )
        return self._decoded[zxy]

    def features(self, layer: str, z: int) -> list[tuple[tuple[int, int, int], dict[str, Any]]]:
        out = []
        for zxy, names in self.names.items():
            if zxy[0] == z and layer in names:
                out += [(zxy, f) for f in self.decoded(zxy)[layer]["features"]]
        return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, demo_cache: DemoCache) -> Store:
    return Store(demo_cache.copy(tmp_path_factory.mktemp("tiles"), n_sites=300, seed=1))


@pytest.fixture(scope="module")
def manifest(store: Store) -> dict[str, Any]:
    return store.manifest()


@pytest.fixture(scope="module")
def snap_dir(store: Store, manifest: dict[str, Any]) -> Path:
    return store.snapshots / manifest["id"]


@pytest.fixture(scope="module")
def archive(snap_dir: Path) -> Archive:
    return Archive(snap_dir / "map.pmtiles")


@pytest.fixture(scope="module")
def all_sites(store: Store) -> gpd.GeoDataFrame:
    return store.load().layers["sites"]


@pytest.fixture(scope="module")
def sites(all_sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The public sites: the only ones in the (public) tiles."""
    if "public" not in all_sites.columns:
        return all_sites
    return all_sites[all_sites["public"].ne(False).to_numpy(bool)]


# -- the archive ---------------------------------------------------------------------------
def test_manifest_describes_the_archive(manifest, snap_dir, sites):
    t = manifest["tiles"]
    path = snap_dir / t["file"]
    assert t["file"] == "map.pmtiles" and path.exists()
    assert t["sha256"] == sha256(path) and t["size"] == path.stat().st_size
    assert (t["minzoom"], t["maxzoom"]) == (5, 14)
    assert set(t["layers"]) == {
        "site_points",
        "sites",
        "municipalities",
        "municipality_labels",
        "kreise",
        "kreis_labels",
        "hydrogen",
        "lep_sites",
        "motorway_junctions",
        "rail_stations",
        "rail_freight",
        "ports",
        "airports",
    }
    assert (t["layers"]["site_points"]["minzoom"], t["layers"]["site_points"]["maxzoom"]) == (5, 9)
    assert (t["layers"]["sites"]["minzoom"], t["layers"]["sites"]["maxzoom"]) == (10, 14)
    assert t["layers"]["kreise"]["count"] == 53
    assert t["layers"]["sites"]["count"] == t["layers"]["site_points"]["count"] == len(sites)
    assert t["seconds"] > 0 and manifest["timings_s"]["tiles"] >= t["seconds"]
    assert sum(v["tiles"] for v in t["tiles_per_zoom"].values()) > 0
    # no leftovers of the temporary per-layer archives in the snapshot
    assert not [p for p in snap_dir.iterdir() if p.name.startswith(".")]


def test_header_and_metadata(archive, manifest):
    h, md = archive.header, archive.metadata
    assert (h["min_zoom"], h["max_zoom"]) == (5, 14)
    assert h["tile_type"].name == "MVT" and h["tile_compression"].name == "GZIP"
    # the pmtiles JS client reads the header and the root directory in its first 16 KiB
    assert h["root_offset"] + h["root_length"] <= 16384
    x0, y0, x1, y1 = NRW_BOUNDS_WGS84
    bounds = (h["min_lon_e7"] / 1e7, h["min_lat_e7"] / 1e7, h["max_lon_e7"] / 1e7, h["max_lat_e7"] / 1e7)
    assert x0 <= bounds[0] < bounds[2] <= x1 and y0 <= bounds[1] < bounds[3] <= y1
    assert bounds[0] < h["center_lon_e7"] / 1e7 < bounds[2]
    assert bounds[1] < h["center_lat_e7"] / 1e7 < bounds[3]
    layers = {v["id"]: v for v in md["vector_layers"]}
    assert (layers["site_points"]["minzoom"], layers["site_points"]["maxzoom"]) == (5, 9)
    assert (layers["sites"]["minzoom"], layers["sites"]["maxzoom"]) == (10, 14)
    for name in EVERY_ZOOM:
        assert (layers[name]["minzoom"], layers[name]["maxzoom"]) == (5, 14)
    assert set(layers["sites"]["fields"]) == {"site_id", "kind", "planning_category", "area_ha"}
    assert set(layers["site_points"]["fields"]) == {"fid"}
    assert set(layers["hydrogen"]["fields"]) == {
        "segment_id",
        "name",
        "kind",
        "commissioning_year",
        "geometry_quality",
    }
    assert "SYNTHETIC" in md["attribution"] and md["attribution"] == manifest["tiles"]["attribution"]
    assert [float(v) for v in md["bounds"].split(",")] == pytest.approx(bounds, abs=1e-6)


def test_layer_names_per_zoom(archive):
    by_zoom: dict[int, set[str]] = defaultdict(set)
    for (z, _x, _y), names in archive.names.items():
        assert len(names) == len(set(names)), "a layer appears twice in one tile"
        by_zoom[z] |= set(names)
    assert sorted(by_zoom) == list(range(5, 15))
    for z, names in by_zoom.items():
        assert set(EVERY_ZOOM) <= names, z
        if z <= 9:
            assert "site_points" in names and "sites" not in names
        else:
            assert "sites" in names and "site_points" not in names


def test_every_tile_decodes(archive):
    for zxy in [k for k in archive.raw if k[0] <= 11]:
        decoded = archive.decoded(zxy)
        assert list(decoded) == archive.names[zxy]


@pytest.mark.parametrize(
    ("layer", "z"), [("site_points", 5), ("site_points", 9), ("sites", 10), ("sites", 12), ("sites", 14)]
)
def test_every_public_site_is_in_the_tiles(archive, sites, all_sites, layer, z):
    ids = {site_id_of(f, sites) for _zxy, f in archive.features(layer, z)}
    assert ids == set(sites["site_id"])
    assert len(sites) > 250 and len(all_sites) == 300 + 4


def test_property_types_and_values(archive, sites):
    stored = sites.set_index("site_id")
    for _zxy, f in archive.features("sites", 12):
        p = f["properties"]
        assert set(p) == {"site_id", "kind", "planning_category", "area_ha"}
        assert isinstance(p["site_id"], str)
        row = stored.loc[p["site_id"]]
        assert p["kind"] == row["kind"] and p["planning_category"] == row["planning_category"]
        assert p["area_ha"] == pytest.approx(row["area_ha"], abs=0.006)
    fids = [f["properties"]["fid"] for _zxy, f in archive.features("site_points", 5)]
    assert all(type(x) is int for x in fids) and sorted(fids) == list(range(len(sites)))
    h2 = archive.features("hydrogen", 7)
    assert h2
    for _zxy, f in h2:
        p = f["properties"]
        assert type(p["commissioning_year"]) is int and 2025 <= p["commissioning_year"] <= 2032
        assert p["kind"] in {"conversion", "new_build"}
        assert p["geometry_quality"] in {"surveyed", "schematic"}
    for _zxy, f in archive.features("municipalities", 8):
        p = f["properties"]
        assert isinstance(p["ags"], str) and len(p["ags"]) == 8 and p["ags"][:5] == p["kreis_ags"]
    kreise = {f["properties"]["kreis_ags"] for _zxy, f in archive.features("kreise", 8)}
    labels = {f["properties"]["ags"] for _zxy, f in archive.features("municipality_labels", 8)}
    assert len(kreise) == 53 and len(labels) == 396
    lep = {f["properties"]["area_id"] for _zxy, f in archive.features("lep_sites", 10)}
    assert len(lep) == 4


def test_points_lie_in_their_site(archive, sites):
    """z9 points, back in WGS84, fall inside their site's polygon (a tile unit is ~6 m)."""
    feats = archive.features("site_points", 9)
    lon_lat = np.array([lonlat(*zxy, *f["geometry"]["coordinates"]) for zxy, f in feats])
    x0, y0, x1, y1 = NRW_BOUNDS_WGS84
    assert (lon_lat[:, 0] >= x0).all() and (lon_lat[:, 0] <= x1).all()
    assert (lon_lat[:, 1] >= y0).all() and (lon_lat[:, 1] <= y1).all()
    x, y = transformer(4326, 25832).transform(lon_lat[:, 0], lon_lat[:, 1])
    ids = [site_id_of(f, sites) for _zxy, f in feats]
    target = sites.set_index("site_id").geometry.loc[ids].values
    assert shapely.distance(shapely.points(x, y), target).max() < 15


def test_site_polygons_keep_their_shape(archive, sites):
    """z14 polygons (clipped per tile) cover their site: the union of pieces ≈ the site."""
    pieces: dict[str, list[Any]] = defaultdict(list)
    for zxy, f in archive.features("sites", 14):
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        for rings in polys:
            shell = [lonlat(*zxy, px, py) for px, py in rings[0]]
            holes = [[lonlat(*zxy, px, py) for px, py in r] for r in rings[1:]]
            pieces[f["properties"]["site_id"]].append(shapely.Polygon(shell, holes))
    ref = sites.to_crs(4326).set_index("site_id").geometry
    checked = 0
    for sid, parts in list(pieces.items())[:60]:
        got = shapely.make_valid(shapely.union_all(parts)).intersection(ref[sid].envelope.buffer(0.01))
        want = ref[sid]
        assert got.symmetric_difference(want).area / want.area < 0.05, sid
        checked += 1
    assert checked == min(60, len(pieces))


def test_boundaries_are_simplified_within_a_pixel(archive, store):
    """Municipality and Kreis outlines lose the vertices a 512-px tile cannot show (GDAL's
    SIMPLIFICATION): far fewer coordinates at z5, every unit kept, each within 6 tile units
    (4 of simplification, quantisation and its rounding) of its real outline."""
    muni = store.load().layers["municipalities"].to_crs(4326).set_index("ags").geometry
    unit_deg = 360 / 2**5 / 4096  # one tile unit at z5 in degrees of longitude (latitude: less)
    feats = archive.features("municipalities", 5)
    assert {f["properties"]["ags"] for _, f in feats} == set(muni.index)
    coords = 0
    for zxy, f in feats:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        shapes = [shapely.Polygon([lonlat(*zxy, px, py) for px, py in rings[0]]) for rings in polys]
        coords += sum(len(rings[0]) for rings in polys)
        got = shapely.MultiPolygon(shapes).boundary
        assert got.hausdorff_distance(muni[f["properties"]["ags"]].boundary) <= 6 * unit_deg
    assert coords < 0.5 * shapely.get_num_coordinates(muni.values).sum()


# -- coverage overlays ---------------------------------------------------------------------
def test_coverage_overlays_are_indexed_pngs_placed_by_their_corners(store, manifest, snap_dir):
    snap = store.load()
    overlays = manifest["coverage_overlays"]
    assert set(overlays) == {"fibre", "mobile_5g"}
    for name, o in overlays.items():
        assert o["kind"] == "image" and o["resolution"] == "grid_100m"
        path = snap_dir / o["file"]
        assert o["sha256"] == sha256(path) and o["size"] == path.stat().st_size
        img = Image.open(path)
        assert img.mode == "P" and img.size == (o["width"], o["height"])
        assert 250 <= o["pixel_m"] <= 500
        index = np.asarray(img)
        alpha = np.frombuffer(img.info["transparency"], np.uint8)
        assert alpha[0] == 0 and (alpha[1:] > 0).all()
        palette = np.asarray(img.getpalette()[:33]).reshape(11, 3)
        colors = ["#" + "".join(f"{c:02x}" for c in rgb) for rgb in palette[1:]]
        assert colors == o["legend"]["colors"] and len(o["legend"]["breaks"]) == 11
        (tl, tr, br, bl) = o["coordinates"]
        assert tl[1] == tr[1] and bl[1] == br[1] and tl[0] == bl[0] and tr[0] == br[0]
        # cells with data are drawn, cells outside NRW are transparent (tested exactly below)
        rows, cols, px, py = _pixels(o, snap.coverage[name].spec, 4000)
        got = index[py, px]
        valid = np.isfinite(np.asarray(snap.coverage[name].grid)[rows, cols])
        assert (got[valid] > 0).mean() > 0.97 and (got[~valid] == 0).mean() > 0.97


def _pixels(o: dict[str, Any], spec: Any, n: int) -> tuple[np.ndarray, ...]:
    """Random grid cells (row, col) and their pixel (column, row), placed linearly in Web
    Mercator between the overlay's corners, as MapLibre draws an image source.
    """
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, spec.ny, n), rng.integers(0, spec.nx, n)
    xs, ys = spec.centres()
    mx, my = transformer(25832, 3857).transform(xs[cols], ys[rows])
    tl, _tr, br, _bl = o["coordinates"]
    (mx0, my1), (mx1, my0) = (transformer(4326, 3857).transform(*tl), transformer(4326, 3857).transform(*br))
    px = np.floor((np.asarray(mx) - mx0) / (mx1 - mx0) * o["width"]).astype(int)
    py = np.floor((my1 - np.asarray(my)) / (my1 - my0) * o["height"]).astype(int)
    assert (px >= 0).all() and (px < o["width"]).all()
    assert (py >= 0).all() and (py < o["height"]).all()
    return rows, cols, px, py


def test_overlay_pixels_sit_where_their_cells_are():
    """A west-east ramp with no data in the north: each sampled cell's pixel has its class."""
    spec = Coverage("grid_100m", grid=np.zeros(NRW_GRID.shape, np.float32)).spec
    xs, ys = spec.centres()
    x0, y0, x1, y1 = spec.bounds
    share = ((xs - x0) / (x1 - x0))[None, :].repeat(spec.ny, 0).astype(np.float32)
    north = 5_750_000.0
    share[ys > north, :] = np.nan
    png, corners, (w, h) = tiles_overlays.coverage_image(Coverage("grid_100m", grid=share))
    img = Image.open(BytesIO(png))
    index = np.asarray(img)
    o = {"coordinates": corners, "width": w, "height": h}
    rows, cols, px, py = _pixels(o, spec, 20000)
    value = share[rows, cols]
    got = index[py, px].astype(int)
    clear_ns = np.abs(ys[rows] - north) > 1_000  # away from the no-data edge
    nodata = ~np.isfinite(value) & clear_ns
    assert nodata.sum() > 1000 and (got[nodata] == 0).all()
    v = np.nan_to_num(value, nan=-1)
    clear = clear_ns & np.isfinite(value) & (np.abs(v * 10 - np.round(v * 10)) > 0.05)
    assert clear.sum() > 10000
    assert (got[clear] == 1 + np.minimum(np.floor(v[clear] * 10), 9)).all()


def test_unit_statistics_become_municipality_properties(tmp_path, fixtures):
    s = Store(tmp_path)
    m = build(s, sources=fixtures / "sources.toml")
    o = m["coverage_overlays"]
    assert o["fibre"] == {
        **o["fibre"],
        "kind": "tile_property",
        "source_layer": "municipalities",
        "property": "fibre_share",
        "resolution": "municipal",
    }
    assert o["mobile_5g"]["property"] == "mobile_5g_share"
    assert o["mobile_5g"]["resolution"] == "kreis"
    assert not list((s.snapshots / m["id"]).glob("*.png"))
    arc = Archive(s.snapshots / m["id"] / "map.pmtiles")
    props = {f["properties"]["ags"]: f["properties"] for _zxy, f in arc.features("municipalities", 10)}
    assert props["05562008"]["fibre_share"] == pytest.approx(0.25)
    assert props["05562036"]["fibre_share"] == pytest.approx(0.5)
    assert props["05913000"]["fibre_share"] == pytest.approx(0.755)
    assert props["05562008"]["mobile_5g_share"] == pytest.approx(0.885)
    assert props["05562036"]["mobile_5g_share"] == pytest.approx(0.885)
    fields = {v["id"]: v["fields"] for v in arc.metadata["vector_layers"]}["municipalities"]
    assert {"fibre_share", "mobile_5g_share"} <= set(fields)


# -- the store and the layer preparation ---------------------------------------------------
def test_snapshots_load_with_and_without_map_data(store, manifest, snap_dir):
    assert store.load().id == manifest["id"]
    old = store.snapshots / "20000101T000000Z"
    shutil.copytree(snap_dir, old)
    for p in [old / "map.pmtiles", *old.glob("coverage_*.png")]:
        p.unlink()
    m = json.loads((old / "manifest.json").read_text())
    m = {k: v for k, v in m.items() if k not in ("tiles", "coverage_overlays")}
    if "files" in m:  # an old snapshot lists only the files it has
        m["files"] = {k: v for k, v in m["files"].items() if (old / k).exists()}
    m["id"] = old.name
    (old / "manifest.json").write_text(json.dumps(m))
    snap = store.load(old.name)
    assert set(snap.layers) == set(store.load().layers)
    shutil.rmtree(old)


def test_non_public_sites_and_other_properties_stay_out(sites):
    s = sites.copy()
    s["public"] = True
    s.loc[s.index[:5], "public"] = False
    s["owner_contact"] = "confidential"
    data = tiles_spec.tile_layers({}, s)
    assert set(data) == {"sites", "site_points"}
    assert set(data["sites"]["site_id"]) == set(s["site_id"][5:])
    assert list(data["sites"].columns) == ["site_id", "kind", "planning_category", "area_ha", "geometry"]
    assert list(data["site_points"].columns) == ["fid", "geometry"]
    assert data["site_points"]["fid"].tolist() == list(range(len(s) - 5))  # numbered among the public
    for name in ("sites", "site_points"):
        assert data[name].crs.to_epsg() == 4326


def test_kreise_are_dissolved_municipalities(store):
    muni = store.load().layers["municipalities"]
    k = tiles_spec._kreise(muni)
    assert sorted(k["kreis_ags"]) == sorted(muni["kreis_ags"].unique())
    assert k.geometry.area.sum() == pytest.approx(muni.geometry.area.sum(), rel=1e-6)


@pytest.mark.parametrize(
    ("layer", "id_field"),
    [
        ("motorway_junctions", "junction_id"),
        ("rail_stations", "eva_nr"),
        ("rail_freight", "terminal_id"),
        ("ports", "port_id"),
        ("airports", "airport_id"),
    ],
)
def test_every_transport_feature_is_in_the_tiles_as_a_point(archive, store, layer, id_field):
    stored = store.load().layers[layer]
    for z in (5, 12):
        feats = [f for _zxy, f in archive.features(layer, z)]
        assert {f["properties"][id_field] for f in feats} == set(stored[id_field].astype(str))
        assert {f["geometry"]["type"] for f in feats} == {"Point"}
    if layer == "airports":  # the commercial flag travels (only those count for the criterion)
        flags = {
            f["properties"]["airport_id"]: f["properties"]["commercial"]
            for _zxy, f in archive.features(layer, 5)
        }
        assert flags == dict(zip(stored["airport_id"].astype(str), stored["commercial"], strict=True))
