"""A sources.toml of the committed fixtures reduced to some layers, and its files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORE = ("municipalities", "regional_plan", "brownfields", "lep_sites")


def sources_text(layers: tuple[str, ...] = CORE) -> str:
    """The fixture sources.toml with only the tables of ``layers``."""
    text = (FIXTURES / "sources.toml").read_text(encoding="utf-8")
    keep, out = False, []
    for line in text.splitlines():
        m = re.match(r"^\[([a-z_0-9]+)", line)
        if m:
            keep = m.group(1) in layers
        if keep:
            out.append(line)
    return "\n".join(out) + "\n"


def files(text: str) -> list[tuple[Path, str]]:
    """(fixture file, path inside the bundle) for every file the text names, sidecars too."""
    out = []
    for rel in re.findall(r'^path = "([^"]+)"', text, flags=re.M):
        base = FIXTURES / rel
        out += [(f, str(Path(rel).parent / f.name)) for f in base.parent.glob(base.stem + ".*")]
    return out


def copy_to(dest: Path, layers: tuple[str, ...] = CORE) -> Path:
    """Write the reduced sources.toml and its files into ``dest``; return the toml's path."""
    text = sources_text(layers)
    for f, rel in files(text):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, dest / rel)
    (dest / "sources.toml").write_text(text, encoding="utf-8")
    return dest / "sources.toml"
