"""The reserves (Flächenbilanz, issue 19 §3) as answers: JSON for the map, CSV and XLSX for Excel.

Built from a ``layers.reserves.Balance`` and cached on it (per level, format and language), so a
repeated request only joins bytes. JSON: per unit ``key``, ``name`` and every figure of
geo/reserves.py ``FIGURES`` (areas to the square metre, counts as integers, null where a figure
has no value), the state's figures and what they mean. CSV: one level, UTF-8 with BOM, ``;``,
decimal comma, the provenance (SYNTHETIC, snapshot, view, licences) on every row as the site
exports do. XLSX: api/statistics_xlsx.py.
"""

from __future__ import annotations

import csv
from typing import Any

import numpy as np
import pandas as pd

from api.formats import defuse
from api.geojson import dumps
from geo.reserves import FIGURES, LISTABLE, plain_figures
from layers.reserves import Balance

UNITS = {"ha": "ha", "count": "count", "share": "share (0–1)", "ha_per_year": "ha/year"}
LEVEL_WORDS = {
    "municipality": ("Gemeinden", "Municipalities"),
    "kreis": ("Kreise", "Kreise"),
    "district": ("Regierungsbezirke", "Districts"),
    "state": ("Land", "State"),
}
KEY_WORDS = {
    "municipality": ("Gemeindeschlüssel (AGS)", "Municipality key (AGS)"),
    "kreis": ("Kreisschlüssel", "Kreis key"),
    "district": ("Regierungsbezirk (Schlüssel)", "District key"),
    "state": ("Landesschlüssel", "State key"),
}
NUMBER_FORMATS = {"ha": "#,##0.00", "count": "#,##0", "share": "0.0%", "ha_per_year": "#,##0.00"}
CSV_DECIMALS = {"ha": 2, "count": 0, "share": 4, "ha_per_year": 2}
SYNTHETIC = ("SYNTHETISCH – Demodaten, keine echten Flächen", "SYNTHETIC – demo data, not real sites")


def _word(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "de" else pair[1]


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as dicts with text keys."""
    return [{str(k): v for k, v in rec.items()} for rec in df.to_dict("records")]


def licences(b: Balance) -> str:
    """The licences of the snapshot's layers, one string."""
    return "; ".join(sorted({str(a["licence"]) for a in b.attribution if a.get("licence")}))


def _query(level: str, b: Balance) -> str:
    return f"level={level}&snapshot={b.snapshot}"


# -- JSON ------------------------------------------------------------------------------------
def document(b: Balance, level: str) -> bytes:
    """``GET /api/statistics/reserves`` for one level (cached)."""
    key = ("json", level)
    if key not in b.reserves.cache:
        r = b.reserves
        q = _query(level, b)
        doc = {
            "level": level,
            "snapshot": b.snapshot,
            "created": b.created,
            "previous_snapshot": b.previous,
            "previous_created": b.previous_created,
            "years": None if b.years is None else round(b.years, 4),
            "view": b.view,
            "synthetic": b.synthetic,
            "note": b.note,
            "figures": [
                {
                    "name": f.name,
                    "kind": f.kind,
                    "unit": UNITS[f.kind],
                    "label_de": f.de,
                    "label_en": f.en,
                    "description": f.description,
                    "listable": f.name in LISTABLE,
                }
                for f in FIGURES
            ],
            "units": [plain_figures(row) for row in records(r.tables[level])],
            "state": plain_figures(r.state),
            "unassigned": None if r.unassigned is None else plain_figures(r.unassigned),
            "licence": licences(b),
            "attribution": b.attribution,
            "links": [
                {"rel": "alternate", "type": "text/csv", "href": f"/api/statistics/reserves.csv?{q}"},
                {
                    "rel": "alternate",
                    "type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "href": f"/api/statistics/reserves.xlsx?snapshot={b.snapshot}",
                },
                {
                    "rel": "related",
                    "type": "application/json",
                    "title": "the sites behind one unit's figure (fill in unit and figure)",
                    "href": f"/api/statistics/reserves/sites?{q}&unit={{key}}&figure={{figure}}",
                },
            ],
        }
        b.reserves.cache[key] = dumps(doc)
    return bytes(b.reserves.cache[key])


LISTED = (
    "site_id",
    "name",
    "ags",
    "municipality",
    "area_ha",
    "planning_category",
    "is_brownfield",
    "availability",
    "marketable",
)


def site_list(b: Balance, level: str, unit: str, figure: str) -> bytes:
    """``GET /api/statistics/reserves/sites``: the sites one unit's figure adds up."""
    rows, t = b.reserves.sites_of(level, unit, figure)
    frame = b.removed if figure == "takeup_ha" else b.sites
    table = b.reserves.tables[level]
    row = records(table[table["key"] == unit])[0]
    sites = []
    if frame is not None and len(rows):
        part = frame.iloc[rows]
        for j, rec in enumerate(part.to_dict("records")):
            item = {c: _plain(rec.get(c)) for c in LISTED if c != "availability" and c in rec}
            item["area_ha"] = round(float(t["area_ha"].iloc[rows[j]]), 4)
            item["availability"] = t["availability"].iloc[rows[j]]
            item["marketable"] = bool(t["marketable"].iloc[rows[j]])
            item["is_brownfield"] = bool(t["brownfield"].iloc[rows[j]])
            sites.append(item)
    doc = {
        "level": level,
        "unit": unit,
        "name": row["name"],
        "figure": figure,
        "value": plain_figures(row)[figure],
        "snapshot": b.previous if figure == "takeup_ha" else b.snapshot,
        "view": b.view,
        "synthetic": b.synthetic,
        "count": len(sites),
        "area_ha": round(float(t["area_ha"].to_numpy(float)[rows].sum()), 4),
        "note": b.note if figure == "takeup_ha" else None,
        "sites": sites,
    }
    return dumps(doc)


def _plain(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    return v.item() if isinstance(v, np.generic) else v


# -- CSV -------------------------------------------------------------------------------------
def provenance(b: Balance, lang: str) -> dict[str, str]:
    """What every CSV row and the sources sheet say about the figures."""
    de = lang == "de"
    view = (
        ("öffentliche Flächen" if de else "public sites")
        if b.view == "public"
        else ("alle Flächen" if de else "all sites")
    )
    return {
        "Datenhinweis" if de else "Data notice": _word(SYNTHETIC, lang) if b.synthetic else "",
        "Datenstand (Snapshot)" if de else "Snapshot": b.snapshot,
        "Vorgänger (Snapshot)" if de else "Previous snapshot": b.previous or "",
        "Sicht" if de else "View": view,
        "Lizenzen" if de else "Licences": licences(b),
    }


def csv_bytes(b: Balance, level: str, lang: str) -> bytes:
    """One level as CSV for Excel (cached)."""
    key = ("csv", level, lang)
    if key not in b.reserves.cache:
        table = b.reserves.tables[level]
        cols: dict[str, Any] = {
            _word(KEY_WORDS[level], lang): table["key"].tolist(),
            "Name": [defuse(v) for v in table["name"].tolist()],
        }
        for f in FIGURES:
            v = pd.to_numeric(table[f.name], errors="coerce").astype(float)
            cols[f.label(lang)] = (
                v.round().astype("Int64") if f.kind == "count" else v.round(CSV_DECIMALS[f.kind])
            )
        for label, value in provenance(b, lang).items():
            cols[label] = [defuse(value)] * len(table)
        text = pd.DataFrame(cols).to_csv(
            sep=";", decimal=",", index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL
        )
        b.reserves.cache[key] = ("\ufeff" + text).encode("utf-8")
    return bytes(b.reserves.cache[key])
