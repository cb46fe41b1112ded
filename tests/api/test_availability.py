"""Availability over the API (issue 19 §1): the ``available_by`` filter against a plain
recomputation from the stored classes and dates, the ``availability`` criterion's values, the
restrictions as a JSON list, and clear 400s for bad months."""

from __future__ import annotations

import datetime as dt

from tests.api.conftest import assert_problem

HORIZON = {"now": 0, "lt_1y": 12, "1_3y": 36}
TABLE = {"now": 1.0, "lt_1y": 0.75, "1_3y": 0.4, "gt_3y": 0.1, "unknown": 0.1}


def _expected_available(svc, month: str) -> set[str]:
    """Sites available by ``month``, worked out with plain dates: the source's date, else the data
    date plus the class's horizon; later than 3 years without a date and unknown never pass."""
    day = dt.date.fromisoformat(svc.snap.manifest["layers"]["brownfields"]["date"])
    y, m = map(int, month.split("-"))
    last = (y, m)
    keep = set()
    for sid, cls, start in zip(
        svc.sites["site_id"], svc.sites["availability"], svc.sites["available_from"], strict=True
    ):
        if isinstance(start, str):
            d = dt.date.fromisoformat(start)
            by = (d.year, d.month)
        elif cls in HORIZON:
            months = day.year * 12 + day.month - 1 + HORIZON[cls]
            by = (months // 12, months % 12 + 1)
        else:
            continue
        if by <= last:
            keep.add(sid)
    return keep


def test_available_by_equals_a_plain_recomputation(client, svc):
    month = (dt.date.today() + dt.timedelta(days=400)).strftime("%Y-%m")
    expected = _expected_available(svc, month)
    assert 0 < len(expected) < len(svc.sites)
    got = client.get("/api/ranking", params={"available_by": month, "limit": 1000, "min_area_ha": 0}).json()
    ids = {i["site_id"] for i in got["items"]}
    public = set(svc.sites["site_id"])  # the test client is public: its view holds public sites only
    assert ids == expected & public


def test_unknown_is_never_available(client, svc):
    unknown = set(svc.sites.loc[svc.sites["availability"] == "unknown", "site_id"])
    assert unknown
    got = client.get(
        "/api/ranking", params={"available_by": "2099-12", "limit": 1000, "min_area_ha": 0}
    ).json()
    assert not unknown & {i["site_id"] for i in got["items"]}


def test_criterion_values_and_marketable_follow_the_class(client, svc):
    day = dt.date.fromisoformat(svc.snap.manifest["layers"]["brownfields"]["date"])
    within_a_year = (
        ((day.year + 1) * 12 + day.month - 1) // 12,
        ((day.year + 1) * 12 + day.month - 1) % 12 + 1,
    )
    items = client.get("/api/ranking", params={"limit": 300, "min_area_ha": 0}).json()["items"]
    seen = set()
    for it in items:
        b = it["breakdown"]["availability"]
        assert b["indicator"] == {"availability": it["availability"], "available_from": it["available_from"]}
        assert b["v"] == TABLE[it["availability"]]
        seen.add(it["availability"])
        r = it["restrictions"]
        assert r is None or (isinstance(r, list) and all(isinstance(x, str) for x in r))
        if it["available_from"]:
            d = dt.date.fromisoformat(it["available_from"])
            soon = (d.year, d.month) <= within_a_year
        else:
            soon = it["availability"] in ("now", "lt_1y")
        assert it["marketable"] is (r == [] and soon), it["site_id"]
    assert {"now", "unknown", "gt_3y"} <= seen
    assert any(it["marketable"] for it in items) and any(it["restrictions"] for it in items)


def test_bad_months_are_400_naming_the_parameter(client):
    for bad in ("2027-13", "27-01", "2027-06<script>", "soon"):
        p = assert_problem(client.get("/api/ranking", params={"available_by": bad}), 400)
        assert "available_by" in p["detail"] and "<script>" not in p["detail"]


def test_exports_carry_the_land_fields(client):
    r = client.get("/api/exports/nrw.csv", params={"lang": "en"})
    assert r.status_code == 200
    head = r.text.splitlines()
    cols = next(line for line in head if line.startswith("Site ID") or "Site ID" in line)
    for name in ("Availability", "Available from", "Restrictions", "Marketable", "Time to market"):
        assert name in cols, name


def test_area_exports_take_the_filters(client, svc):
    ags = svc.sites["ags"].value_counts().index[0]
    month = (dt.date.today() + dt.timedelta(days=400)).strftime("%Y-%m")
    keep = _expected_available(svc, month)
    doc = client.get(f"/api/exports/municipalities/{ags}.geojson", params={"available_by": month}).json()
    assert doc["filters"] == {"available_by": month}
    props = [f["properties"] for f in doc["features"]]
    assert props and any(p["excluded_by"] == "available_by" for p in props)
    for p in props:
        if p["excluded_by"] is None:
            assert p["site_id"] in keep
        elif p["site_id"] not in keep:
            assert p["excluded_by"] is not None
    plain = client.get(f"/api/exports/municipalities/{ags}.geojson").json()
    assert "filters" not in plain and len(plain["features"]) == len(props)
    assert_problem(
        client.get(f"/api/exports/municipalities/{ags}.csv", params={"available_by": "06/2027"}), 400
    )
