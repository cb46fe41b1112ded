"""Availability and marketability of candidate sites (issue 19 §1, DESIGN §5.4).

- ``availability``: when the site can be built on, a class relative to the data's date:
  ``now``, ``lt_1y`` (within a year), ``1_3y``, ``gt_3y``, ``unknown``. The older brownfield
  codes are read as the class that promises no more than they do: ``lt2y`` → ``1_3y``,
  ``gt2y`` → ``gt_3y``.
- ``available_from``: the date the source gives (ISO ``YYYY-MM-DD``), or none. Where the class
  is unknown and a date is given, the class follows from the date.
- ``restrictions``: the known obstacles, canonical codes joined with ``;`` in ``RESTRICTIONS``
  order (``""``: none known to the source as checked; missing: not checked).
- ``available_month``: the last month by which the site is available, as a month number
  (``year · 12 + month − 1``): the month of ``available_from`` where given, else the data's
  month plus the class's horizon (0, 12, 36 months); none for ``gt_3y`` without a date and for
  ``unknown`` — an unknown availability is never counted as available.
- ``marketable``: restriction-free (checked, none found) and available within a year.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import numpy as np

AVAILABILITY = ("now", "lt_1y", "1_3y", "gt_3y", "unknown")
LEGACY = {"lt2y": "1_3y", "gt2y": "gt_3y"}  # DESIGN §3.2's first brownfield codes
HORIZON_MONTHS = {"now": 0, "lt_1y": 12, "1_3y": 36}
LAND_FIELDS = ("availability", "available_from", "restrictions")  # as the candidate layers give them
RESTRICTIONS = ("ownership", "contamination", "access", "emission", "planning_law", "other")
SEPARATORS = re.compile(r"[;,|]")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MARKETABLE_MONTHS = 12


def month_number(text: str) -> int:
    """``YYYY-MM`` as a month number; ValueError naming the expected form otherwise."""
    m = MONTH.match(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise ValueError("a month is written YYYY-MM, e.g. 2027-06")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def month_text(number: float) -> str | None:
    """A month number as ``YYYY-MM`` (None for NaN)."""
    if number != number:
        return None
    n = int(number)
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def date_month(day: dt.date) -> int:
    """The month number of a date."""
    return day.year * 12 + day.month - 1


def canonical(values: Iterable[object]) -> np.ndarray:
    """Availability codes with the legacy codes translated and missing values ``unknown``."""
    return np.array(
        [LEGACY.get(v, v) if isinstance(v, str) and v else "unknown" for v in values], dtype=object
    )


def join_restrictions(codes: Iterable[str]) -> str:
    """Restriction codes in canonical order, ``;``-joined (unknown codes raise ValueError)."""
    given = set(codes)
    unknown = given - set(RESTRICTIONS)
    if unknown:
        raise ValueError(f"unknown restriction(s) {sorted(unknown)}; known: {', '.join(RESTRICTIONS)}")
    return ";".join(c for c in RESTRICTIONS if c in given)


def split_restrictions(value: object) -> list[str] | None:
    """A stored restrictions value as a list (None where not checked)."""
    if not isinstance(value, str):
        return None
    return [c for c in value.split(";") if c]


def derive(
    availability: Iterable[object],
    available_from: Iterable[object],
    restrictions: Iterable[object],
    data_date: dt.date,
) -> dict[str, np.ndarray]:
    """``availability`` (canonical), ``available_month`` and ``marketable`` per site.

    ``available_from`` holds ISO dates (or None); ``data_date`` is the day the classes refer to.
    """
    cls = canonical(availability)
    ref = date_month(data_date)
    dates = [dt.date.fromisoformat(d) if isinstance(d, str) and d else None for d in available_from]
    month = np.full(len(cls), np.nan)
    for i, (c, d) in enumerate(zip(cls, dates, strict=True)):
        if d is not None:
            month[i] = date_month(d)
            if c == "unknown":
                ahead = month[i] - ref
                cls[i] = (
                    "now" if ahead <= 0 else "lt_1y" if ahead <= 12 else "1_3y" if ahead <= 36 else "gt_3y"
                )
        elif c in HORIZON_MONTHS:
            month[i] = ref + HORIZON_MONTHS[c]
    free = np.array([v == "" for v in restrictions], dtype=bool)
    with np.errstate(invalid="ignore"):
        soon = month <= ref + MARKETABLE_MONTHS
    return {"availability": cls, "available_month": month, "marketable": free & soon}
