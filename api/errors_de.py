"""German wording of the service's problem details (``Accept-Language: de``, see api/errors.py).

The details are written by the service (never copied from the request), so each one is a known
English sentence: a pattern here matches it whole and gives its German form, with the captured
parts (numbers, parameter names from the service's own lists, shapely's validity reason) put back.
A detail without a pattern stays English. The problem's ``type`` and ``title`` never change.
"""

from __future__ import annotations

import re

_ACCEPTED_EN = "send a GeoJSON Feature, Polygon or MultiPolygon (RFC 7946, WGS84 longitude, latitude)"
_ACCEPTED_DE = "senden Sie ein GeoJSON-Feature, -Polygon oder -MultiPolygon (RFC 7946, WGS84 Länge, Breite)"

# shapely's validity reasons (GEOS), as they appear in "invalid geometry: <reason> at x,y"
_REASONS = {
    "Self-intersection": "Selbstüberschneidung",
    "Ring Self-intersection": "Selbstüberschneidung eines Rings",
    "Too few points": "zu wenige Punkte",
    "Hole lies outside shell": "Loch liegt außerhalb der Außengrenze",
    "Interior is disconnected": "Inneres ist nicht zusammenhängend",
    "Nested shells": "verschachtelte Außengrenzen",
    "Nested holes": "verschachtelte Löcher",
    "Duplicate Rings": "doppelte Ringe",
    "Invalid Coordinate": "ungültige Koordinate",
    "Ring is not closed": "Ring ist nicht geschlossen",
}


def _reason(m: re.Match[str]) -> str:
    what, _, where = m["reason"].partition(" at ")
    de = _REASONS.get(what.strip(), what.strip())
    at = f" bei {where}" if where else ""
    return (
        f"ungültige Geometrie: {de}{at} "
        "(nicht repariert; korrigieren Sie die Ringe und senden Sie die Fläche erneut)"
    )


def _group(n: str) -> str:
    """A number written by the service with English thousands commas, in German (12.345)."""
    return n.replace(",", ".")


_TEMPLATES: tuple[tuple[str, str], ...] = (
    (r"coordinates outside North Rhine-Westphalia", "Koordinaten außerhalb von Nordrhein-Westfalen"),
    (
        r"coordinates outside North Rhine-Westphalia: they look projected \(metres\); "
        r"GeoJSON is WGS84 longitude, latitude",
        "Koordinaten außerhalb von Nordrhein-Westfalen: sie sehen projiziert aus (Meter); "
        "GeoJSON ist WGS84 Länge, Breite",
    ),
    (
        r"coordinates look swapped: GeoJSON is longitude, latitude",
        "Koordinaten scheinen vertauscht: GeoJSON ist Länge, Breite",
    ),
    (
        r"coordinates must be nested arrays of \[longitude, latitude\]",
        "Koordinaten müssen verschachtelte Listen aus [Länge, Breite] sein",
    ),
    (r"a polygon ring needs at least 4 positions", "ein Polygonring braucht mindestens 4 Positionen"),
    (
        r"each position must be \[longitude, latitude\] numbers",
        "jede Position muss aus Zahlen [Länge, Breite] bestehen",
    ),
    (r"coordinates must be finite numbers", "Koordinaten müssen endliche Zahlen sein"),
    (
        r"a polygon ring must be closed: its last position must equal its first",
        "ein Polygonring muss geschlossen sein: seine letzte Position muss gleich der ersten sein",
    ),
    (r"a polygon needs an exterior ring", "ein Polygon braucht einen äußeren Ring"),
    (r"the Feature has no geometry", "das Feature hat keine Geometrie"),
    (r"the geometry is empty", "die Geometrie ist leer"),
    (r"the geometry has no area", "die Geometrie hat keine Fläche"),
    (
        r"the geometry becomes invalid when projected to EPSG:25832; simplify near-touching rings",
        "die Geometrie wird bei der Projektion nach EPSG:25832 ungültig; "
        "vereinfachen Sie fast berührende Ringe",
    ),
    (
        r"only Polygon and MultiPolygon geometries can be scored",
        "nur Polygon- und MultiPolygon-Geometrien können bewertet werden",
    ),
    (
        rf"only Polygon and MultiPolygon geometries can be scored; {re.escape(_ACCEPTED_EN)}",
        f"nur Polygon- und MultiPolygon-Geometrien können bewertet werden; {_ACCEPTED_DE}",
    ),
    (
        rf"the body is not a GeoJSON object; {re.escape(_ACCEPTED_EN)}",
        f"der Inhalt ist kein GeoJSON-Objekt; {_ACCEPTED_DE}",
    ),
    (
        rf"the request body is not valid JSON; {re.escape(_ACCEPTED_EN)}",
        f"der Inhalt der Anfrage ist kein gültiges JSON; {_ACCEPTED_DE}",
    ),
    (r"the geometry has more than (?P<n>[\d,]+) vertices", "die Geometrie hat mehr als {n} Eckpunkte"),
    (
        r"the request body is larger than (?P<n>[\d,]+) bytes",
        "der Inhalt der Anfrage ist größer als {n} Byte",
    ),
    (r"There is no resource at this path\.", "Unter diesem Pfad gibt es nichts."),
    (r"This method is not allowed on this resource\.", "Diese Methode ist hier nicht erlaubt."),
    (
        r"The server failed to answer this request; the error has been logged\.",
        "Der Server konnte die Anfrage nicht beantworten; der Fehler wurde protokolliert.",
    ),
)
_PATTERNS = tuple((re.compile(f"^{p}$"), de) for p, de in _TEMPLATES)
_INVALID = re.compile(r"^invalid geometry: (?P<reason>.+) \(not repaired; fix the rings and send it again\)$")


def german(detail: str) -> str:
    """The German form of a service detail; the English one when it has none."""
    m = _INVALID.match(detail)
    if m:
        return _reason(m)
    for pattern, de in _PATTERNS:
        m = pattern.match(detail)
        if m:
            return de.format(**{k: _group(v) for k, v in m.groupdict().items()})
    return detail
