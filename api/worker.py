"""The app factory each worker of ``nrw-sites serve --workers N`` starts from.

The cyclic garbage collector is off from here until the snapshot is loaded: a worker's imports
and its load allocate hundreds of thousands of objects that live as long as the worker, and the
collector's passes over them while they are made cost ~0.15 s of a ~1.9 s start (measured on the
50,000-site demo). ``api.live.load`` then freezes what there is (skipping, at this first load,
a full collection that finds ~1,500 objects) and switches the collector back on.
"""

from __future__ import annotations

import gc

gc.disable()

from api.main import create_app  # noqa: E402 - imported with the collector off

__all__ = ["create_app"]
