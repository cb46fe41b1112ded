"""The plug-in layers (issue 21 and later): each module registers its layer(s) when imported.

A plug-in layer module ends with ``register_layer(LayerSpec(...))`` (``layers/sources.py``). This
module imports them all, after ``layers/sources.py`` is complete, so nothing imports in a
circle; ``layers/build.py`` imports it, and with it every configured layer is known.
A new layer module adds its name to the import line below.
"""

from layers import constraints, population_demo, renewables, substations, waste_heat  # noqa: F401
