"""The snapshot store: atomic publish, manifests, rollback, sweeping, and builds killed midway."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import geopandas as gpd
import pytest
from geopandas.testing import assert_geodataframe_equal

from api.cli import main
from layers.build import build
from layers.io import sha256
from layers.store import Store, _crs, read_vector

KILL_POINTS = (
    "ingest",
    "indicators",
    "write:regional_plan",
    "write:sites",
    "manifest",
    "publish",
    "published",
)


@pytest.fixture()
def store(tmp_path, fixtures):
    """A store with one snapshot built from the fixtures."""
    s = Store(tmp_path / "data")
    build(s, sources=fixtures / "sources.toml")
    return s


def test_manifest_names_every_source_licence_and_checksum(store, fixtures):
    m = store.manifest()
    assert m["synthetic"] is False
    assert m["missing_layers"] == []
    for name in ("municipalities", "regional_plan", "brownfields", "hydrogen", "fibre", "mobile_5g"):
        layer = m["layers"][name]
        assert layer["licence"] and layer["attribution"]
        assert layer["sha256"] == sha256(Path(layer["source"]))
    assert m["layers"]["brownfields"]["attribution"] == "Stadt X, Brachflächenkataster (fixture)"
    assert m["layers"]["regional_plan"]["licence"] == "dl-de/by-2-0"
    assert m["layers"]["lep_sites"]["source"] == "built-in fact table"
    assert m["layers"]["sites"]["count"] == 3 + 3 + 4
    assert m["layers"]["fibre"]["units_joined"] == 3


def test_snapshot_files_are_geoparquet_in_25832(store):
    snap = store.load()
    assert set(snap.layers) == {
        "municipalities",
        "regional_plan",
        "brownfields",
        "lep_sites",
        "hydrogen",
        "sites",
        "motorway_junctions",
        "ports",
        "rail_freight",
        "rail_stations",
        "airports",
        "substations",
        "renewable_units",
        "industrial_heat",
        "natura2000",
        "floodplains",
    }
    for gdf in snap.layers.values():
        assert gdf.crs.to_epsg() == 25832
    assert snap.layers["municipalities"]["ags"].tolist() == ["05562008", "05562036", "05913000"]


def test_layers_read_as_geopandas_reads_them_with_the_crs_parsed_once(store):
    snap = store.load()
    _crs.cache_clear()
    for meta in snap.manifest["layers"].values():
        if meta.get("kind") == "vector":
            path = snap.path / meta["file"]
            ours = read_vector(path)
            assert_geodataframe_equal(ours, gpd.read_parquet(path), check_crs=True)
            assert ours.crs == gpd.read_parquet(path).crs
    # one CRS (EPSG:25832) for sixteen layers: parsed once
    assert _crs.cache_info().misses == 1 and _crs.cache_info().hits == len(snap.layers) - 1


def test_rollback_and_listing(store, fixtures):
    first = store.current_id()
    build(store, sources=fixtures / "sources.toml")
    second = store.current_id()
    assert second != first
    assert [m["id"] for m in store.list()] == [second, first]
    assert main(["rollback", first, "--data", str(store.root)]) == 0
    assert store.current_id() == first
    assert main(["rollback", "no-such-id", "--data", str(store.root)]) == 1
    assert store.current_id() == first


def test_sweep_removes_leftovers_at_the_next_build(store, fixtures):
    (store.root / ".tmp-20990101T000000Z").mkdir()
    (store.root / ".tmp-20990101T000000Z" / "sites.parquet").write_bytes(b"half")
    (store.root / ".CURRENT.tmp-123").write_text("x")
    build(store, sources=fixtures / "sources.toml")
    assert not list(store.root.glob(".tmp-*")) and not list(store.root.glob(".CURRENT.tmp-*"))


def test_a_second_concurrent_build_is_refused(store, fixtures):
    with store.lock(), pytest.raises(RuntimeError, match="another build is running"):
        build(store, sources=fixtures / "sources.toml")


@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_during_build_leaves_a_complete_snapshot_live(store, fixtures, point):
    before = store.current_id()
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from layers.build import build
        from layers.store import Store, _crs, read_vector

        def hook(stage):
            if stage == {point!r}:
                os.kill(os.getpid(), signal.SIGKILL)

        build(Store({str(store.root)!r}), sources=Path({str(fixtures / "sources.toml")!r}),
              hook=hook)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    live = store.current_id()
    # CURRENT names a complete snapshot: the old one, or the new one once it was published
    assert live == before if point != "published" else live != before
    manifest = json.loads((store.snapshots / live / "manifest.json").read_text())
    for meta in manifest["layers"].values():
        assert (store.snapshots / live / meta["file"]).exists()
    store.load()
    # the next build sweeps whatever the killed one left and publishes normally
    build(store, sources=fixtures / "sources.toml")
    assert not list(store.root.glob(".tmp-*"))
    assert all((d / "manifest.json").exists() for d in store.snapshots.iterdir())


def test_verify_hashes_a_file_again_only_when_its_stat_changed(store, monkeypatch):
    """The first check hashes every file and stamps their stat; the next ones hash none of the
    unchanged files, but any rewrite (same size, one byte flipped) is still found."""
    import layers.store as store_module
    from layers.errors import CorruptSnapshot

    hashed: list[str] = []
    real = store_module._sha256
    monkeypatch.setattr(store_module, "_sha256", lambda p: hashed.append(p.name) or real(p))
    files = [n for n in store.manifest()["files"] if (store.snapshots / store.current_id() / n).is_file()]
    store.verify()
    assert sorted(hashed) == sorted(files)
    hashed.clear()
    store.verify()
    assert hashed == []  # nothing changed: nothing read
    store.verify(full=True)
    assert sorted(hashed) == sorted(files)  # asked for: everything read
    hashed.clear()
    f = store.snapshots / store.current_id() / "sites.parquet"
    raw = bytearray(f.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    f.write_bytes(bytes(raw))  # same size, new content
    with pytest.raises(CorruptSnapshot, match="sites.parquet"):
        store.verify()
    assert hashed == ["sites.parquet"]  # only the changed file was read again
    # a garbled stamp is no stamp
    (store.snapshots / store.current_id() / ".verified.json").write_text("{not json")
    hashed.clear()
    with pytest.raises(CorruptSnapshot):
        store.verify()


def test_layers_read_from_their_arrow_copies_equal_the_geoparquet(store, tmp_path, caplog):
    """The serving cache's uncompressed Arrow copies load to the same frames as the snapshot's
    GeoParquet files; a damaged copy is reported and the GeoParquet file read instead."""
    from layers.store import write_arrow_copies

    sid = store.current_id()
    copies = tmp_path / "copies"
    write_arrow_copies(store.snapshots / sid, store.manifest(), copies)
    plain, mapped = store.load(), store.load(copies=copies)
    vector = [n for n, m in store.manifest()["layers"].items() if m.get("kind") == "vector"]
    assert vector and sorted(p.stem for p in copies.iterdir()) == sorted(vector)
    for name in vector:
        assert_geodataframe_equal(mapped.layers[name], plain.layers[name], check_less_precise=False)
        assert list(mapped.layers[name].dtypes) == list(plain.layers[name].dtypes), name
    f = copies / "sites.arrow"
    f.write_bytes(f.read_bytes()[:1000])
    with caplog.at_level("WARNING", logger="nrw_sites.layers"):
        again = store.load(copies=copies)
    assert "sites.arrow unreadable" in caplog.text
    assert_geodataframe_equal(again.layers["sites"], plain.layers["sites"])
