"""``/api/statistics/reserves`` (issue 19 §3): every level on the demo app against plain pandas
group-bys, listing back to the sites, CSV (German decimals) and XLSX, bad input, public versus
staff, and take-up between two snapshots."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from api.main import create_app
from api.settings import Settings
from geo.access import public_view
from layers.keys import KeyStore
from layers.store import MANIFEST, Store
from tests.api.conftest import PROBLEM
from tests.layers._snapshots import publish_sites

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

URL = "/api/statistics/reserves"
DIGITS = {"municipality": 8, "kreis": 5, "district": 3}
COUNTS = {"municipality": 396, "kreis": 53, "district": 5, "state": 1}
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def stored(data_dir: Path) -> gpd.GeoDataFrame:
    """The demo snapshot's sites as stored (every site)."""
    return Store(data_dir).load().layers["sites"]


@pytest.fixture(scope="module")
def staff(data_dir: Path) -> dict[str, str]:
    return {"Authorization": f"Bearer {KeyStore(data_dir).add('statistics-staff', 'staff')}"}


def _reference(sites: pd.DataFrame, level: str) -> pd.DataFrame:
    """The figures by a plain group-by (availability: now, lt_1y, 1_3y, gt_3y, unknown or None)."""
    key = sites["ags"].str[: DIGITS[level]] if level != "state" else pd.Series("05", index=sites.index)
    area = sites["area_ha"]
    avail = sites["availability"]
    frame = pd.DataFrame(
        {
            "sites": 1,
            "reserve_ha": area,
            "reserve_ha_gib": area.where(sites["planning_category"] == "GIB", 0.0),
            "brownfield_ha": area.where(sites["is_brownfield"].astype(bool), 0.0),
            "available_now_ha": area.where(avail == "now", 0.0),
            "available_1y_ha": area.where(avail == "lt_1y", 0.0),
            "available_later_ha": area.where(avail.isin(["1_3y", "gt_3y"]), 0.0),
            "marketable_ha": area.where(sites["marketable"].fillna(False).astype(bool), 0.0),
            "available_unknown_ha": area.where(avail.isna() | (avail == "unknown"), 0.0),
            "sites_ge_10ha": (area >= 10).astype(int),
            "sites_ge_50ha": (area >= 50).astype(int),
        }
    )
    return frame.groupby(key.to_numpy()).sum()


def _units(doc: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(doc["units"]).set_index("key")


@pytest.mark.parametrize("level", ["municipality", "kreis", "district", "state"])
def test_every_level_against_a_plain_groupby(
    client: TestClient, stored: gpd.GeoDataFrame, level: str
) -> None:
    r = client.get(URL, params={"level": level})
    assert r.status_code == 200
    doc = r.json()
    assert (doc["level"], doc["view"], doc["synthetic"]) == (level, "public", True)
    assert doc["previous_snapshot"] is None and "no predecessor" in doc["note"]
    units = _units(doc)
    assert len(units) == COUNTS[level]  # every municipality, also those without a site
    assert units["takeup_ha"].isna().all() and units["takeup_ha_per_year"].isna().all()
    ref = _reference(public_view(stored), level).reindex(units.index, fill_value=0)
    for col in ref.columns:
        assert np.allclose(units[col].to_numpy(float), ref[col].to_numpy(float), atol=1e-3), col
    assert units["available_1y_ha"].sum() > 0 and units["marketable_ha"].sum() > 0
    for col in ref.columns:  # the units add up to the state
        assert units[col].sum() == pytest.approx(doc["state"][col], abs=0.01), col
    share = units["brownfield_ha"] / units["reserve_ha"].where(units["reserve_ha"] > 0)
    assert np.allclose(units["brownfield_share"].fillna(-1), share.fillna(-1), atol=1e-5)
    if level == "municipality":
        assert (units["sites"] == 0).any()  # municipalities without a site are there, with zeros
        assert doc["units"][0]["name"] and len(doc["units"][0]["key"]) == 8
    if level == "district":
        assert dict(zip(units.index, units["name"], strict=True)) == {
            "051": "Düsseldorf",
            "053": "Köln",
            "055": "Münster",
            "057": "Detmold",
            "059": "Arnsberg",
        }


def test_staff_see_every_site_privately(
    client: TestClient, stored: gpd.GeoDataFrame, staff: dict[str, str]
) -> None:
    pub = client.get(URL, params={"level": "kreis"})
    full = client.get(URL, params={"level": "kreis"}, headers=staff)
    assert full.status_code == 200 and full.json()["view"] == "full"
    assert "private" in full.headers["cache-control"]
    assert "private" not in pub.headers.get("cache-control", "")
    assert "Authorization" in full.headers["vary"]
    assert pub.json()["state"]["sites"] == int(stored["public"].sum())
    assert full.json()["state"]["sites"] == len(stored) > pub.json()["state"]["sites"]
    ref = _reference(stored, "kreis")
    units = _units(full.json()).reindex(ref.index)
    assert np.array_equal(units["sites"].to_numpy(), ref["sites"].to_numpy())
    hidden = stored[~stored["public"].astype(bool)]
    kreis = str(hidden["ags"].iloc[0])[:5]
    listed = client.get(f"{URL}/sites", params={"level": "kreis", "unit": kreis}, headers=staff).json()
    assert set(hidden.loc[hidden["ags"].str[:5] == kreis, "site_id"]) <= {
        s["site_id"] for s in listed["sites"]
    }
    public = client.get(f"{URL}/sites", params={"level": "kreis", "unit": kreis}).json()
    assert not set(hidden["site_id"]) & {s["site_id"] for s in public["sites"]}


@pytest.mark.parametrize(
    "level,figure",
    [
        ("municipality", "reserve_ha"),
        ("kreis", "reserve_ha_gib"),
        ("kreis", "available_unknown_ha"),
        ("district", "brownfield_ha"),
        ("state", "sites_ge_10ha"),
    ],
)
def test_each_figure_lists_back_to_its_sites(
    client: TestClient, stored: gpd.GeoDataFrame, level: str, figure: str
) -> None:
    units = _units(client.get(URL, params={"level": level}).json())
    sites = public_view(stored)
    for key in units.index[units[figure] > 0][:4]:
        r = client.get(f"{URL}/sites", params={"level": level, "unit": key, "figure": figure})
        assert r.status_code == 200
        doc = r.json()
        assert doc["value"] == units.loc[key, figure]
        listed = pd.DataFrame(doc["sites"])
        if figure == "sites_ge_10ha":
            assert doc["count"] == units.loc[key, figure] and (listed["area_ha"] >= 10).all()
        else:
            assert listed["area_ha"].sum() == pytest.approx(units.loc[key, figure], abs=1e-3)
            assert doc["area_ha"] == pytest.approx(units.loc[key, figure], abs=1e-3)
        inside = sites["ags"].str.startswith(key) if level != "state" else pd.Series(True, index=sites.index)
        assert set(listed["site_id"]) <= set(sites.loc[inside, "site_id"])


def test_csv_for_excel(client: TestClient) -> None:
    doc = client.get(URL, params={"level": "kreis"}).json()
    r = client.get(f"{URL}.csv", params={"level": "kreis"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf") and "attachment" in r.headers["content-disposition"]
    df = pd.read_csv(
        io.BytesIO(r.content), sep=";", decimal=",", encoding="utf-8-sig", dtype={"Kreisschlüssel": str}
    )
    assert len(df) == 53 and list(df.columns[:4]) == [
        "Kreisschlüssel",
        "Name",
        "Flächen (Anzahl)",
        "Reserve (ha)",
    ]
    units = _units(doc)
    got = df.set_index("Kreisschlüssel")
    assert np.allclose(got["Reserve (ha)"], units.loc[got.index, "reserve_ha"], atol=0.006)
    assert got["Flächen ≥ 10 ha (Anzahl)"].tolist() == units.loc[got.index, "sites_ge_10ha"].tolist()
    assert (got["Datenhinweis"].str.contains("SYNTHETISCH")).all()
    assert "," in r.content.decode("utf-8-sig").splitlines()[1]  # decimal comma
    default = client.get(f"{URL}.csv")  # level defaults to municipality
    assert len(pd.read_csv(io.BytesIO(default.content), sep=";", decimal=",", encoding="utf-8-sig")) == 396
    en = client.get(f"{URL}.csv", params={"level": "state", "lang": "en"}).content.decode("utf-8-sig")
    assert en.startswith("State key;Name;Sites (number);Reserve (ha)") and "SYNTHETIC" in en


def test_xlsx_workbook(client: TestClient) -> None:
    r = client.get(f"{URL}.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["Gemeinden", "Kreise", "Regierungsbezirke", "Land", "Quellen"]
    doc = client.get(URL, params={"level": "municipality"}).json()
    for name, count in zip(wb.sheetnames[:4], COUNTS.values(), strict=True):
        ws = wb[name]
        assert ws.freeze_panes == "C3"
        assert "SYNTHETISCH" in ws["A1"].value
        assert ws["B2"].value == "Name" and ws["D2"].value == "Reserve (ha)"
        assert ws.max_row == 2 + count
    ws = wb["Gemeinden"]
    assert ws["A3"].value == doc["units"][0]["key"] and ws["A3"].data_type == "s"  # keys stay text
    assert ws["D3"].value == pytest.approx(doc["units"][0]["reserve_ha"], abs=1e-4)
    assert ws["D3"].number_format == "#,##0.00" and ws["C3"].number_format == "#,##0"
    share_col = 3 + [f["name"] for f in doc["figures"]].index("brownfield_share")
    assert (
        ws.cell(2, share_col).value == "Brachflächenanteil" and ws.cell(3, share_col).number_format == "0.0%"
    )
    text = [str(c.value) for row in wb["Quellen"].iter_rows() for c in row if c.value is not None]
    assert any("SYNTHETISCH" in t for t in text) and doc["snapshot"] in text
    assert "dl-de/zero-2-0" in " ".join(text) and "reserve_ha" in text  # licences and figure definitions
    one = load_workbook(
        io.BytesIO(client.get(f"{URL}.xlsx", params={"level": "kreis", "lang": "en"}).content)
    )
    assert one.sheetnames == ["Kreise", "Sources"] and "SYNTHETIC" in one["Kreise"]["A1"].value


@pytest.mark.parametrize("path", [URL, f"{URL}.csv", f"{URL}.xlsx", f"{URL}/sites?unit=05562"])
def test_bad_input(client: TestClient, path: str) -> None:
    sep = "&" if "?" in path else "?"
    r = client.get(f"{path}{sep}level={HOSTILE}")
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM
    assert "'level'" in r.json()["detail"] and "script" not in r.text
    for sid in ("20990101T000000Z", HOSTILE, "../../etc/passwd"):
        r = client.get(path + sep + "snapshot=" + sid)
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
        assert "script" not in r.text and "passwd" not in r.text and "2099" not in r.text
    r = client.get(f"{path}{sep}{HOSTILE}=1")
    assert r.status_code == 400 and "script" not in r.text


def test_bad_unit_and_figure(client: TestClient) -> None:
    r = client.get(f"{URL}/sites", params={"level": "kreis", "unit": "05999"})
    assert r.status_code == 404 and "05999" not in r.text
    r = client.get(f"{URL}/sites", params={"level": "kreis", "unit": "05562", "figure": "brownfield_share"})
    assert r.status_code == 400 and "'figure'" in r.json()["detail"]
    r = client.get(f"{URL}/sites", params={"level": "kreis"})
    assert r.status_code == 400 and "'unit'" in r.json()["detail"]


def test_openapi_documents_the_routes(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for p in (URL, f"{URL}.csv", f"{URL}.xlsx", f"{URL}/sites"):
        responses = paths[p]["get"]["responses"]
        assert {"200", "400", "404"} <= set(responses), p
        params = {q["name"]: q for q in paths[p]["get"]["parameters"]}
        assert "level" in params and "snapshot" in params
    level = {q["name"]: q for q in paths[URL]["get"]["parameters"]}["level"]
    assert "district" in json.dumps(level["schema"])


# -- take-up between two snapshots -----------------------------------------------------------
@pytest.fixture(scope="module")
def pair(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the demo store and a later snapshot two years on: 6 sites removed (one of
    them not public), one re-keyed (same geometry, new id: not take-up)."""
    root = tmp_path_factory.mktemp("reserves") / "data"
    shutil.copytree(data_dir, root, ignore=shutil.ignore_patterns("*.sqlite*", "keys*", "audit"))
    store = Store(root)
    old_id = store.current_id()
    assert old_id
    old = store.load(old_id).layers["sites"]
    hidden = np.flatnonzero(~old["public"].to_numpy(bool))[:1]
    shown = np.flatnonzero(old["public"].to_numpy(bool))[:5]
    gone = np.r_[hidden, shown]
    keep = np.setdiff1d(np.arange(len(old)), gone)
    new = old.iloc[keep].copy().reset_index(drop=True)
    rekeyed = str(new.loc[10, "site_id"])
    new.loc[10, "site_id"] = "rekeyed-1"
    new_id = publish_sites(store, old_id, new)
    created = dt.datetime.fromisoformat(store.manifest(new_id)["created"])
    path = store.snapshots / old_id / MANIFEST
    m = json.loads(path.read_text(encoding="utf-8"))
    m["created"] = (created - dt.timedelta(days=2 * 365.25)).isoformat(timespec="seconds")
    day = dt.date.fromisoformat(store.manifest(new_id)["data_date"])
    m["data_date"] = (day - dt.timedelta(days=731)).isoformat()  # take-up runs over the data dates
    path.write_text(json.dumps(m), encoding="utf-8")
    return {
        "root": root,
        "old_id": old_id,
        "new_id": new_id,
        "removed": old.iloc[gone],
        "rekeyed": rekeyed,
        "key": KeyStore(root).add("takeup-staff", "staff"),
    }


@pytest.fixture(scope="module")
def client2(pair: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data=pair["root"]))) as c:
        yield c


def test_take_up_between_two_snapshots(client2: TestClient, pair: dict[str, Any]) -> None:
    removed = pair["removed"]
    for headers, rows in (
        ({}, removed[removed["public"].astype(bool)]),
        ({"Authorization": f"Bearer {pair['key']}"}, removed),
    ):
        doc = client2.get(URL, params={"level": "kreis"}, headers=headers).json()
        assert doc["snapshot"] == pair["new_id"] and doc["previous_snapshot"] == pair["old_id"]
        assert doc["years"] == pytest.approx(731 / 365.25, abs=1e-4) and doc["note"] is None
        units = _units(doc)
        ref = rows.groupby(rows["ags"].str[:5])["area_ha"].sum().reindex(units.index, fill_value=0.0)
        assert np.allclose(units["takeup_ha"], ref, atol=1e-3)
        assert np.allclose(units["takeup_ha_per_year"], ref / (731 / 365.25), atol=1e-3)
        assert doc["state"]["takeup_ha"] == pytest.approx(rows["area_ha"].sum(), abs=1e-3)
        key = str(rows["ags"].iloc[0])[:5]
        listed = client2.get(
            f"{URL}/sites", params={"level": "kreis", "unit": key, "figure": "takeup_ha"}, headers=headers
        ).json()
        assert listed["snapshot"] == pair["old_id"]
        assert {s["site_id"] for s in listed["sites"]} == set(rows.loc[rows["ags"].str[:5] == key, "site_id"])
        assert listed["area_ha"] == pytest.approx(units.loc[key, "takeup_ha"], abs=1e-3)
        assert pair["rekeyed"] not in {s["site_id"] for s in listed["sites"]}
    first = client2.get(URL, params={"level": "state", "snapshot": pair["old_id"]}).json()
    assert first["snapshot"] == pair["old_id"] and first["state"]["takeup_ha"] is None
    assert "no predecessor" in first["note"]
    again = client2.get(URL, params={"level": "kreis"})
    assert again.content == client2.get(URL, params={"level": "kreis"}).content  # cached, identical
