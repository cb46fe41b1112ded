"""The reserves (api/statistics.py) as an XLSX workbook for Excel: one sheet per level (a title
row that says SYNTHETIC for the demo, a frozen header, number formats) and a sheet of sources,
licences and figure definitions. Its own module, imported on the first such request, so that
a serving worker does not load openpyxl (0.14 s) before it answers anything.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from api.statistics import (
    KEY_WORDS,
    LEVEL_WORDS,
    NUMBER_FORMATS,
    SYNTHETIC,
    UNITS,
    _word,
    provenance,
)
from geo.reserves import FIGURES, LEVELS
from layers.reserves import Balance

HEAD_FONT = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DDE4EE")
TITLE_FONT = Font(bold=True, size=12)
WARN_FONT = Font(bold=True, size=12, color="B00020")


def _text_cell(cell: Cell, value: Any) -> None:
    """A text cell that stays text (openpyxl would take a leading = as a formula)."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def sheet_title(level: str, lang: str) -> str:
    """The sheet of a level."""
    return _word(LEVEL_WORDS[level], lang)


def _level_sheet(wb: Workbook, b: Balance, level: str, lang: str) -> None:
    ws = wb.create_sheet(sheet_title(level, lang))
    de = lang == "de"
    title = (
        f"{'Flächenreserven' if de else 'Land reserves'}: {sheet_title(level, lang)} – Snapshot {b.snapshot}"
    )
    if b.synthetic:
        title += f" – {_word(SYNTHETIC, lang)}"
    _text_cell(ws.cell(1, 1), title)
    ws.cell(1, 1).font = WARN_FONT if b.synthetic else TITLE_FONT
    heads = [_word(KEY_WORDS[level], lang), "Name", *(f.label(lang) for f in FIGURES)]
    for j, h in enumerate(heads, start=1):
        c = ws.cell(2, j)
        _text_cell(c, h)
        c.font, c.fill = HEAD_FONT, HEAD_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")
    table = b.reserves.tables[level]
    for i, row in enumerate(table.to_dict("records"), start=3):
        _text_cell(ws.cell(i, 1), row["key"])
        _text_cell(ws.cell(i, 2), row["name"])
        for j, f in enumerate(FIGURES, start=3):
            v = row[f.name]
            if v is None or (isinstance(v, float) and np.isnan(v)):
                continue
            c = ws.cell(i, j)
            c.value = int(round(float(v))) if f.kind == "count" else float(v)
            c.number_format = NUMBER_FORMATS[f.kind]
    ws.freeze_panes = "C3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(heads))}{max(2, len(table) + 2)}"
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 28
    for j in range(3, len(heads) + 1):
        ws.column_dimensions[get_column_letter(j)].width = 16
    ws.row_dimensions[2].height = 45


def sources_title(lang: str) -> str:
    """The sheet of sources and licences."""
    return "Quellen" if lang == "de" else "Sources"


def _sources_sheet(wb: Workbook, b: Balance, lang: str) -> None:
    ws = wb.create_sheet(sources_title(lang))
    de = lang == "de"
    rows: list[list[Any]] = [
        [("Quellen, Lizenzen und Kennzahlen" if de else "Sources, licences and figures")]
    ]
    for label, value in provenance(b, lang).items():
        rows.append([label, value])
    rows += [
        ["Erstellt (Snapshot)" if de else "Snapshot created", b.created],
        ["Vorgänger erstellt" if de else "Previous created", b.previous_created or ""],
        ["Zeitraum (Jahre)" if de else "Period (years)", None if b.years is None else round(b.years, 4)],
        ["Hinweis" if de else "Note", b.note or ""],
        [],
        ["Ebene" if de else "Layer", "Namensnennung" if de else "Attribution", "Lizenz" if de else "Licence"]
        + (["Lizenz-URL", "Quelle", "Stand"] if de else ["Licence URL", "Source", "Date"]),
    ]
    head_rows = [1, len(rows)]
    for a in b.attribution:
        rows.append(
            [
                a["layer"],
                a.get("attribution"),
                a.get("licence"),
                a.get("licence_url"),
                a.get("source"),
                a.get("date"),
            ]
        )
    rows += [
        [],
        [
            "Kennzahl" if de else "Figure",
            "Bezeichnung" if de else "Label",
            "Einheit" if de else "Unit",
            "Beschreibung" if de else "Description",
        ],
    ]
    head_rows.append(len(rows))
    for f in FIGURES:
        rows.append([f.name, f.label(lang), UNITS[f.kind], f.description])
    for i, row in enumerate(rows, start=1):
        for j, v in enumerate(row, start=1):
            _text_cell(ws.cell(i, j), v)
            if i in head_rows:
                ws.cell(i, j).font = HEAD_FONT
    if b.synthetic:
        ws.cell(2, 2).font = WARN_FONT
    for col, width in zip("ABCDEF", (26, 60, 28, 40, 40, 14), strict=True):
        ws.column_dimensions[col].width = width


def xlsx_bytes(b: Balance, level: str | None, lang: str) -> bytes:
    """One sheet per level (all four without ``level``) and the sources sheet (cached)."""
    key = ("xlsx", level, lang)
    if key not in b.reserves.cache:
        wb = Workbook()
        for ws in list(wb.worksheets):  # the empty default sheet
            wb.remove(ws)
        for lv in LEVELS if level is None else (level,):
            _level_sheet(wb, b, lv, lang)
        _sources_sheet(wb, b, lang)
        buf = io.BytesIO()
        wb.save(buf)
        b.reserves.cache[key] = buf.getvalue()
    return bytes(b.reserves.cache[key])
