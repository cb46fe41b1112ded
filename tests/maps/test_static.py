"""The web UI runs from the repository as it is: no CDN, no build step, every import resolvable.

Checks the pages' import maps point at vendored files, that every module imports only relative
paths or names of the import map, that no page, style or module loads anything from another
host, and that only the map modules (map.js, map-*.js) import MapLibre / pmtiles (draw.js imports
terra-draw).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "maps" / "static"
PAGES = ["index.html", "expose.html"]
IMPORT = re.compile(
    r"""(?:^|;|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]"""
    r"""|import\(\s*['"]([^'"]+)['"]"""
)


def import_map(page: str) -> dict[str, str]:
    html = (STATIC / page).read_text(encoding="utf-8")
    m = re.search(r'<script type="importmap">(.*?)</script>', html, re.S)
    assert m, f"{page} has no import map"
    return json.loads(m.group(1))["imports"]


def own_modules() -> list[Path]:
    return sorted((STATIC / "js").glob("*.js"))


def is_map_module(name: str) -> bool:
    return name == "map.js" or (name.startswith("map-") and name.endswith(".js"))


@pytest.mark.parametrize("page", PAGES)
def test_import_map_points_at_vendored_files(page: str) -> None:
    for name, target in import_map(page).items():
        assert target.startswith("./vendor/"), f"{name} -> {target}"
        assert (STATIC / target).is_file(), f"{page}: {name} -> {target} missing"


@pytest.mark.parametrize("page", PAGES)
def test_pages_load_nothing_from_other_hosts(page: str) -> None:
    html = (STATIC / page).read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', html), page
    for ref in re.findall(r'(?:src|href)="([^"#?]+)', html):
        if ref.startswith(("data:", "api/")) or ref in ("./",):
            continue
        assert (STATIC / ref).exists(), f"{page}: {ref} missing"


def test_styles_load_nothing_from_other_hosts() -> None:
    for css in (STATIC / "css").glob("*.css"):
        text = css.read_text(encoding="utf-8")
        for url in re.findall(r"url\(([^)]+)\)", text):
            url = url.strip("'\"")
            assert not re.match(r"(https?:)?//", url), f"{css.name}: {url}"
            if not url.startswith("data:"):
                assert (css.parent / url).resolve().is_file(), f"{css.name}: {url} missing"


@pytest.mark.parametrize("module", own_modules(), ids=lambda p: p.name)
def test_module_imports_resolve(module: Path) -> None:
    mapped = set(import_map("index.html")) | set(import_map("expose.html"))
    src = module.read_text(encoding="utf-8")
    assert not re.search(r"""fetch\(\s*['"`](https?:)?//""", src), f"{module.name} fetches another host"
    for m in IMPORT.finditer(src):
        spec = m.group(1) or m.group(2)
        if spec.startswith("."):
            assert (module.parent / spec).resolve().is_file(), f"{module.name}: {spec}"
        else:
            assert spec in mapped, f"{module.name} imports {spec}, not in the import map"
        if spec in ("maplibre-gl", "pmtiles"):
            assert is_map_module(module.name), f"only the map modules import {spec} ({module.name} does)"
        if spec.startswith("terra-draw"):
            assert module.name == "draw.js", f"only draw.js imports {spec}"


def test_the_import_pattern_sees_the_map_imports() -> None:
    src = (STATIC / "js" / "map.js").read_text(encoding="utf-8")
    assert {"maplibre-gl", "./layers.js", "./map-tiles.js"} <= {m.group(1) for m in IMPORT.finditer(src)}
    tiles = (STATIC / "js" / "map-tiles.js").read_text(encoding="utf-8")
    assert {"maplibre-gl", "pmtiles"} <= {m.group(1) for m in IMPORT.finditer(tiles)}


def test_every_own_module_of_the_page_is_preloaded() -> None:
    """The page lists each module it loads as a modulepreload: no import waterfall."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    preloaded = set(re.findall(r'<link rel="modulepreload" href="js/([^"]+)">', html))
    seen, todo = set(), ["app.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        src = (STATIC / "js" / name).read_text(encoding="utf-8")
        todo += [m.group(1)[2:] for m in IMPORT.finditer(src) if (m.group(1) or "").startswith("./")]
    assert seen <= preloaded, sorted(seen - preloaded)


def test_pure_modules_import_nothing_vendored() -> None:
    for name in ["scoring.js", "permalink.js", "layers.js", "bands.js", "topojson.js", "i18n.js", "state.js"]:
        src = (STATIC / "js" / name).read_text(encoding="utf-8")
        specs = [m.group(1) or m.group(2) for m in IMPORT.finditer(src)]
        assert all(s.startswith("./") for s in specs), f"{name}: {specs}"


def test_every_stylesheet_uses_the_one_phone_breakpoint() -> None:
    """CSS media queries cannot share a variable: each phone block repeats sheets.js PHONE_QUERY,
    and a stylesheet left on an older breakpoint gives small tap targets between the two."""
    js = (STATIC / "js" / "sheets.js").read_text(encoding="utf-8")
    query = re.search(r"PHONE_QUERY = '([^']+)'", js)
    assert query is not None
    for css in sorted((STATIC / "css").glob("*.css")):
        text = css.read_text(encoding="utf-8")
        phone_blocks = re.findall(r"@media (screen and \(max-width: \d+px\), [^{]*?)\s*\{", text)
        for found in phone_blocks:
            assert found == query.group(1), f"{css.name}: {found!r} is not sheets.js PHONE_QUERY"
