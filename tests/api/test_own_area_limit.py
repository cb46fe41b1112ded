"""A polygon far larger than any site is refused with the limit named (issue 18, defect 8).

The areas are measured independently of the service: pyproj's geodesic area on the WGS84
ellipsoid (the service measures in EPSG:25832, whose scale error in NRW is below 0.1 %).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyproj import Geod

from api.service import Service
from geo.areas import MAX_OWN_AREA_HA
from geo.errors import InvalidGeometry
from geo.query import RankingQuery
from tests.api.conftest import assert_problem

GEOD = Geod(ellps="WGS84")
ROOT = Path(__file__).resolve().parents[2]


def _square(lon0: float, lat0: float, dlon: float, dlat: float) -> list[list[float]]:
    return [[lon0, lat0], [lon0 + dlon, lat0], [lon0 + dlon, lat0 + dlat], [lon0, lat0 + dlat], [lon0, lat0]]


def _ha(ring: list[list[float]]) -> float:
    lons, lats = zip(*ring, strict=True)
    return abs(GEOD.polygon_area_perimeter(lons, lats)[0]) / 1e4


def _post(client, ring):  # type: ignore[no-untyped-def]
    body = json.dumps({"type": "Polygon", "coordinates": [ring]})
    return client.post("/api/score", content=body, headers={"content-type": "application/geo+json"})


# about 45 % of NRW's bounding box around its centre, as in the issue: ~15,000 km²
HUGE = _square(6.3, 50.8, 2.4, 1.0)
# over and under the limit, near Datteln (≈ 1.2 and 0.93 × MAX_OWN_AREA_HA)
OVER = _square(7.30, 51.60, 0.0710, 0.0440)
UNDER = _square(7.30, 51.60, 0.0550, 0.0440)


def test_limit_is_a_site_not_a_region() -> None:
    assert MAX_OWN_AREA_HA == 2_000
    assert _ha(OVER) > MAX_OWN_AREA_HA > _ha(UNDER)
    assert _ha(HUGE) > 1_000_000  # 10,000 km²


@pytest.mark.parametrize("ring", [HUGE, OVER], ids=["45-percent-of-nrw", "just-over"])
def test_a_polygon_over_the_limit_is_refused_with_the_limit_named(client, ring) -> None:  # type: ignore[no-untyped-def]
    detail = assert_problem(_post(client, ring), 422)["detail"]
    assert "at most 2,000 ha (20 km²)" in detail
    stated = float(detail.split("covers ")[1].split(" ha")[0].replace(",", ""))
    assert stated == pytest.approx(_ha(ring), rel=0.01)  # its own area, measured independently


def test_a_polygon_under_the_limit_is_scored(client) -> None:  # type: ignore[no-untyped-def]
    r = _post(client, UNDER)
    assert r.status_code == 200, r.text
    assert r.json()["area_ha"] == pytest.approx(_ha(UNDER), rel=0.01)


def test_a_file_with_an_oversized_feature_is_refused(svc: Service, tmp_path: Path) -> None:
    def feature(name: str, ring: list[list[float]]) -> dict[str, object]:
        geometry = {"type": "Polygon", "coordinates": [ring]}
        return {"type": "Feature", "properties": {"name": name}, "geometry": geometry}

    fc = {"type": "FeatureCollection", "features": [feature("ok", UNDER), feature("big", HUGE)]}
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(fc))
    with pytest.raises(InvalidGeometry, match=r"feature 2: the polygon covers .* at most 2,000 ha"):
        svc.score_file(path, RankingQuery.of(None))


def test_the_page_refuses_at_the_same_limit() -> None:
    """draw.js checks the area before sending (its message in the page's language): same limit."""
    js = (ROOT / "maps/static/js/draw.js").read_text(encoding="utf-8")
    assert f"export const MAX_OWN_AREA_HA = {MAX_OWN_AREA_HA:.0f};" in js
