"""One site's score takes the ranking's hard filters: rank, count and rank stability among the
sites the filtered list shows (issue 18, defect 2).

The reference is a plain computation: the unfiltered ranking (``min_area_ha=0``, every site with
data) filtered in Python by area and Kreis key, then sorted by score descending, site_id
ascending. Rank stability is checked where its value is known without Monte Carlo: among at most
N sites every site stays in the top N in every draw (probability exactly 1).
"""

from __future__ import annotations

from typing import Any

import pytest

from geo.filters import FILTERS

TOP = 10


def _all_items(client: Any, **params: Any) -> list[dict[str, Any]]:
    body = client.get("/api/ranking", params={"limit": 10_000, "breakdown": "false", **params}).json()
    assert body["numberReturned"] == body["numberMatched"]
    return body["items"]


def _plain_rank(items: list[dict[str, Any]], min_area: float, kreis: str) -> list[str]:
    """The site ids that pass both filters, best first (score desc, site_id asc)."""
    kept = [i for i in items if i["area_ha"] >= min_area and str(i["ags"]).startswith(kreis)]
    return [i["site_id"] for i in sorted(kept, key=lambda i: (-i["score"], i["site_id"]))]


@pytest.fixture(scope="module")
def crowded_kreis(client: Any) -> tuple[str, float, list[dict[str, Any]]]:
    """The Kreis with the most sites, and a minimum area that leaves between 2 and TOP of them."""
    items = _all_items(client, min_area_ha=0)
    by_kreis: dict[str, list[dict[str, Any]]] = {}
    for i in items:
        by_kreis.setdefault(str(i["ags"])[:5], []).append(i)
    kreis, members = max(by_kreis.items(), key=lambda kv: len(kv[1]))
    areas = sorted((i["area_ha"] for i in members), reverse=True)
    assert len(areas) > TOP, "the test snapshot has no Kreis with more than 10 sites"
    return kreis, areas[min(TOP, len(areas)) - 1], items


def test_filter_parameters_are_those_of_the_registry(client: Any) -> None:
    """Every filter of geo/filters.py is accepted (none listed by hand), a bad value is a 400."""
    sid = _all_items(client)[0]["site_id"]
    for spec in FILTERS.values():
        value = spec.example if spec.example is not None else (spec.choices[0] if spec.choices else 0)
        r = client.get(f"/api/sites/{sid}/score", params={spec.name: value})
        assert r.status_code == 200, (spec.name, r.text)
    r = client.get(f"/api/sites/{sid}/score", params={"kreis": "5562"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert "5-digit" in r.json()["detail"]


def test_rank_and_count_are_among_the_filtered_sites(client: Any, crowded_kreis: Any) -> None:
    kreis, min_area, items = crowded_kreis
    expected = _plain_rank(items, min_area, kreis)
    assert 2 <= len(expected) <= TOP
    params = {"min_area_ha": min_area, "kreis": kreis}
    listed = [i["site_id"] for i in _all_items(client, **params)]
    assert listed == expected  # the API's list is the plain computation
    for k, sid in enumerate(expected, start=1):
        d = client.get(f"/api/sites/{sid}/score", params={**params, "stability": TOP}).json()
        assert d["rank"] == k, sid
        assert d["numberRanked"] == len(expected)
        # at most TOP sites pass: every one of them is in the top TOP in every draw
        assert d["stability"] == {"top": TOP, "probability": 1.0}, sid
    # without the filters the same site is ranked among all and its stability is not certain
    last = client.get(f"/api/sites/{expected[-1]}/score", params={"stability": TOP}).json()
    assert last["numberRanked"] > len(expected)
    assert last["rank"] > TOP and last["stability"]["probability"] < 1.0


def test_stability_equals_the_filtered_ranking(client: Any) -> None:
    """With more than TOP sites left, the site's stability is the one /api/ranking gives it."""
    params = {"min_area_ha": 5, "kind": "regional_plan,brownfield", "stability": TOP, "seed": 0}
    ranking = _all_items(client, **params)
    assert len(ranking) > TOP
    for item in ranking[TOP - 3 : TOP + 3]:
        d = client.get(
            f"/api/sites/{item['site_id']}/score",
            params={k: v for k, v in params.items() if k != "seed"},
        ).json()
        assert d["rank"] == item["rank"] and d["numberRanked"] == len(ranking)
        assert d["stability"] == item["stability"]


def test_a_site_the_filters_exclude_says_which(client: Any, crowded_kreis: Any) -> None:
    kreis, min_area, items = crowded_kreis
    outside = next(i for i in items if not str(i["ags"]).startswith(kreis))
    d = client.get(f"/api/sites/{outside['site_id']}/score", params={"kreis": kreis, "stability": TOP}).json()
    assert d["rank"] is None and d["excluded_by"] == "kreis"
    assert d["stability"] == {"top": TOP, "probability": 0.0}  # never among the ranked
