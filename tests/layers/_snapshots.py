"""Test helper: publish a second snapshot from a built one with its ``sites`` layer replaced."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time

import geopandas as gpd

from layers.store import MANIFEST, Store, write_vector


def publish_sites(store: Store, base: str, sites: gpd.GeoDataFrame) -> str:
    """Copy snapshot ``base``, replace its sites, publish it as a new, later snapshot; its id."""
    time.sleep(1.05)  # ids and ``created`` have one-second resolution
    sid = store.new_id()
    staging = store.root / f".tmp-{sid}"
    shutil.copytree(store.snapshots / base, staging)
    write_vector(staging, "sites", sites)
    manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    manifest["id"] = sid
    manifest["created"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    manifest["layers"]["sites"]["count"] = len(sites)
    (staging / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    store.publish(staging, sid)
    return sid
