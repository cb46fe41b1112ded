"""Problem details in the client's language (issue 18 §6): ``Accept-Language: de`` gives German
details, anything else English; ``type`` and ``title`` stay the same; hostile input is never
echoed in either language.
"""

from __future__ import annotations

import json

import pytest

from api.errors import language
from api.errors_de import german
from tests.api.conftest import assert_problem

HOSTILE = "<script>alert(1)</script>"
# (body, a word of the English detail, a word of the German one): each a real refusal of POST /api/score
RING = [[7.40, 51.60], [7.50, 51.60], [7.50, 51.70], [7.40, 51.70], [7.40, 51.60]]
BODIES = [
    ({"type": "Polygon", "coordinates": [[[x + 5, y] for x, y in RING]]}, "outside", "außerhalb"),
    ({"type": "Polygon", "coordinates": [[[y, x] for x, y in RING]]}, "swapped", "vertauscht"),
    ({"type": "Polygon", "coordinates": [[[x * 1e5, y * 1e5] for x, y in RING]]}, "projected", "projiziert"),
    ({"type": "Polygon", "coordinates": [RING[:-1]]}, "closed", "geschlossen"),
    ({"type": "Polygon", "coordinates": [RING[:3]]}, "at least 4", "mindestens 4"),
    (
        {
            "type": "Polygon",
            "coordinates": [[[7.4, 51.6], [7.5, 51.7], [7.5, 51.6], [7.4, 51.7], [7.4, 51.6]]],
        },
        "Self-intersection",
        "Selbstüberschneidung",
    ),
    ({"type": "Point", "coordinates": [7.4, 51.6]}, "only Polygon", "nur Polygon"),
    ({"type": "Feature", "properties": {}}, "no geometry", "keine Geometrie"),
    ({"type": "Polygon", "coordinates": []}, "empty", "leer"),
    ("{not json", "not valid JSON", "kein gültiges JSON"),
]


@pytest.mark.parametrize(("body", "en_word", "de_word"), BODIES)
def test_a_refused_polygon_is_explained_in_german_and_english(client, body, en_word, de_word):
    raw = body if isinstance(body, str) else json.dumps(body)
    en = client.post("/api/score", content=raw, headers={"Accept-Language": "en-GB,en;q=0.9"})
    de = client.post("/api/score", content=raw, headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"})
    none = client.post("/api/score", content=raw)
    assert en.status_code == de.status_code == none.status_code
    pe, pd, pn = (assert_problem(r, r.status_code) for r in (en, de, none))
    assert en_word in pe["detail"] and pn["detail"] == pe["detail"], "English is the default"
    assert de_word in pd["detail"] and en_word not in pd["detail"], pd["detail"]
    assert (pd["type"], pd["title"]) == (pe["type"], pe["title"]), "type and title are stable"
    assert de.headers["content-language"] == "de" and en.headers["content-language"] == "en"
    assert "accept-language" in de.headers["vary"].lower()


def test_too_many_vertices_in_german_with_german_digits(client, settings):
    n = settings.max_vertices + 10
    ring = [[7.4 + 0.1 * i / n, 51.6 + 0.0001 * (i % 2)] for i in range(n)] + [[7.4, 51.6]]
    r = client.post(
        "/api/score", json={"type": "Polygon", "coordinates": [ring]}, headers={"Accept-Language": "de"}
    )
    body = assert_problem(r, 413)
    expected = f"{settings.max_vertices:,}".replace(",", ".")
    assert body["detail"] == f"die Geometrie hat mehr als {expected} Eckpunkte"


@pytest.mark.parametrize(
    "body",
    [
        {"type": HOSTILE},
        {"type": "Polygon", "coordinates": [[[HOSTILE, 51.6]]]},
        {"type": "Feature", "geometry": {"type": HOSTILE, "coordinates": []}},
        HOSTILE,
    ],
)
def test_hostile_body_is_never_echoed_in_german(client, body):
    raw = body if isinstance(body, str) else json.dumps(body)
    r = client.post("/api/score", content=raw, headers={"Accept-Language": f"de, {HOSTILE}"})
    assert_problem(r, r.status_code)
    assert "<script" not in r.text and "alert(1)" not in r.text
    assert r.headers["content-language"] == "de"


def test_an_unknown_path_in_german(client):
    body = assert_problem(client.get("/api/nowhere", headers={"Accept-Language": "de"}), 404)
    assert body["detail"] == "Unter diesem Pfad gibt es nichts."
    assert body["title"] == "Not Found"


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "en"),
        ("", "en"),
        ("de", "de"),
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("en-US,en;q=0.9,de;q=0.8", "en"),
        ("de;q=0.1, en;q=0.2", "en"),
        ("fr-FR, de;q=0.5", "de"),
        ("fr-FR", "en"),
        ("*", "en"),
        ("de;q=0", "en"),
        ("de;q=nan", "en"),
        ("de;q=5, en;q=0.9", "de"),
        ("DE-at", "de"),
        ("<script>, de", "de"),
        ("x" * 5000, "en"),
    ],
)
def test_language_negotiation(header, lang):
    assert language(header) == lang


def test_a_detail_without_a_translation_stays_english():
    assert german("something the service has not translated") == "something the service has not translated"
