"""The built-in land criteria, declared like the rest (``geo/catalogue.py`` registers them last):
the constraints ``protected`` and ``floodplain`` (they subtract, never add) and the time to
market ``availability`` (issue 19, geo/availability.py).
"""

from __future__ import annotations

from geo.measures import CoveredShare
from geo.registry import Criterion, Indicator
from geo.values import Share, Table

_SHARE = {"type": "float", "unit": "share", "decimals": 3}

LAND: tuple[Criterion, ...] = (
    Criterion(
        name="protected",
        layer="natura2000",
        group="environment",
        indicator_specs=(
            Indicator(
                name="protected_share",
                **_SHARE,
                label_de="Anteil in Natura-2000-Gebieten (0–1)",
                label_en="Share in Natura 2000 areas (0–1)",
                desc_de="Anteil der Fläche in FFH- und Vogelschutzgebieten",
                desc_en="share of the site inside Habitats- and Birds-Directive sites",
                shp="protect",
            ),
        ),
        function=Share(invert=True),
        measure=CoveredShare(layer="natura2000"),
        label_en="Outside protected areas",
        label_de="Außerhalb von Schutzgebieten",
        description="1 minus the share of the site inside Natura 2000 areas: a site in a "
        "protected area never scores better for it.",
        weights={"balanced": 1.0, "hydrogen": 1.0, "digital": 1.0, "large_scale": 1.5, "logistics": 1.0},
    ),
    Criterion(
        name="floodplain",
        layer="floodplains",
        group="environment",
        indicator_specs=(
            Indicator(
                name="floodplain_share",
                **_SHARE,
                label_de="Anteil im Überschwemmungsgebiet (0–1)",
                label_en="Share in floodplains (0–1)",
                desc_de="Anteil der Fläche in festgesetzten oder vorläufig gesicherten "
                "Überschwemmungsgebieten",
                desc_en="share of the site inside designated floodplains",
                shp="flood",
            ),
        ),
        function=Share(invert=True),
        measure=CoveredShare(layer="floodplains"),
        label_en="Outside floodplains",
        label_de="Außerhalb von Überschwemmungsgebieten",
        description="1 minus the share of the site inside designated floodplains "
        "(Überschwemmungsgebiete): a site in a floodplain never scores better for it.",
        weights={"balanced": 1.0, "hydrogen": 1.0, "digital": 1.0, "large_scale": 1.5, "logistics": 1.0},
    ),
    Criterion(
        name="availability",
        layer="sites",
        group="planning",
        indicator_specs=(
            Indicator(
                name="availability",
                type="str",
                label_de="Verfügbarkeit",
                label_en="Availability",
                desc_de="wann die Fläche bebaut werden kann (Klasse zum Datenstand der Quelle)",
                desc_en="when the site can be built on (class at the source's data date)",
                shp="availabil",
                codes={
                    "now": ("sofort verfügbar", "available now"),
                    "lt_1y": ("in unter 1 Jahr", "within 1 year"),
                    "1_3y": ("in 1–3 Jahren", "in 1–3 years"),
                    "gt_3y": ("in über 3 Jahren", "in more than 3 years"),
                    "unknown": ("unbekannt", "unknown"),
                },
            ),
            Indicator(
                name="available_from",
                type="str",
                label_de="verfügbar ab",
                label_en="Available from",
                desc_de="Datum laut Quelle (JJJJ-MM-TT), sonst leer",
                desc_en="date given by the source (YYYY-MM-DD), else empty",
                shp="avail_from",
            ),
        ),
        function=Table(values={"now": 1.0, "lt_1y": 0.75, "1_3y": 0.4, "gt_3y": 0.1, "unknown": 0.1}),
        label_en="Time to market",
        label_de="Verfügbarkeit",
        description="Available now 1.0, within a year 0.75, in 1–3 years 0.4, later 0.1; unknown "
        "counts like later (never like now). An own area has no data.",
        description_de="Sofort verfügbar 1,0, in unter einem Jahr 0,75, in 1–3 Jahren 0,4, später "
        "0,1; unbekannt zählt wie später (nie wie sofort). Eine eigene Fläche hat keine Daten.",
        weights={"balanced": 1.0, "hydrogen": 0.5, "digital": 1.0, "large_scale": 0.5, "logistics": 1.0},
    ),
)
