"""Flat export columns: one field per value, stable ASCII names, German and English labels.

Every export format (GeoPackage, CSV, Shapefile, GeoJSON) writes the same columns, serialised
from the results of ``geo.result`` (``ResultColumns``, never recomputed): the identity and
attributes of a site, its score, rank and ``excluded_by``, every indicator, and per criterion of the registry
(``geo.criteria.CRITERIA_ORDER``, so a new criterion appears without an edit here) its value
``v_<criterion>`` (0–1) and its points ``pts_<criterion>``. Field names never change with the
language; labels, descriptions and the labels of coded values do (``lang=de`` or ``en``).

Shapefile field names are at most 10 characters: ``shp_names`` maps every field to one (fixed
abbreviations for the known fields, ``v_``/``p_`` + the criterion shortened to 8 characters for
the criteria, and a numbered truncation for anything else), so the mapping is stable and
documented in the README and in each zip (``fields.csv``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from geo.criteria import CRITERIA, CRITERIA_ORDER
from geo.filters import FILTERS, NO_DATA
from geo.registry import REGISTRY, Indicator
from geo.result import INDICATOR_FIELDS, ResultColumns, plain_list

Lang = Literal["de", "en"]
Kind = Literal["str", "float", "int", "bool"]
LANGS: tuple[str, ...] = ("de", "en")

# Labels of coded values (German, English).
CODES: Mapping[str, Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "kind": {
            "regional_plan": ("Regionalplan-Bereich", "Regional-plan area"),
            "brownfield": ("Brachfläche", "Brownfield"),
            "lep": ("LEP-Großstandort", "LEP large site"),
            "adhoc": ("eigene Fläche", "Own area"),
        },
        "contamination": {
            "none": ("keine", "none"),
            "suspected": ("Verdacht", "suspected"),
            "confirmed": ("bestätigt", "confirmed"),
            "remediated": ("saniert", "remediated"),
            "unknown": ("unbekannt", "unknown"),
        },
        "restrictions": {
            "ownership": ("Eigentum", "ownership"),
            "contamination": ("Altlasten", "contamination"),
            "access": ("Erschließung", "access"),
            "emission": ("Immissionsschutz-Abstände", "noise/emission distances"),
            "planning_law": ("Planungsrecht", "planning law"),
            "other": ("sonstige", "other"),
        },
        "excluded_by": {  # the filters' reasons, declared with them (geo/filters.py)
            **{f.name: f.reason for f in FILTERS.values()},
            NO_DATA: ("keine Daten", "no data"),
        },
        # the coded indicators carry their labels in their declaration (geo/catalogue.py)
        **{i.name: i.codes for i in REGISTRY.indicators() if i.codes},
    }
)
BOOL_WORDS = {"de": ("ja", "nein"), "en": ("yes", "no")}


@dataclass(frozen=True)
class Field:
    """One export column: name, type, labels and descriptions in both languages."""

    name: str
    kind: Kind
    de: str
    en: str
    desc_de: str = ""
    desc_en: str = ""
    decimals: int | None = None  # for CSV and display

    def label(self, lang: str) -> str:
        """The column title in ``lang``."""
        return self.de if lang == "de" else self.en

    def description(self, lang: str) -> str:
        """The column description in ``lang``."""
        return self.desc_de if lang == "de" else self.desc_en


def _f(
    name: str, kind: Kind, de: str, en: str, desc_de: str = "", desc_en: str = "", decimals: int | None = None
) -> Field:
    return Field(name, kind, de, en, desc_de, desc_en, decimals)


# Known fields (identity, attributes, result, indicators); order = column order.
KNOWN: Mapping[str, Field] = MappingProxyType(
    {
        f.name: f
        for f in (
            _f(
                "site_id",
                "str",
                "Standort-ID",
                "Site ID",
                "stabile Kennung: rp-/bf-/lep- und die ID der Quelle",
                "stable id: rp-/bf-/lep- and the source id",
            ),
            _f("name", "str", "Name", "Name"),
            _f(
                "kind",
                "str",
                "Art",
                "Kind",
                "Regionalplan-Bereich, Brachfläche oder LEP-Großstandort",
                "regional-plan area, brownfield or LEP large site",
            ),
            _f("plan", "str", "Regionalplan", "Regional plan"),
            _f("contamination", "str", "Altlasten", "Contamination", "nur Brachflächen", "brownfields only"),
            _f(
                "restrictions",
                "str",
                "Restriktionen",
                "Restrictions",
                "bekannte Hemmnisse, mit ; getrennt (leer: nicht geprüft; keine: geprüft, keine)",
                "known obstacles, separated by ; (empty: not checked; none: checked, none found)",
            ),
            _f(
                "marketable",
                "bool",
                "marktfähig",
                "Marketable",
                "ohne Restriktionen und binnen eines Jahres verfügbar",
                "restriction-free and available within a year",
            ),
            _f("former_use", "str", "frühere Nutzung", "Former use", "nur Brachflächen", "brownfields only"),
            _f(
                "ags",
                "str",
                "AGS (Gemeindeschlüssel)",
                "AGS (municipality key)",
                "Gemeinde, die den größten Teil der Fläche enthält (8 Stellen, Text)",
                "the municipality holding most of the site's area (8 digits, text)",
            ),
            _f("municipality", "str", "Gemeinde", "Municipality"),
            _f("kreis_ags", "str", "Kreisschlüssel", "Kreis key", "5 Stellen, Text", "5 digits, text"),
            _f("kreis", "str", "Kreis", "Kreis"),
            _f("source_id", "str", "ID in der Quelle", "Source id"),
            _f(
                "score",
                "float",
                "Punktzahl (0–100)",
                "Score (0–100)",
                "100 · Σ w·v / Σ w über die Kriterien mit Daten",
                "100 · Σ w·v / Σ w over the criteria with data",
                1,
            ),
            _f(
                "rank",
                "int",
                "Rang im Gebiet",
                "Rank in the area",
                "Rang unter den Standorten dieses Exports",
                "rank among the sites of this export",
            ),
            _f("rank_nrw", "int", "Rang in NRW", "Rank in NRW"),
            _f(
                "excluded_by",
                "str",
                "ausgeschlossen durch",
                "Excluded by",
                "harter Filter, der den Standort ausschließt (leer: bewertet)",
                "the hard filter that excluded the site (empty: ranked)",
            ),
            _f(
                "crosses_boundary",
                "bool",
                "über die Gebietsgrenze",
                "Crosses the boundary",
                "der Standort liegt nur teilweise im exportierten Gebiet",
                "the site lies only partly inside the exported area",
            ),
            _f(
                "missing",
                "str",
                "fehlende Daten",
                "Missing data",
                "Kriterien ohne Daten (zählen weder als 0 noch in der Summe)",
                "criteria without data (neither 0 nor part of the sums)",
            ),
            _f("owner_contact", "str", "Eigentümer-Kontakt (vertraulich)", "Owner contact (confidential)"),
            _f(
                "asking_price_eur_m2",
                "float",
                "Preisvorstellung €/m² (vertraulich)",
                "Asking price EUR/m² (confidential)",
                decimals=2,
            ),
            _f("notes", "str", "Notizen (vertraulich)", "Notes (confidential)"),
            _f(
                "owner_willing",
                "str",
                "Verkaufsbereitschaft Eigentümer (vertraulich)",
                "Owner willing to sell (confidential)",
            ),
            _f("public", "bool", "öffentlich", "Public"),
        )
    }
)
HEAD_FIELDS = (
    "site_id",
    "name",
    "kind",
    "planning_category",
    "plan",
    "contamination",
    "availability",
    "available_from",
    "restrictions",
    "marketable",
    "former_use",
    "ags",
    "municipality",
    "kreis_ags",
    "kreis",
    "source_id",
    "area_ha",
    "score",
    "rank",
    "rank_nrw",
    "excluded_by",
    "crosses_boundary",
)
RESTRICTED = ("owner_contact", "asking_price_eur_m2", "notes", "owner_willing", "public")
# Shapefile names of the known fields (≤ 10 characters).
SHP_KNOWN = MappingProxyType(
    {
        "contamination": "contam",
        "restrictions": "restrict",
        "marketable": "marketable",
        "municipality": "municipal",
        "excluded_by": "excl_by",
        "crosses_boundary": "cross_bdry",
        "owner_contact": "owner",
        "asking_price_eur_m2": "price_m2",
        "owner_willing": "owner_will",
    }
)


def indicator_field(spec: Indicator) -> Field:
    """The export field of an indicator, as its criterion declares it (geo/catalogue.py)."""
    return _f(spec.name, spec.type, spec.label_de, spec.label_en, spec.desc_de, spec.desc_en, spec.decimals)


# Every indicator of the registry, declared once with its criterion.
INDICATORS: Mapping[str, Field] = MappingProxyType(
    {i.name: indicator_field(i) for i in REGISTRY.indicators()}
)


def criterion_fields() -> list[Field]:
    """``v_<criterion>`` and ``pts_<criterion>`` for every criterion of the registry."""
    out = []
    for c in CRITERIA_ORDER:
        crit = CRITERIA[c]
        out.append(
            _f(
                f"v_{c}",
                "float",
                f"Wert {crit.label_de} (0–1)",
                f"Value {crit.label_en} (0–1)",
                crit.description,
                crit.description,
                4,
            )
        )
        out.append(
            _f(
                f"pts_{c}",
                "float",
                f"Punkte {crit.label_de}",
                f"Points {crit.label_en}",
                "Beitrag zur Punktzahl: 100 · w · v / Σ w",
                "contribution to the score: 100 · w · v / Σ w",
                2,
            )
        )
    return out


def site_fields(restricted: Sequence[str] = ()) -> list[Field]:
    """Every column of a site export, in order (``restricted``: confidential columns present in
    the caller's view).
    """
    names = list(HEAD_FIELDS) + [k for k in INDICATOR_FIELDS if k not in HEAD_FIELDS]
    fields = [KNOWN.get(k) or INDICATORS[k] for k in names]
    fields += criterion_fields() + [KNOWN["missing"]]
    fields += [KNOWN[k] for k in RESTRICTED if k in restricted]
    return fields


def _plain_float(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def flat_columns(
    rc: ResultColumns,
    extra: Mapping[str, Sequence[Any]],
    restricted: Mapping[str, Sequence[Any]] | None = None,
) -> dict[str, list[Any]]:
    """The flat columns of ``site_fields()``, straight from the results' columns.

    ``extra`` holds the export's own per-row columns (``rank``, ``rank_nrw``,
    ``crosses_boundary``); ``restricted`` the confidential columns of the caller's view.
    """
    n = len(rc)
    fields = site_fields(list(restricted or {}))
    cols: dict[str, list[Any]] = {f.name: rc.fields.get(f.name, [None] * n) for f in fields}
    cols["score"] = rc.score
    cols["rank"] = rc.rank
    cols["excluded_by"] = [rc.excluded(j) for j in range(n)]
    cols["missing"] = [",".join(rc.missing_of(j)) for j in range(n)]
    for i, c in enumerate(rc.order):
        cols[f"v_{c}"] = plain_list(rc.v[:, i])
        cols[f"pts_{c}"] = plain_list(rc.points[:, i])
    own = {**extra, **(restricted or {})}  # values from outside the results: made plain here
    for k, values in own.items():
        cols[k] = list(values)
    for f in fields:
        if f.name not in own:
            continue
        if f.kind == "int":
            cols[f.name] = [None if pd.isna(x) else int(x) for x in cols[f.name]]
        elif f.kind == "float":
            cols[f.name] = [_plain_float(x) for x in cols[f.name]]
        elif f.kind == "bool":
            cols[f.name] = [None if pd.isna(x) else bool(x) for x in cols[f.name]]
    return cols


def code_label(field: str, value: Any, lang: str) -> Any:
    """The label of a coded value (unknown codes and other fields pass through)."""
    if field == "missing" and isinstance(value, str):
        return ", ".join(
            CRITERIA[c].label_de if lang == "de" else CRITERIA[c].label_en
            for c in value.split(",")
            if c in CRITERIA
        )
    table = CODES.get(field)
    if field == "restrictions" and isinstance(value, str):  # a ;-joined list ("": checked, none)
        words = [CODES[field].get(c, (c, c))[0 if lang == "de" else 1] for c in value.split(";") if c]
        return "; ".join(words) or ("keine" if lang == "de" else "none")
    if table is None or not isinstance(value, str) or value not in table:
        return value
    de, en = table[value]
    return de if lang == "de" else en


def shp_names(fields: Sequence[Field]) -> dict[str, str]:
    """Field name → Shapefile field name (≤ 10 ASCII characters, unique, stable)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for f in fields:
        name = f.name
        spec = REGISTRY.indicator(name)
        if name in SHP_KNOWN:
            short = SHP_KNOWN[name]
        elif spec is not None and spec.shp:
            short = spec.shp
        elif name.startswith(("v_", "pts_")) and name.split("_", 1)[1] in CRITERIA:
            crit = name.split("_", 1)[1]
            short = ("v_" if name.startswith("v_") else "p_") + crit.replace("_", "")[:8]
        else:
            short = name[:10]
        base, k = short, 1
        while short in used:  # a collision: number it, within 10 characters
            k += 1
            short = f"{base[: 10 - len(str(k))]}{k}"
        used.add(short)
        out[name] = short
    return out


def as_array(values: list[Any], kind: Kind) -> np.ndarray:
    """A column as a numpy/pandas-ready array (NaN for missing floats)."""
    if kind == "float":
        return np.array([np.nan if v is None else v for v in values], dtype=float)
    return np.array(values, dtype=object)


# Fields of the context layers of a GeoPackage (the canonical layers of DESIGN §3.2).
LAYER_CODES: Mapping[str, Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "category": CODES["planning_category"],  # the plan layer's codes are the indicator's
        "contamination": CODES["contamination"],
        "availability": CODES["availability"],
        "restrictions": CODES["restrictions"],
        "kind": {
            "conversion": ("Umstellung (Erdgasleitung)", "conversion (natural-gas pipeline)"),
            "new_build": ("Neubau", "new build"),
        },
        "geometry_quality": {
            "surveyed": ("vermessen", "surveyed"),
            "schematic": (
                "schematisch (gerade Linie zwischen Orten)",
                "schematic (straight line between places)",
            ),
        },
    }
)
LAYER_FIELDS: Mapping[str, Field] = MappingProxyType(
    {
        f.name: f
        for f in (
            _f("area_id", "str", "Flächen-ID", "Area id"),
            _f("category", "str", "Festlegung", "Designation"),
            _f("name", "str", "Name", "Name"),
            _f("plan", "str", "Regionalplan", "Regional plan"),
            _f("ags", "str", "AGS (Gemeindeschlüssel)", "AGS (municipality key)"),
            _f("former_use", "str", "frühere Nutzung", "Former use"),
            _f("contamination", "str", "Altlasten", "Contamination"),
            _f("availability", "str", "Verfügbarkeit", "Availability"),
            _f("available_from", "str", "verfügbar ab", "Available from"),
            _f("restrictions", "str", "Restriktionen", "Restrictions"),
            _f("municipalities", "str", "Gemeinden", "Municipalities"),
            _f("area_ha_reported", "float", "Fläche laut Quelle (ha)", "Reported area (ha)"),
            _f("accuracy", "str", "Lagegenauigkeit", "Positional accuracy"),
            _f("segment_id", "str", "Abschnitts-ID", "Segment id"),
            _f("kind", "str", "Maßnahme", "Measure"),
            _f("commissioning_year", "int", "Inbetriebnahme (Jahr)", "Commissioning year"),
            _f("dn_mm", "int", "Nenndurchmesser DN (mm)", "Nominal diameter DN (mm)"),
            _f("pressure_bar", "float", "Druckstufe (bar)", "Pressure (bar)"),
            _f("operator", "str", "Betreiber", "Operator"),
            _f("geometry_quality", "str", "Geometrie", "Geometry"),
            _f("kreis_ags", "str", "Kreisschlüssel", "Kreis key"),
            _f("kreis_name", "str", "Kreis", "Kreis"),
        )
    }
)


def layer_field(name: str) -> Field:
    """The field of a context layer (unknown columns get their name as label)."""
    return LAYER_FIELDS.get(name) or _f(name, "str", name, name)
