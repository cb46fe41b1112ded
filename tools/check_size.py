"""The file-length check of `make lint`: no source file over 500 lines in geo/, layers/, api/, maps/.

Counts the lines of every Python and JavaScript file (``.py``, ``.js``, ``.mjs``) under those
folders, vendored code excluded (any ``vendor`` or ``node_modules`` folder, e.g.
maps/static/vendor, and minified ``*.min.js``). Prints each file over the limit with its line
count and exits 1; prints nothing and exits 0 when every file fits. tests/test_house.py runs it
too, so `make test` catches a long file as well.

    python tools/check_size.py                       # the check, from anywhere in the repository
    python tools/check_size.py --max 400             # another limit
    python tools/check_size.py --exclude api/x.py    # leave a file out (a path from the root)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("geo", "layers", "api", "maps")
SUFFIXES = frozenset({".py", ".js", ".mjs"})
VENDORED_DIRS = frozenset({"vendor", "node_modules"})
MAX_LINES = 500


def source_files(root: Path = ROOT) -> Iterable[Path]:
    """The checked files under ``root``'s FOLDERS, in path order, vendored code left out."""
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root)
            if (
                path.is_file()
                and path.suffix in SUFFIXES
                and not path.name.endswith(".min.js")
                and not VENDORED_DIRS.intersection(rel.parts)
            ):
                yield path


def oversized(
    root: Path = ROOT, max_lines: int = MAX_LINES, exclude: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """Each file (relative path) over ``max_lines`` lines with its line count."""
    skip = {Path(p).as_posix() for p in exclude}
    out = []
    for path in source_files(root):
        rel = path.relative_to(root).as_posix()
        if rel in skip:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > max_lines:
            out.append((rel, lines))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the files over the limit; 1 when there is one, else 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--max", type=int, default=MAX_LINES, help="most lines a file may have")
    parser.add_argument("--exclude", nargs="*", default=[], help="paths (from the root) to leave out")
    args = parser.parse_args(argv)
    found = oversized(ROOT, args.max, args.exclude)
    for rel, lines in found:
        print(f"{rel}: {lines} lines (more than {args.max}); split it along its seams")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
