"""Build a snapshot: ingest (demo or sources.toml), check, compute the sites layer, publish.

A build writes into a staging directory and publishes atomically; on any error (or a kill) the
previous snapshot stays live and the staging directory is removed (or swept by the next build).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import sys
import time
from collections.abc import Callable
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import DomainError
from geo.grid import Coverage
from geo.sites import compute_indicators, derive_sites
from layers import (
    demo,
    demo_history,
    plugins,  # noqa: F401 - registers the plug-in layers
)
from layers import sources as registry
from layers.demo_history import Era
from layers.demo_transport import FACT_META as TRANSPORT_FACTS
from layers.errors import SourceError
from layers.io import sha256
from layers.lep import DEFAULTS as LEP_DEFAULTS
from layers.municipalities import BOUNDARIES_ATTRIBUTION, BOUNDARIES_FILE, BOUNDARIES_LICENCE
from layers.schema import check
from layers.sources import load_sources
from layers.store import SNAPSHOT_FORMAT, Store, write_coverage, write_manifest, write_vector

Progress = Callable[[str], None]
ENGINES = ("inproc", "dask")  # where the indicator stage runs (layers/engine_dask.py)
FUNDING_FILE = "facts/funding_regions.csv"
CANDIDATE_LAYERS = ("regional_plan", "brownfields", "lep_sites")


def code_version() -> str:
    """Return the installed nrw-sites version."""
    try:
        return metadata.version("nrw-sites")
    except metadata.PackageNotFoundError:
        return "unknown"


def load_funding() -> pd.DataFrame:
    """The funding-region fact table (GRW C/D, JTF, 5-Standorte) keyed by AGS, with sources."""
    with resources.files("layers").joinpath(FUNDING_FILE).open("rb") as f:
        return pd.read_csv(f, comment="#", dtype=str)


def stderr_progress() -> Progress:
    """A progress printer with elapsed seconds, to stderr."""
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    return say


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def build(
    store: Store,
    *,
    sources: Path | None = None,
    n_sites: int = 2000,
    seed: int = 42,
    progress: Progress | None = None,
    hook: Callable[[str], None] | None = None,
    activate: bool = True,
    era: Era | None = None,
    engine: str = "inproc",
    scheduler: str | None = None,
    workers: int = 2,
    prepare: Callable[[Store, str], None] | None = None,
) -> dict[str, Any]:
    """Build and publish a snapshot from ``sources`` (a sources.toml) or the demo generator.

    ``engine``: ``inproc`` computes the indicators in this process (with its helper processes);
    ``dask`` partitions them over a dask cluster (layers/engine_dask.py): the one at
    ``scheduler`` (``tcp://HOST:PORT``), else a local cluster of ``workers`` processes.

    ``era`` tells the demo as it was a year ago (``earlier``) or is now (``current``;
    layers/demo_history.py); ``build_demo_history`` publishes both.

    ``hook`` is called with a stage name at each stage boundary (used by the kill tests);
    with ``activate=False`` the snapshot is published but CURRENT stays (admin publishing).
    ``prepare(store, id)`` runs once the snapshot is in place and before it goes live (the
    command line writes the serving cache there, api/views.py ``prepare``, so no worker has to);
    if it fails, the build says so and goes on: what it prepares, the workers make themselves.
    Returns the published manifest.
    """
    say = progress or (lambda _m: None)
    at = hook or (lambda _s: None)
    timings: dict[str, float] = {}
    if engine not in ENGINES:
        raise DomainError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    if scheduler is not None and engine != "dask":
        raise DomainError("--scheduler names a dask scheduler: use it with --engine dask")
    if engine == "dask":  # before the ingest: a missing package or an unreachable scheduler fails at once
        from layers.engine_dask import check_scheduler, require

        require()
        if scheduler is not None:
            check_scheduler(scheduler)
    with store.lock():
        swept = store.sweep()
        if swept:
            say(f"removed leftovers of an interrupted build: {', '.join(swept)}")
        sid = store.new_id()
        staging = store.root / f".tmp-{sid}"
        staging.mkdir(parents=True)
        try:
            t = time.perf_counter()
            at("ingest")
            if sources is None:
                layers, coverage, meta = _ingest_demo(n_sites, seed, say, era)
            else:
                layers, coverage, meta = _ingest_sources(sources, say)
            timings["ingest"] = round(time.perf_counter() - t, 3)

            t = time.perf_counter()
            at("indicators")
            say("sites: deriving candidates and indicators")
            funding = load_funding()
            data_date = _data_date(meta)
            warnings: list[str] = []
            if engine == "dask":
                from layers.engine_dask import dask_indicators

                sites = dask_indicators(
                    derive_sites(layers),
                    layers,
                    coverage,
                    funding,
                    data_date=data_date,
                    scheduler=scheduler,
                    workers=workers,
                    progress=say,
                    warn=warnings.append,
                )
            else:
                sites = compute_indicators(
                    derive_sites(layers),
                    layers,
                    coverage,
                    funding,
                    say,
                    warn=warnings.append,
                    data_date=data_date,
                )
            for w in warnings:
                say(f"warning: {w}")
            timings["indicators"] = round(time.perf_counter() - t, 3)

            t = time.perf_counter()
            at("write")
            say("writing snapshot")
            entries: dict[str, Any] = {}
            for name, gdf in {**layers, "sites": sites}.items():
                file = write_vector(staging, name, gdf)
                at(f"write:{name}")
                entries[name] = {
                    "kind": "vector",
                    "file": file,
                    "count": len(gdf),
                    "crs": "EPSG:25832",
                    **meta.get(name, {}),
                }
            for name, cov in coverage.items():
                file = write_coverage(staging, name, cov)
                entries[name] = {
                    "kind": "coverage",
                    "file": file,
                    "resolution": cov.resolution,
                    "count": cov.stats()["values"],
                    "stats": cov.stats(),
                    "crs": "EPSG:25832" if cov.grid is not None else None,
                    **({"grid": dataclasses.asdict(cov.spec)} if cov.grid is not None else {}),
                    **meta.get(name, {}),
                }
            entries["sites"].update(
                {
                    "format": "derived",
                    "source": "regional_plan + brownfields + lep_sites",
                    "licence": "derived from the layers above; see each layer",
                    "attribution": "NRW Site Finder (derived)",
                }
            )
            missing = [name for name in registry.LAYERS if name not in entries]
            manifest = {
                "id": sid,
                "created": _now(),
                "code_version": code_version(),
                "format_version": SNAPSHOT_FORMAT,
                "synthetic": sources is None,
                "source": "demo generator" if sources is None else str(sources.resolve()),
                "demo": {"sites": n_sites, "seed": seed, **({"era": era} if era else {})}
                if sources is None
                else None,
                "data_date": data_date.isoformat(),
                "layers": entries,
                "missing_layers": missing,
                "funding": {
                    "source": f"layers/{FUNDING_FILE}",
                    "rows": len(funding),
                    "note": "GRW list is a sourced subset, see the file header",
                },
                "timings_s": timings,
                "warnings": warnings,
            }
            if engine != "inproc":  # the default engine's manifest stays as it was
                manifest["engine"] = {"name": engine, "scheduler": scheduler or f"local ({workers} workers)"}
            timings["write"] = round(time.perf_counter() - t, 3)
            t = time.perf_counter()  # the web map's data: map.pmtiles and coverage overlays (§5.3)
            at("tiles")
            from layers.tiles import write_map_data

            manifest.update(write_map_data(staging, layers, sites, coverage, entries, say))
            timings["tiles"] = round(time.perf_counter() - t, 3)
            at("manifest")
            write_manifest(staging, manifest)
            at("publish")
            store.publish(staging, sid, activate=activate and prepare is None)
            at("published")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if prepare is not None:
            _prepare(store, sid, prepare, say)
            if activate:
                store.set_current(sid)
    say(f"published snapshot {sid}")
    return manifest


def _prepare(store: Store, sid: str, prepare: Callable[[Store, str], None], say: Progress) -> None:
    t = time.perf_counter()
    try:
        prepare(store, sid)
        say(f"prepared snapshot {sid} for serving in {time.perf_counter() - t:.1f} s")
    except Exception as exc:  # derived data: the serving workers make it themselves
        say(f"warning: snapshot {sid} not prepared for serving ({type(exc).__name__}: {exc})")


def _data_date(meta: dict[str, Any]) -> dt.date:
    """The day the candidate layers' availability classes refer to: the latest data date of
    regional_plan and brownfields (sources.toml ``date``), else today."""
    days = []
    for name in ("regional_plan", "brownfields"):
        try:
            days.append(dt.date.fromisoformat(str(meta.get(name, {}).get("date"))[:10]))
        except ValueError:
            continue
    return max(days, default=dt.date.today())


def build_demo_history(
    store: Store, n_sites: int, seed: int, progress: Progress | None = None, **engine: Any
) -> dict[str, Any]:
    """Publish the demo twice, a year apart (``earlier``, then ``current``, which is live);
    ``engine``: ``build``'s engine, scheduler, workers and ``prepare`` (for the live one)."""
    build(store, n_sites=n_sites, seed=seed, progress=progress, era="earlier", **{**engine, "prepare": None})
    return build(store, n_sites=n_sites, seed=seed, progress=progress, era="current", **engine)


def _ingest_demo(
    n_sites: int, seed: int, say: Progress, era: Era | None = None
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, Coverage], dict[str, Any]]:
    today = dt.date.today()
    day = today.replace(year=today.year - 1, day=min(today.day, 28)) if era == "earlier" else today
    d = demo.generate(n_sites, seed, progress=lambda m: say(f"demo: {m}"), data_date=today)
    if era is not None:
        say(f"demo: told as {'a year ago' if era == 'earlier' else 'now'} ({day.isoformat()})")
        d.layers.update(demo_history.tell(d.layers, seed, era, day))
    rng = np.random.default_rng(seed)
    notes = dict(d.notes)
    real: dict[str, Any] = {}  # real facts in the demo (e.g. Hotmaps): licence, attribution
    for name, spec in registry.PLUGIN_LAYERS.items():  # plug-in layers with a demo generator
        if spec.demo is None:
            continue
        data = spec.demo(rng, d.layers["municipalities"])
        if spec.kind == "grid":
            d.coverage[name] = data
        else:
            d.layers[name] = check(name, data, "demo generator")
        notes[name] = spec.note or f"{name}: SYNTHETIC demo features"
        if spec.demo_real is not None:
            real[name] = spec.demo_real
    meta = {
        name: {
            "format": "demo",
            "source": "demo generator (synthetic)",
            "licence": demo.SYNTHETIC_LICENCE,
            "attribution": demo.SYNTHETIC_ATTRIBUTION,
            "date": day.isoformat(),
            "synthetic": True,
            "note": note,
        }
        for name, note in notes.items()
    }
    meta["lep_sites"].update(LEP_DEFAULTS["facts"], synthetic=False)
    for name, facts in {**TRANSPORT_FACTS, **real}.items():  # real facts, with their own licences
        if name in meta:
            meta[name].update(facts, synthetic=False)
    meta["municipalities"].update(  # real (generalised) facts, not synthetic
        source=f"layers/{BOUNDARIES_FILE} (Geobasis NRW DVG2, generalised)",
        licence=BOUNDARIES_LICENCE,
        attribution=BOUNDARIES_ATTRIBUTION,
        date="2022-03-08",
        synthetic=False,
    )
    meta["hydrogen"]["attribution"] = (
        "place names: FNB Gas Kernnetz lists, geocoded by PyPSA-DE (MIT; OSM-based, ODbL); "
        "segments SYNTHETIC (NRW Site Finder demo)"
    )
    return d.layers, d.coverage, meta


def _ingest_sources(
    file: Path, say: Progress
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, Coverage], dict[str, Any]]:
    cfg = load_sources(file)
    layers: dict[str, gpd.GeoDataFrame] = {}
    coverage: dict[str, Coverage] = {}
    meta: dict[str, Any] = {}
    for name in registry.LAYERS:
        if name not in cfg:
            continue
        src = cfg[name]
        say(f"{name}: reading {src.path.name if src.path else 'built-in facts'} ({src.format})")
        try:
            data = src.read()
        except SourceError:
            raise
        except Exception as exc:  # a reader met something it did not foresee: still name the file
            raise SourceError(
                name, src.path, f"cannot be read as '{src.format}': {type(exc).__name__}: {str(exc)[:300]}"
            ) from exc
        info: dict[str, Any] = {
            "format": src.format,
            "source": str(src.path) if src.path else "built-in fact table",
            "sha256": sha256(src.path) if src.path else None,
            "licence": src.licence,
            "attribution": src.attribution,
            "date": src.date,
            "synthetic": False,
        }
        info.update(getattr(data, "attrs", {}))  # a reader's report (e.g. MaStR units left out)
        if isinstance(data, Coverage):  # fibre, 5G and grid plug-in layers (population)
            coverage[name] = data
            if data.units is not None:
                info.update(_join_report(data, layers.get("municipalities")))
        else:
            layers[name] = data
        meta[name] = info
        say(f"{name}: {data.stats()['values'] if isinstance(data, Coverage) else len(data)} features/values")
    if not any(len(layers.get(k, ())) for k in CANDIDATE_LAYERS):
        raise SourceError(
            "sources",
            file,
            f"no candidate sites: configure at least one of {', '.join(CANDIDATE_LAYERS)} with features",
        )
    return layers, coverage, meta


def _join_report(cov: Coverage, muni: gpd.GeoDataFrame | None) -> dict[str, Any]:
    """How many units of the statistics match the municipalities layer."""
    if muni is None or cov.units is None:
        return {}
    keys = set(muni["ags"]) if cov.resolution == "municipal" else set(muni["kreis_ags"])
    have = set(cov.units.index)
    return {
        "units_joined": len(keys & have),
        "units_expected": len(keys),
        "units_without_value": sorted(keys - have)[:20],
        "keys_not_in_municipalities": sorted(have - keys)[:20],
    }
