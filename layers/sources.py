"""sources.toml: which official file feeds which layer, in which format (DESIGN §5.2).

Each table names a layer and has ``path`` (relative to the sources file), ``format``, optional
``layer`` (inside a GeoPackage), ``licence``, ``attribution``, ``date`` and format options.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np

from layers import (
    coverage,
    hydrogen,
    lep,
    municipalities,
    planning,
    transport,
    transport_airports,
    transport_facts,
    transport_osm,
    transport_stations,
    xplan,
)
from layers.errors import SourceError
from layers.schema import SCHEMAS, Schema

VECTOR_LAYERS = ("municipalities", "regional_plan", "brownfields", "lep_sites", "hydrogen")
TRANSPORT_LAYERS = transport.LAYERS  # motorway_junctions, ports, rail_freight, rail_stations, airports
COVERAGE_LAYERS = ("fibre", "mobile_5g")
LAYERS: tuple[str, ...] = VECTOR_LAYERS + TRANSPORT_LAYERS + COVERAGE_LAYERS

# layer -> format -> (reader(path, cfg), default licence/attribution)
Reader = Callable[[Path, dict[str, Any]], Any]  # the NO_PATH_FORMATS readers also take None
FORMATS: dict[str, dict[str, tuple[Reader, dict[str, str]]]] = {
    "municipalities": {
        "dvg": (municipalities.read_dvg, municipalities.DEFAULTS["dvg"]),
        "vg250": (municipalities.read_vg250, municipalities.DEFAULTS["vg250"]),
    },
    "regional_plan": {
        "mapped": (
            partial(planning.read_mapped, "regional_plan"),
            planning.DEFAULTS["regional_plan"]["mapped"],
        ),
        "xplan-rp": (xplan.read_xplan_rp, xplan.DEFAULTS["xplan-rp"]),
    },
    "brownfields": {
        "mapped": (partial(planning.read_mapped, "brownfields"), planning.DEFAULTS["brownfields"]["mapped"]),
    },
    "lep_sites": {
        "facts": (lep.read_facts, lep.DEFAULTS["facts"]),
        "mapped": (lep.read_mapped, lep.DEFAULTS["mapped"]),
    },
    "hydrogen": {
        "fnb-measures": (hydrogen.read_fnb_measures, hydrogen.DEFAULTS["fnb-measures"]),
        "lines": (hydrogen.read_lines, hydrogen.DEFAULTS["lines"]),
    },
    "motorway_junctions": {
        "osm": (transport_osm.read_osm_junctions, transport.DEFAULTS["osm"]),
        "mapped": (partial(transport.read_mapped, "motorway_junctions"), transport.DEFAULTS["mapped"]),
    },
    "ports": {
        "osm": (transport_osm.read_osm_ports, transport.DEFAULTS["osm"]),
        "mapped": (partial(transport.read_mapped, "ports"), transport.DEFAULTS["mapped"]),
    },
    "rail_freight": {
        "osm": (transport_osm.read_osm_rail_freight, transport.DEFAULTS["osm"]),
        "mapped": (partial(transport.read_mapped, "rail_freight"), transport.DEFAULTS["mapped"]),
    },
    "rail_stations": {
        "db-haltestellen": (transport_stations.read_db_stations, transport.DEFAULTS["db-haltestellen"]),
        "facts": (transport_facts.read_station_facts, transport.DEFAULTS["facts:rail_stations"]),
    },
    "airports": {
        "openflights": (transport_airports.read_openflights, transport.DEFAULTS["openflights"]),
        "ourairports": (transport_airports.read_ourairports, transport.DEFAULTS["ourairports"]),
        "facts": (transport_facts.read_airport_facts, transport.DEFAULTS["facts:airports"]),
    },
    "fibre": {
        "breitbandatlas-municipal": (
            partial(coverage.read_breitbandatlas_municipal, "fibre"),
            coverage.DEFAULTS["breitbandatlas-municipal"],
        ),
        "inspire-grid": (partial(coverage.read_inspire_grid, "fibre"), coverage.DEFAULTS["inspire-grid"]),
    },
    "mobile_5g": {
        "breitbandatlas-kreis": (
            partial(coverage.read_breitbandatlas_kreis, "mobile_5g"),
            coverage.DEFAULTS["breitbandatlas-kreis"],
        ),
        "bnetza-grid": (partial(coverage.read_bnetza_grid, "mobile_5g"), coverage.DEFAULTS["bnetza-grid"]),
        "inspire-grid": (partial(coverage.read_inspire_grid, "mobile_5g"), coverage.DEFAULTS["inspire-grid"]),
    },
}
NO_PATH_FORMATS = {("lep_sites", "facts"), ("rail_stations", "facts"), ("airports", "facts")}
# options each format understands, and their types (a typo or a wrong type is an error)
OPTION_TYPES: dict[str, type | tuple[type, ...]] = {
    "layer": str,
    "columns": dict,
    "values": dict,
    "defaults": dict,
    "column": str,
    "technology": str,
    "area_type": str,
    "id_column": str,
    "value_column": str,
    "scale": (int, float),
    "threshold": (int, float),
    "places": str,
    "number_format": str,
    "commercial": list,
}
FORMAT_OPTIONS: dict[str, tuple[str, ...]] = {
    "dvg": ("layer",),
    "vg250": ("layer",),
    "mapped": ("layer", "columns", "values", "defaults"),
    "xplan-rp": ("values", "defaults"),
    "facts": (),
    "breitbandatlas-municipal": ("column", "number_format"),
    "breitbandatlas-kreis": ("technology", "area_type", "number_format"),
    "inspire-grid": ("layer", "id_column", "value_column", "scale", "number_format"),
    "bnetza-grid": ("layer", "value_column", "scale", "threshold"),
    "fnb-measures": ("layer", "places", "number_format"),
    "lines": ("layer", "columns", "values", "defaults"),
    "osm": (),
    "db-haltestellen": ("layer", "values"),
    "openflights": ("layer", "commercial"),
    "ourairports": ("layer", "commercial"),
}
PATH_OPTIONS = ("places",)  # options that name further files, resolved like `path`


@dataclass(frozen=True)
class Format:
    """One source format of a plug-in layer: its reader, default licence and options."""

    reader: Reader
    licence: str
    attribution: str
    options: tuple[str, ...] = ()
    needs_path: bool = True


@dataclass(frozen=True)
class LayerSpec:
    """A plug-in layer: its formats, canonical schema and (optional) demo generator.

    A ``vector`` layer's readers return a GeoDataFrame checked against ``schema``; a ``grid``
    layer's readers return a ``geo.grid.Coverage`` (a raster such as population counts, stored
    as .npy). ``demo(rng, municipalities)`` returns the layer for the embedded demo dataset (it
    is labelled SYNTHETIC in the manifest unless ``demo_real`` says it holds real facts); without
    one the demo leaves the layer out.
    """

    name: str
    formats: Mapping[str, Format]
    schema: Schema | None = None
    kind: Literal["vector", "grid"] = "vector"
    demo: Callable[[np.random.Generator, gpd.GeoDataFrame], Any] | None = None
    note: str = ""
    demo_real: Mapping[str, str] | None = None  # licence, attribution, source of real demo facts

    def __post_init__(self) -> None:
        if (self.schema is None) != (self.kind == "grid"):
            raise ValueError(f"{self.name}: a vector layer needs a schema, a grid layer has none")


PLUGIN_LAYERS: dict[str, LayerSpec] = {}  # filled at import by the layer modules that register


def register_layer(spec: LayerSpec) -> LayerSpec:
    """Register a layer of a plug-in criterion: sources.toml, the checks and the build know it.

    Refuses a layer name that exists and an option a format of the same name reads differently.
    Call it at import of the layer's module, before ``layers.build`` is imported.
    """
    global LAYERS
    if spec.name in FORMATS:
        raise ValueError(f"layer {spec.name!r} is already registered")
    for fmt, f in spec.formats.items():
        unknown = [o for o in f.options if o not in OPTION_TYPES]
        if unknown:
            raise ValueError(f"{spec.name}/{fmt}: options without a type in OPTION_TYPES: {unknown}")
        if fmt in FORMAT_OPTIONS and FORMAT_OPTIONS[fmt] != f.options:
            raise ValueError(f"format {fmt!r} exists with the options {FORMAT_OPTIONS[fmt]}")
    if spec.schema is not None:
        SCHEMAS[spec.name] = spec.schema
    FORMATS[spec.name] = {
        fmt: (f.reader, {"licence": f.licence, "attribution": f.attribution})
        for fmt, f in spec.formats.items()
    }
    for fmt, f in spec.formats.items():
        FORMAT_OPTIONS[fmt] = f.options
        if not f.needs_path:
            NO_PATH_FORMATS.add((spec.name, fmt))
    PLUGIN_LAYERS[spec.name] = spec
    LAYERS = (*LAYERS, spec.name)
    return spec


@dataclass
class LayerSource:
    """One configured layer: where it comes from and how to read it."""

    layer: str
    format: str
    path: Path | None
    options: dict[str, Any] = field(default_factory=dict)
    licence: str = ""
    attribution: str = ""
    date: str | None = None

    def read(self) -> Any:
        """Run the format's reader; returns a canonical GeoDataFrame or a Coverage."""
        reader, _ = FORMATS[self.layer][self.format]
        return reader(cast(Path, self.path), self.options)  # None only for NO_PATH_FORMATS


def _option_problems(layer: str, fmt: str, options: dict[str, Any]) -> list[str]:
    """Unknown options and options of the wrong type for a format."""
    out = []
    for key, value in options.items():
        if key not in FORMAT_OPTIONS[fmt]:
            known = ", ".join(FORMAT_OPTIONS[fmt]) or "none"
            out.append(f"[{layer}]: unknown option {key[:40]!r} for format {fmt!r} (options: {known})")
        elif not isinstance(value, OPTION_TYPES[key]) or isinstance(value, bool):
            kinds: dict[type | tuple[type, ...], str] = {dict: "a table", str: "a string", list: "a list"}
            kind = kinds.get(OPTION_TYPES[key], "a number")
            out.append(f"[{layer}]: option {key!r} must be {kind}")
        elif key == "values" and not all(isinstance(v, dict) for v in cast(dict[str, Any], value).values()):
            out.append(
                f"[{layer}]: each [{layer}.values.<field>] must be a table of source value = canonical value"
            )
        elif key == "number_format" and value not in ("de", "en"):
            out.append(f'[{layer}]: number_format must be "de" (1.234,5) or "en" (1,234.5)')
    return out


def load_sources(file: Path) -> dict[str, LayerSource]:
    """Parse and check a sources.toml; every problem is reported at once."""
    if not file.exists():
        raise SourceError("sources", file, "sources file not found")
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError("sources", file, f"not valid TOML: {exc}") from exc
    out: dict[str, LayerSource] = {}
    problems: list[str] = []
    for layer, table in doc.items():
        source, bad = _layer_source(layer, table, file.parent)
        problems.extend(bad)
        if source is not None:
            out[layer] = source
    if problems:
        raise SourceError("sources", file, problems)
    if "municipalities" not in out:
        raise SourceError(
            "sources",
            file,
            "[municipalities] is required: every site is placed "
            "in a municipality and statistics are spread over them",
        )
    return out


def _layer_source(layer: str, table: Any, base: Path) -> tuple[LayerSource | None, list[str]]:
    """One ``[layer]`` table of sources.toml (paths relative to ``base``) and its problems.

    The source is None when the table cannot be read at all; it comes with problems only
    when a file named by an option is missing.
    """
    if layer not in FORMATS:
        return None, [f"[{layer}]: unknown layer; known layers: {', '.join(LAYERS)}"]
    if not isinstance(table, dict):
        return None, [f"[{layer}] must be a table"]
    fmt = table.get("format")
    if fmt not in FORMATS[layer]:
        return None, [
            f"[{layer}]: unknown format {str(fmt)[:40]!r}; formats for {layer}: {', '.join(FORMATS[layer])}"
        ]
    path = None
    if (layer, fmt) not in NO_PATH_FORMATS:
        if "path" not in table:
            return None, [f"[{layer}]: `path` is missing"]
        path = (base / str(table["path"])).resolve()
        if not path.exists():
            return None, [f"[{layer}]: file not found: {path}"]
    options = {
        k: v for k, v in table.items() if k not in ("path", "format", "licence", "attribution", "date")
    }
    bad = _option_problems(layer, fmt, options)
    if bad:
        return None, bad
    problems = _resolve_path_options(layer, options, base)
    _, defaults = FORMATS[layer][fmt]
    source = LayerSource(
        layer,
        fmt,
        path,
        options,
        licence=str(table.get("licence", defaults["licence"])),
        attribution=str(table.get("attribution", defaults["attribution"])),
        date=str(table["date"]) if "date" in table else None,
    )
    return source, problems


def _resolve_path_options(layer: str, options: dict[str, Any], base: Path) -> list[str]:
    """Resolve the options that name a file (PATH_OPTIONS) against ``base``, in place; missing files."""
    problems: list[str] = []
    for key in PATH_OPTIONS:
        if key in options:
            options[key] = str((base / str(options[key])).resolve())
            if not Path(options[key]).exists():
                problems.append(f"[{layer}]: {key} file not found: {options[key]}")
    return problems
