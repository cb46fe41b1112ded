"""Import a plug-in layer module for one test module and leave the registry as it was found.

A plug-in layer registers itself at import (``layers.sources.register_layer``). Until
``layers/sources.py`` imports it, registering it for the whole session would change what other
tests see (e.g. ``missing_layers`` of a build from tests/fixtures/sources.toml). ``plugin(name)``
imports the module, yields it, and then restores the registries; a module that was already
imported (because ``layers/sources.py`` imports it) is yielded and left alone.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from layers import schema, sources


@contextmanager
def plugin(*names: str) -> Iterator[list[ModuleType]]:
    """Import the modules ``names`` (``layers.substations``, …) for the time of the block."""
    fresh = [n for n in names if n not in sys.modules]
    formats, options = dict(sources.FORMATS), dict(sources.FORMAT_OPTIONS)
    no_path, plugins = set(sources.NO_PATH_FORMATS), dict(sources.PLUGIN_LAYERS)
    layers, schemas = sources.LAYERS, dict(schema.SCHEMAS)
    try:
        yield [importlib.import_module(n) for n in names]
    finally:
        if fresh:
            _replace(sources.FORMATS, formats)
            _replace(sources.FORMAT_OPTIONS, options)
            _replace(sources.PLUGIN_LAYERS, plugins)
            _replace(schema.SCHEMAS, schemas)
            sources.NO_PATH_FORMATS.clear()
            sources.NO_PATH_FORMATS.update(no_path)
            sources.LAYERS = layers
            for n in fresh:
                sys.modules.pop(n, None)
                package, _, child = n.rpartition(".")
                if package in sys.modules and hasattr(sys.modules[package], child):
                    delattr(sys.modules[package], child)


def _replace(registry: dict[Any, Any], before: dict[Any, Any]) -> None:
    registry.clear()
    registry.update(before)
