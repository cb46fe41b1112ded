"""Confidential fields and non-public sites: every route of the OpenAPI document × every role.

The public never sees ``owner_contact``, ``asking_price_eur_m2``, ``notes`` or ``public``, nor a
non-public site (by site id or by the area id of its source layer), nor counts that include one;
a non-public site is a 404 there exactly like an id that never existed. Staff and admin see
everything.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from geo.access import CONFIDENTIAL_FIELDS
from layers.keys import KeyStore
from layers.store import Store
from tests.api.conftest import assert_problem
from tests.api.test_score import POLYGON

ROLES = ("public", "staff", "admin")
ADMIN_PREFIX = "/api/admin"
STAFF_PREFIX = "/api/shortlists"
STAFF_PREFIXES = (STAFF_PREFIX, "/api/inquiries")
INQUIRY = {"name": "roles", "profile": "balanced", "top_n": 5}
KEY_NAMES = re.compile(r'"(owner_contact|asking_price_eur_m2|notes|public)"\s*:')


@pytest.fixture(scope="module")
def tokens(data_dir) -> dict[str, dict[str, str]]:
    store = KeyStore(data_dir)
    out: dict[str, dict[str, str]] = {"public": {}}
    for role in ("staff", "admin"):
        token = store.add(f"roles-{role}", role)
        out[role] = {"Authorization": f"Bearer {token}"}
    return out


@pytest.fixture(scope="module")
def secret(data_dir) -> dict[str, list[str]]:
    """The hidden site ids and area ids, and a public site, from the snapshot on disk."""
    snap = Store(data_dir).load()
    sites = snap.layers["sites"]
    hidden = sites[~sites["public"].to_numpy(bool)]
    assert len(hidden) >= 5, "the demo hides about 5 % of the sites"
    areas = [
        str(a)
        for name in ("regional_plan", "brownfields")
        for a in snap.layers[name].loc[~snap.layers[name]["public"].to_numpy(bool), "area_id"]
    ]
    public = sites[sites["public"].to_numpy(bool)]
    return {
        "site_ids": hidden["site_id"].tolist(),
        "area_ids": areas,
        "public_site": [str(public["site_id"].iloc[0])],
        "public_ags": [str(public["ags"].dropna().iloc[0])],
        "hidden_ags": [str(a) for a in hidden["ags"].dropna()],
    }


def _concrete(client, path: str, secret: dict[str, list[str]], snapshot: str) -> list[str]:
    values = {
        "cid": ["sites", "brownfields", "regional_plan", "municipalities"],
        "site_id": secret["public_site"],
        "fid": None,
        "ags": secret["public_ags"],
        "kreis": [a[:5] for a in secret["public_ags"]],
        "snapshot": [snapshot],
        "layer": ["fibre"],
        "id": ["nothing-here"],
        "job_id": ["nothing-here"],
        "snapshot_id": ["nothing-here"],
        "list_id": ["nothing-here"],
    }
    names = re.findall(r"\{(\w+)\}", path)
    if not names:
        return [path]
    out = []
    for cid in values["cid"] if "cid" in names else [None]:
        p = path if cid is None else path.replace("{cid}", cid)
        if "{fid}" in p:
            first = client.get(f"/api/collections/{cid}/items?limit=1").json()["features"][0]
            p = p.replace("{fid}", str(first["id"]))
        for n in names:
            if n not in ("cid", "fid"):
                p = p.replace(f"{{{n}}}", (values.get(n) or ["x"])[0])
        out.append(p)
    return out


def _public_text_is_clean(text: str, secret: dict[str, list[str]], where: str) -> None:
    assert not KEY_NAMES.search(text), f"{where}: a confidential field name"
    for name in CONFIDENTIAL_FIELDS:
        assert f'"{name}"' not in text, f"{where}: {name}"
    leaked = [
        x
        for x in secret["site_ids"] + secret["area_ids"]
        if re.search(rf"(?<![\w-]){re.escape(x)}(?![\w-])", text)
    ]
    assert not leaked, f"{where}: non-public ids {leaked[:3]}"


def _request(method: str, url: str, role: str, tokens, secret) -> dict:
    """What a request to ``url`` carries besides the role's headers."""
    kw = {"headers": tokens[role]}
    if method == "post" and url == "/api/score":
        kw["json"] = POLYGON
    if method == "post" and url.startswith(ADMIN_PREFIX):
        kw["content"] = b""
    if url.startswith("/api/exports/sites."):  # a selection: a public and a hidden site
        hidden = f",{secret['site_ids'][0]}" if role != "public" else ""
        kw["params"] = {"ids": secret["public_site"][0] + hidden}
    if url == "/api/statistics/reserves/sites":  # a Kreis with a hidden site
        kw["params"] = {"level": "kreis", "unit": secret["hidden_ags"][0][:5]}
    if method == "post" and url == "/api/session":
        kw["json"] = {"key": "not-a-key"}
    if method == "post" and url in STAFF_PREFIXES:  # a new shortlist or inquiry
        kw["json"] = (
            {**INQUIRY, "name": f"roles {role}"} if url != STAFF_PREFIX else {"name": f"roles {role}"}
        )
    return kw


def test_every_route_for_every_role(client, tokens, secret, svc):
    doc = client.get("/api/openapi.json", headers=tokens["staff"]).json()
    seen = 0
    for path, ops in doc["paths"].items():
        for method in ops:
            if method not in ("get", "post"):
                continue
            for url in _concrete(client, path, secret, svc.snap.id):
                for role in ROLES:
                    kw = _request(method, url, role, tokens, secret)
                    r = client.request(method.upper(), url, **kw)
                    seen += 1
                    if url == "/api/session" and method == "post":
                        expected = {401}  # a sign-in with a wrong key, whoever asks
                    elif url.startswith(STAFF_PREFIXES):
                        expected = {401} if role == "public" else {200, 201, 404}
                    elif url.startswith(ADMIN_PREFIX):
                        expected = {
                            "public": {401},
                            "staff": {403},
                            "admin": {200, 202, 400, 404, 409, 415, 422},
                        }[role]
                    else:
                        expected = {200, 206}
                    assert r.status_code in expected, (method, url, role, r.status_code, r.text[:300])
                    if role == "public":
                        _public_text_is_clean(r.content.decode("utf-8", "replace"), secret, f"{method} {url}")
    assert seen > 50


def test_the_public_openapi_document_names_no_confidential_field(client, tokens, secret):
    public = client.get("/api/openapi.json")
    _public_text_is_clean(public.text, secret, "openapi")
    staff = client.get("/api/openapi.json", headers=tokens["staff"]).text
    assert "owner_contact" in staff


@pytest.mark.parametrize(
    "template",
    [
        "/api/sites/{sid}/score",
        "/api/collections/sites/items/{sid}",
    ],
)
def test_a_non_public_site_is_404_for_the_public_exactly_like_an_unknown_id(client, tokens, secret, template):
    hidden = secret["site_ids"][0]
    a = client.get(template.format(sid=hidden))
    b = client.get(template.format(sid="rp-RP-999999"))
    assert_problem(a, 404)
    assert (a.status_code, a.json(), a.headers["content-type"]) == (
        b.status_code,
        b.json(),
        b.headers["content-type"],
    )
    staff = client.get(template.format(sid=hidden), headers=tokens["staff"])
    assert staff.status_code == 200
    assert "owner_contact" in staff.text


def test_hidden_area_ids_are_404_for_the_public(client, tokens, secret, data_dir):
    snap = Store(data_dir).load()
    bf = snap.layers["brownfields"]
    hidden = str(bf.loc[~bf["public"].to_numpy(bool), "area_id"].iloc[0])
    assert_problem(client.get(f"/api/collections/brownfields/items/{hidden}"), 404)
    assert (
        client.get(f"/api/collections/brownfields/items/{hidden}", headers=tokens["staff"]).status_code == 200
    )


def test_counts_are_of_what_the_role_may_see(client, tokens, secret, data_dir):
    total = len(Store(data_dir).load().layers["sites"])
    hidden = len(secret["site_ids"])
    for url in ("/api/ranking?limit=1", "/api/collections/sites/items?limit=1"):
        assert client.get(url).json()["numberMatched"] == total - hidden
        assert client.get(url, headers=tokens["staff"]).json()["numberMatched"] == total
    assert client.get("/api/collections/sites").json()["numberOfFeatures"] == total - hidden
    # a filter on a key that only hidden sites have finds nothing for the public
    only_hidden = set(secret["hidden_ags"]) - set(client.get("/api/sites/table").json()["columns"]["ags"])
    for ags in list(only_hidden)[:3]:
        assert client.get(f"/api/ranking?ags={ags}").json()["numberMatched"] == 0


def test_staff_see_the_confidential_fields(client, tokens, secret):
    r = client.get("/api/ranking?limit=10000&breakdown=false", headers=tokens["staff"]).json()
    items = {i["site_id"]: i for i in r["items"]}
    assert set(secret["site_ids"]) <= items.keys()
    bf = [i for i in items.values() if i["kind"] == "brownfield"]
    assert bf and all(i["owner_contact"] for i in bf)  # every brownfield has an owner contact
    assert all(items[s]["public"] is False for s in secret["site_ids"])
    feats = client.get("/api/collections/sites/items?limit=10000", headers=tokens["staff"]).json()["features"]
    assert {"owner_contact", "asking_price_eur_m2", "notes", "public"} <= feats[0]["properties"].keys()


def test_the_ui_table_and_values_keep_their_row_order_per_role(client, tokens):
    for role in ROLES:
        table = client.get("/api/sites/table", headers=tokens[role])
        raw = client.get("/api/sites/values", headers=tokens[role])
        t = table.json()
        n, c = t["count"], len(t["criteria"])
        assert len(t["columns"]["site_id"]) == n
        assert len(raw.content) == n * 8 + n * c * 2  # H2 km (float64), then v as uint16
        # the values rows are the table rows: re-rank in the browser's way = /api/ranking
        k = np.frombuffer(raw.content[n * 8 :], dtype="<u2").reshape(n, c)
        v = np.where(k == 65535, np.nan, k / 1e4)
        rank = client.get("/api/ranking?limit=10000&breakdown=false", headers=tokens[role]).json()
        w = np.array([rank["weights"][k] for k in t["criteria"]])
        ok = ~np.isnan(v)
        score = 100 * np.nansum(v * w, axis=1) / np.where(ok, w, 0).sum(axis=1)
        by_id = dict(zip(t["columns"]["site_id"], score, strict=True))
        for item in rank["items"][:50]:
            assert abs(by_id[item["site_id"]] - item["score"]) < 1e-3
    etags = {role: client.get("/api/sites/table", headers=tokens[role]).headers["etag"] for role in ROLES}
    assert etags["public"] != etags["staff"]
    stale = client.get("/api/sites/table", headers={"If-None-Match": etags["staff"]})
    assert stale.status_code == 200  # the staff ETag never validates the public table


def test_adhoc_scores_and_exports_use_the_public_view(client, tokens, secret):
    r = client.post("/api/score", json=POLYGON)
    assert r.status_code == 200
    _public_text_is_clean(r.text, secret, "score")
    for ags in secret["hidden_ags"][:3]:
        e = client.get(f"/api/exports/municipalities/{ags}.geojson")
        if e.status_code == 200:
            _public_text_is_clean(e.text, secret, "export")
            staff = client.get(f"/api/exports/municipalities/{ags}.geojson", headers=tokens["staff"])
            assert any(s in staff.text for s in secret["site_ids"])


def test_cli_export_is_public_unless_asked(data_dir, tmp_path, secret, capsys):
    from api.cli import main

    ags = secret["hidden_ags"][0]
    assert (
        main(["export", "--municipality", ags, "--out", str(tmp_path / "pub"), "--data", str(data_dir)]) == 0
    )
    _public_text_is_clean((tmp_path / "pub" / f"{ags}.geojson").read_text(), secret, "cli")
    assert (
        main(
            [
                "export",
                "--municipality",
                ags,
                "--out",
                str(tmp_path / "all"),
                "--data",
                str(data_dir),
                "--confidential",
            ]
        )
        == 0
    )
    assert "owner_contact" in (tmp_path / "all" / f"{ags}.geojson").read_text()
