"""Value-function kinds: how an indicator becomes a criterion value v ∈ [0, 1] (NaN = no data).

A criterion declares one kind with its parameters (``geo/catalogue.py``); a profile may override
any parameter per criterion (``Profile.params``). Each kind is a frozen model, so declarations
are data: listed by the API, checked when the registry is built, compared in tests.

- ``Ramp(full, zero)``: 1 at ``full``, linear to 0 at ``zero``. ``full < zero`` falls (distance:
  near is good), ``full > zero`` rises (capacity, workforce: more is good); ``log`` makes it
  linear in ln(1 + x), for sums that span orders of magnitude (excess heat). ``missing`` is the
  value where the indicator is NaN (default NaN = no data; the hydrogen network uses 0: no
  pipeline in service is a known fact, not missing data).
- ``Share(invert)``: the share itself (or 1 − share), clipped to [0, 1].
- ``Table(values)``: a value per code; unknown codes are NaN.
- ``LogSize()``: 0 below the profile's ``area_min_ha``, ``ln(a / min) / ln(target / min)`` up to
  1 at its ``area_target_ha`` (the parameters live on the profile, as the contract has them).
- ``Flag()``: 1 for true, 0 for false, NaN for unknown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from geo.criteria import Profile


class _Kind(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def params(self) -> dict[str, Any]:
        """The kind's parameters (what a profile may override)."""
        return {k: v for k, v in self.model_dump().items() if k != "kind"}

    def with_params(self, overrides: Mapping[str, Any]) -> _Kind:
        """This kind with parameters replaced (checked like a declaration)."""
        if not overrides:
            return self
        return type(self).model_validate({**self.model_dump(), **overrides})


class Ramp(_Kind):
    """Linear between ``full`` (v = 1) and ``zero`` (v = 0), in the indicator's unit."""

    kind: Literal["ramp"] = "ramp"
    full: float
    zero: float
    missing: float | None = Field(None, ge=0, le=1, description="v where the indicator is NaN")
    log: bool = Field(False, description="linear in ln(1 + x) instead of x (for skewed sums, x ≥ 0)")

    @model_validator(mode="after")
    def _distinct(self) -> Ramp:
        if self.full == self.zero or not (math.isfinite(self.full) and math.isfinite(self.zero)):
            raise ValueError("ramp needs finite full ≠ zero")
        if self.log and min(self.full, self.zero) < 0:
            raise ValueError("a log ramp needs full, zero ≥ 0")
        return self

    def __call__(self, x: np.ndarray, profile: Profile) -> np.ndarray:  # noqa: ARG002 - one signature
        """1 at ``full``, linear to 0 at ``zero`` (in ln(1 + x) with ``log``); NaN → ``missing``."""
        d = np.asarray(x, dtype=float)
        full, zero = self.full, self.zero
        if self.log:
            d, full, zero = np.log1p(np.maximum(d, 0.0)), math.log1p(full), math.log1p(zero)
        v: np.ndarray = np.clip((zero - d) / (zero - full), 0.0, 1.0)
        if self.missing is not None:
            v = np.where(np.isnan(d), self.missing, v)
        return v


class Share(_Kind):
    """The share itself (``invert``: 1 − share), clipped to [0, 1]."""

    kind: Literal["share"] = "share"
    invert: bool = False

    def __call__(self, x: np.ndarray, profile: Profile) -> np.ndarray:  # noqa: ARG002
        """The clipped share (NaN stays NaN)."""
        s = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
        out: np.ndarray = 1.0 - s if self.invert else s
        return out


class Table(_Kind):
    """A value per code (unknown or missing codes: NaN)."""

    kind: Literal["table"] = "table"
    values: dict[str, Annotated[float, Field(ge=0, le=1)]]

    def __call__(self, x: np.ndarray, profile: Profile) -> np.ndarray:  # noqa: ARG002
        """Look every code up."""
        t = self.values
        return np.array([t.get(v, np.nan) if isinstance(v, str) else np.nan for v in x], dtype=float)


class LogSize(_Kind):
    """Logarithmic in size between the profile's ``area_min_ha`` and ``area_target_ha``."""

    kind: Literal["log_size"] = "log_size"

    def __call__(self, x: np.ndarray, profile: Profile) -> np.ndarray:
        """0 below the minimum, log-rising to 1 at the target."""
        a = np.asarray(x, dtype=float)
        lo = max(profile.area_min_ha, 1e-6)
        hi = max(profile.area_target_ha, profile.area_min_ha * 1.0001)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log(np.maximum(a, 1e-12) / lo) / math.log(hi / lo)
        out: np.ndarray = np.where(a < lo, 0.0, np.clip(v, 0.0, 1.0))
        return out


class Flag(_Kind):
    """1 for true, 0 for false, NaN for unknown."""

    kind: Literal["flag"] = "flag"

    def __call__(self, x: np.ndarray, profile: Profile) -> np.ndarray:  # noqa: ARG002
        """The flag as 0/1 (NaN where unknown)."""
        x = np.asarray(x)
        if x.dtype.kind == "f":
            return x.astype(float)
        return np.array(
            [np.nan if v is None or (isinstance(v, float) and math.isnan(v)) else float(bool(v)) for v in x]
        )


ValueFunction = Annotated[Ramp | Share | Table | LogSize | Flag, Field(discriminator="kind")]
