"""Score classes ("bands"): the one vocabulary of breaks, colours and labels for every map.

The web map and its legends (served as ``bands`` in ``GET /api/ui/config``, read by
``maps/static/js/bands.js``), the report map (maps/report.py) and the QGIS style (maps/qgis.py)
all read it here, so the same score has the same colour everywhere.

A score s (0–100) is in class k when ``BREAKS[k-1] <= s < BREAKS[k]``: class 0 lies below the
first break, the last class runs from the last break to 100. This is the rule of ``band()`` in
maps/static/js/scoring.js. A site without a score (excluded by the profile or a filter, or
without data) is drawn in ``NO_SCORE``.

The colours are viridis, light (low score) to dark (high score): colour-blind safe, and the
classes stay apart when printed in grey.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

BREAKS: tuple[int, ...] = (40, 50, 60, 70, 80)
"""Lower bounds of classes 1 … 5 (class 0 is below the first break)."""
COLOURS: tuple[str, ...] = ("#fde725", "#7ad151", "#22a884", "#2a788e", "#414487", "#440154")
"""One colour per class, class 0 first."""
NO_SCORE = "#a9a9a9"
"""The grey of a site without a score."""
NAMES: dict[str, tuple[str, ...]] = {
    "de": ("sehr gering", "gering", "mäßig", "mittel", "hoch", "sehr hoch"),
    "en": ("very low", "low", "moderate", "medium", "high", "very high"),
}
NO_SCORE_LABEL: dict[str, str] = {"de": "nicht bewertet", "en": "not ranked"}
LANGS = ("de", "en")
SCORE_MIN, SCORE_MAX = 0, 100


def lower(k: int) -> int:
    """The lowest score of class k."""
    return SCORE_MIN if k == 0 else BREAKS[k - 1]


def upper(k: int) -> int:
    """The score where class k ends (exclusive; 100 for the last class, which includes it)."""
    return BREAKS[k] if k < len(BREAKS) else SCORE_MAX


def label(k: int, lang: str) -> str:
    """The legend label of class k, e.g. ``"hoch (70–80)"``."""
    return f"{NAMES[lang][k]} ({lower(k)}–{upper(k)})"


def band(score: float | None) -> int:
    """The class of a score; -1 without one (None or NaN)."""
    if score is None or math.isnan(score):
        return -1
    return bisect.bisect_right(BREAKS, score)


def colour(score: float | None) -> str:
    """The fill colour of a score (``NO_SCORE`` without one)."""
    k = band(score)
    return NO_SCORE if k < 0 else COLOURS[k]


def served() -> dict[str, Any]:
    """The vocabulary as the browser receives it (``bands`` of ``GET /api/ui/config``)."""
    return {
        "breaks": list(BREAKS),
        "colors": list(COLOURS),
        "no_score": NO_SCORE,
        "labels": {lang: [label(k, lang) for k in range(len(COLOURS))] for lang in LANGS},
        "no_score_label": dict(NO_SCORE_LABEL),
    }


assert len(COLOURS) == len(BREAKS) + 1 and list(BREAKS) == sorted(BREAKS)
assert all(len(NAMES[lang]) == len(COLOURS) for lang in LANGS)
