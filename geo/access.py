"""Who may see what (DESIGN §5.3): the confidential fields and the ``public`` flag of sites.

Municipalities tell NRW.Global Business some things in confidence: the owner's contact, the
asking price, notes, whether the owner is willing to sell (``owner_willing``: yes, no,
unknown; issue 19) and sites that are not public yet. These names are the contract; the API
builds a public view without them (api/views.py), the tiles leave them out (layers/tiles.py).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import pandas as pd

CONFIDENTIAL_FIELDS = ("owner_contact", "asking_price_eur_m2", "notes", "owner_willing")
PUBLIC_FIELD = "public"
RESTRICTED_FIELDS = (*CONFIDENTIAL_FIELDS, PUBLIC_FIELD)
_Frame = TypeVar("_Frame", bound=pd.DataFrame)


def public_mask(df: pd.DataFrame) -> np.ndarray:
    """True for the rows the public may see (no ``public`` column, or not explicitly false)."""
    if PUBLIC_FIELD not in df.columns:
        return np.ones(len(df), dtype=bool)
    col = df[PUBLIC_FIELD]
    return ~(col.eq(False).fillna(False).to_numpy(bool))


def public_view(df: _Frame) -> _Frame:
    """The public rows without any restricted column (index reset)."""
    out = df[public_mask(df)]
    out = out.drop(columns=[c for c in RESTRICTED_FIELDS if c in out.columns])
    return out.reset_index(drop=True)
