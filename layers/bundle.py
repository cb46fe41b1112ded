"""Sources bundles for publishing over HTTP: a zip with a ``sources.toml`` and its files.

A bundle is checked before anything of it is written where a build reads it:
- at most ``MAX_ENTRIES`` entries; names relative, without ``..``, backslashes, NUL, drive
  letters or absolute paths (zip-slip), no symbolic links;
- only the extensions that the readers take (``ALLOWED``);
- zip bombs: every entry's compression ratio at most ``MAX_RATIO``, the declared total at most
  ``max_unpacked``, and the bytes actually written are counted too (a lying header does not help);
- a ``sources.toml`` at the top level.

Failures raise BundleError (400) or TooLarge (413) with a fixed message that names the rule and,
for a refused entry, its position in the archive: never the entry's name, which is client input.
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from geo.errors import InvalidParameter, TooLarge

MAX_ENTRIES = 500
MAX_RATIO = 200
MAX_NAME = 240
CHUNK = 1 << 20
ALLOWED = frozenset(
    {
        ".toml",
        ".shp",
        ".shx",
        ".dbf",
        ".prj",
        ".cpg",
        ".qix",
        ".sbn",
        ".sbx",
        ".gpkg",
        ".geojson",
        ".json",
        ".csv",
        ".txt",
        ".xlsx",
        ".gml",
        ".xml",
        ".osm",
        ".pbf",
        ".md",
    }
)
_DRIVE = re.compile(r"^[A-Za-z]:")


class BundleError(InvalidParameter):
    """The upload is not an acceptable sources bundle."""


def _check_name(name: str, k: int) -> PurePosixPath:
    where = f"entry {k + 1} of the bundle"
    if (
        not name
        or len(name) > MAX_NAME
        or "\x00" in name
        or "\\" in name
        or name.startswith("/")
        or _DRIVE.match(name)
    ):
        raise BundleError(f"{where} has an unsafe name (absolute, NUL, backslash or too long)")
    path = PurePosixPath(name)
    if any(part in ("..", "") for part in path.parts) or any(
        p.startswith(".") and p != "." for p in path.parts
    ):
        raise BundleError(f"{where} leaves the bundle or is hidden ('..' or a dot-name)")
    return path


def check(path: Path, max_unpacked: int) -> list[zipfile.ZipInfo]:
    """Check a bundle without extracting it; return its file entries."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise BundleError(
            "the upload is not a zip archive; send a zip with sources.toml and the files it names"
        ) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise BundleError(f"the bundle has more than {MAX_ENTRIES} entries")
        files, total, names = [], 0, set()
        for k, info in enumerate(infos):
            p = _check_name(info.filename, k)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise BundleError(f"entry {k + 1} of the bundle is a symbolic link")
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise BundleError(f"entry {k + 1} of the bundle is encrypted")
            if p.suffix.lower() not in ALLOWED:
                raise BundleError(
                    f"entry {k + 1} of the bundle has a file type that no reader "
                    f"takes; allowed: {', '.join(sorted(ALLOWED))}"
                )
            key = str(p).lower()
            if key in names:
                raise BundleError(f"entry {k + 1} of the bundle repeats an earlier name")
            names.add(key)
            if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > CHUNK:
                raise TooLarge(
                    f"entry {k + 1} of the bundle expands more than {MAX_RATIO}-fold (a zip bomb?)"
                )
            total += info.file_size
            if total > max_unpacked:
                raise TooLarge(f"the bundle unpacks to more than {max_unpacked:,} bytes")
            files.append(info)
        if "sources.toml" not in names:
            raise BundleError("the bundle has no sources.toml at its top level")
        return files


def extract(path: Path, dest: Path, max_unpacked: int) -> Path:
    """Check and extract a bundle into ``dest`` (created); return the path of its sources.toml.

    Bytes are counted while they are written, so an entry whose header understates its size
    stops at the limit.
    """
    files = check(path, max_unpacked)
    dest.mkdir(parents=True, exist_ok=False)
    root = dest.resolve()
    written = 0
    try:
        with zipfile.ZipFile(path) as zf:
            for k, info in enumerate(files):
                target = (dest / info.filename).resolve()
                if root not in target.parents:
                    raise BundleError(f"entry {k + 1} of the bundle leaves the bundle")
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    seen = 0
                    while block := src.read(CHUNK):
                        seen += len(block)
                        written += len(block)
                        if seen > info.file_size or written > max_unpacked:
                            raise TooLarge(f"the bundle unpacks to more than {max_unpacked:,} bytes")
                        out.write(block)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, zipfile.LargeZipFile):
        shutil.rmtree(dest, ignore_errors=True)
        raise BundleError("the bundle is damaged or uses an unsupported compression") from None
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest / "sources.toml"
