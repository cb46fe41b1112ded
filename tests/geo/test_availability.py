"""Availability classes, dates, restrictions and marketability (geo/availability.py), checked
against values worked out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from geo.availability import derive, join_restrictions, month_number, month_text, split_restrictions
from geo.errors import InvalidParameter
from geo.filters import FILTERS, Filters

DAY = dt.date(2026, 12, 6)  # month number 2026·12 + 11 = 24323


def test_month_numbers():
    assert month_number("2026-12") == 24323
    assert month_number("2027-01") == 24324
    assert month_text(24323.0) == "2026-12" and month_text(float("nan")) is None
    for bad in ("2026-13", "2026-1", "26-01", "2026-00", "x", ""):
        with pytest.raises(ValueError, match="YYYY-MM"):
            month_number(bad)


def test_derive_by_hand():
    availability = ["now", "lt_1y", "1_3y", "gt_3y", "unknown", "unknown", "lt2y", "gt2y", None, "now"]
    dates = [None, None, None, "2028-02-15", "2027-03-01", None, None, None, None, "2025-01-31"]
    restrictions = ["", "", "ownership", "", "", "", None, "", "", None]
    out = derive(availability, dates, restrictions, DAY)
    assert out["availability"].tolist() == [
        "now",
        "lt_1y",
        "1_3y",
        "gt_3y",  # the class the source gives stays
        "lt_1y",  # unknown with a date 3 months ahead
        "unknown",
        "1_3y",  # lt2y read as 1_3y
        "gt_3y",  # gt2y read as gt_3y
        "unknown",
        "now",
    ]
    m = out["available_month"]
    expected = [24323, 24335, 24359, 2028 * 12 + 1, 2027 * 12 + 2, np.nan, 24359, np.nan, np.nan, 2025 * 12]
    np.testing.assert_array_equal(m, np.array(expected, dtype=float))
    # restriction-free (checked: "") and available by 2027-12 (24335)
    assert out["marketable"].tolist() == [True, True, False, False, True, False, False, False, False, False]


def test_restriction_lists():
    assert join_restrictions(["planning_law", "ownership"]) == "ownership;planning_law"
    assert join_restrictions([]) == ""
    with pytest.raises(ValueError, match="unknown restriction"):
        join_restrictions(["noise"])
    assert split_restrictions("ownership;access") == ["ownership", "access"]
    assert split_restrictions("") == [] and split_restrictions(None) is None
    assert split_restrictions(float("nan")) is None


def test_available_by_filter_masks_by_month():
    f = Filters(available_by="2027-12")
    assert f.available_by == 24335.0 and f.to_dict() == {"available_by": "2027-12"}
    spec = FILTERS["available_by"]
    col = np.array([24323, 24335, 24336, np.nan])
    assert spec.keep(col, f.available_by, 4).tolist() == [True, True, False, False]  # unknown never passes
    assert Filters(available_by=24335.0) == f  # a parsed value re-checked
    for bad in ("2027-13", "2027", 5.0j, "2027-06; DROP", 0.5, 24335.5, 202706):
        with pytest.raises(InvalidParameter, match="YYYY-MM"):
            Filters(available_by=bad)
