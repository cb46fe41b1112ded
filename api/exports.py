"""Exports of a municipality, a Kreis or all of NRW: GeoJSON, GeoPackage, CSV, Shapefile (zip),
and the offline HTML report map of a municipality.

An export holds exactly the sites that intersect its area (their interiors overlap; touching
along the boundary does not count), so a site across a municipal boundary is in the export of
each municipality it lies in, with ``crosses_boundary = true``. Each site keeps its ``ags``:
the municipality holding most of its area. Ranked sites come first, best first (``rank``: within
the export; ``rank_nrw``: among all sites of the state), then the sites a hard filter of the
profile excluded (``excluded_by`` says which, no score).

This is the runner: it ranks once, lets ``geo.areas`` (the Service's ``areas``) choose each
area's sites in export order, builds the flat site table once and has ``api.export_formats``
write each area in each format; over many areas (the command line) in forked workers
(``geo.pool``), with ``index.json`` listing what was written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from api.export_formats import (
    area_frame,
    attribution,
    check_options,
    render,
    report_items,
    site_table,
)
from api.formats import FORMATS, MEDIA_TYPES
from api.geojson import geometry_json, to_wgs84
from api.service import Service
from geo.areas import Area, AreaKind, AreaSites
from geo.criteria import get_profile
from geo.errors import InvalidParameter, NotFound
from geo.filters import Filters
from geo.pool import ForkPool, fork_available, usable_cores
from geo.query import RankingQuery
from maps.report_context import ReportContext

Progress = Callable[[str], None]


def generated_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def export_area(
    svc: Service,
    kind: AreaKind,
    key: str | None,
    fmt: str,
    profile: str | None,
    crs: str | None = None,
    lang: str | None = None,
    filters: Filters | None = None,
) -> tuple[bytes, str, str, str]:
    """One export (HTTP): the bytes, the file name, the media type and the CRS URI. Sites that
    ``filters`` exclude stay in the file after the ranked ones, naming the filter."""
    out_crs, out_lang = check_options(fmt, crs, lang)
    area = svc.areas.area(kind, key)
    name = get_profile(profile).name
    r = svc.run(RankingQuery.of(name, None, filters)) if filters else svc.rank(name, None)
    chosen = svc.areas.sites(area, r.rank, svc.scorer.site_id)
    frame = area_frame(svc, site_table(svc, r, chosen.rows), chosen)
    body = render(svc, area, fmt, r, frame, out_crs, out_lang, generated_now(), filters)
    return body, f"{area.slug}.{fmt}", MEDIA_TYPES[fmt], out_crs.uri


MAX_SELECTION = 500
UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


def export_selection(
    svc: Service,
    ids: Sequence[str],
    fmt: str,
    q: RankingQuery,
    name: str,
    crs: str | None = None,
    lang: str | None = None,
) -> tuple[bytes, str, str, str]:
    """An export of chosen sites (a shortlist), scored with ``q``'s profile and weights.

    The sites come in export order (ranked ones by rank, then the excluded ones); the boundary
    layer holds the municipalities they lie in. Unknown ids are NotFound, naming up to five.
    """
    out_crs, out_lang = check_options(fmt, crs, lang)
    wanted = list(dict.fromkeys(ids))
    if not wanted or len(wanted) > MAX_SELECTION:
        raise InvalidParameter(f"ids: give 1 to {MAX_SELECTION} site ids, separated by commas")
    unknown = [k for k, i in enumerate(wanted) if i not in svc.row_of]
    if unknown:  # said by position, never by repeating the input
        where = ", ".join(str(k + 1) for k in unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise NotFound(f"{len(unknown)} of the ids name no site in snapshot {svc.snap.id} (position {where})")
    r = svc.run(q)
    rows = np.array([svc.row_of[i] for i in wanted], dtype=np.int64)
    nrw_rank = r.rank[rows]
    order = np.lexsort((svc.scorer.site_id[rows], np.where(nrw_rank > 0, nrw_rank, np.iinfo(np.int64).max)))
    rows = rows[order]
    ranked = r.rank[rows] > 0
    within = np.where(ranked, np.cumsum(ranked), 0).astype(np.int64)
    muni = svc.snap.layers["municipalities"]
    units = np.flatnonzero(muni["ags"].isin(set(svc.sites["ags"].iloc[rows].dropna())).to_numpy())
    area = Area("selection", "selection", name, units.astype(np.int64))
    chosen = AreaSites(rows, np.zeros(len(rows), dtype=bool), within)
    frame = area_frame(svc, site_table(svc, r, chosen.rows), chosen)
    body = render(svc, area, fmt, r, frame, out_crs, out_lang, generated_now())
    ascii_name = name.translate(UMLAUTS)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_name).strip("-")[:60] or "selection"
    return body, f"{stem}.{fmt}", MEDIA_TYPES[fmt], out_crs.uri


# -- many areas at once (the command line) ----------------------------------------------------
def areas_of(
    svc: Service,
    municipalities: Sequence[str] | None = None,
    kreise: Sequence[str] | None = None,
    nrw: bool = False,
    all_municipalities: bool = False,
) -> list[Area]:
    """The areas a command-line run names (unknown keys: NotFound naming them)."""
    index = svc.areas
    out: list[Area] = []
    wanted = list(index.ags) if all_municipalities else list(dict.fromkeys(municipalities or []))
    unknown = [a for a in wanted if a not in set(index.ags)]
    unknown += [k for k in dict.fromkeys(kreise or []) if k not in set(index.kreis_ags)]
    if unknown:
        shown = ", ".join(repr(a[:12]) for a in unknown[:5])
        raise NotFound(f"no municipality or Kreis with key {shown} in snapshot {svc.snap.id}")
    out += [index.area("municipality", a) for a in wanted]
    out += [index.area("kreis", k) for k in dict.fromkeys(kreise or [])]
    if nrw:
        out.append(index.area("nrw", None))
    return out


def export_many(
    svc: Service,
    areas: Sequence[Area],
    out_dir: Path,
    profile: str | None,
    formats: Sequence[str] = ("geojson", "html"),
    crs: str | None = None,
    lang: str | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Write ``<key>.<format>`` for every area and format, and ``index.json``; return the index.

    ``html`` is the report map (municipalities only). With ``workers`` > 1 the files are
    written by forked worker processes (the site table is built once, before forking).
    """
    say = progress or (lambda _m: None)
    unknown = [f for f in formats if f not in (*FORMATS, "html")]
    if unknown:
        raise InvalidParameter(f"unknown format; formats: {', '.join((*FORMATS, 'html'))}")
    options = {f: check_options(f, crs if f != "geojson" else None, lang) for f in formats if f != "html"}
    p = get_profile(profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = generated_now()
    say(f"ranking {len(svc.sites):,} sites under profile {p.name}")
    r = svc.rank(p.name, None)
    chosen = [svc.areas.sites(a, r.rank, svc.scorer.site_id) for a in areas]
    all_rows = np.unique(np.concatenate([c.rows for c in chosen])) if areas else np.zeros(0, dtype=np.int64)
    say(f"{len(all_rows):,} sites in {len(areas)} areas: flat columns")
    table = site_table(svc, r, all_rows)
    ctx = ReportContext.of(svc.snap.layers) if "html" in formats else None
    attrib = attribution(svc)

    def one(area: Area, sites: AreaSites) -> dict[str, Any]:
        frame = area_frame(svc, table, sites, all_rows)
        files = {}
        for fmt in formats:
            name = f"{area.slug}.{fmt}"
            if fmt == "html":
                if area.kind != "municipality" or ctx is None:
                    continue
                items = report_items(svc, r, frame, sites.rows)
                geoms = geometry_json(to_wgs84(frame.geometry.values))
                (out_dir / name).write_text(
                    ctx.report(area, items, geoms, attrib, svc.synthetic, p.label_en, generated),
                    encoding="utf-8",
                )
            else:
                c, lg = options[fmt]
                (out_dir / name).write_bytes(render(svc, area, fmt, r, frame, c, lg, generated))
            files[fmt] = name
        ranked = frame["rank"].notna()
        return {
            "kind": area.kind,
            "key": area.key,
            "name": area.name,
            **({"ags": area.key, "kreis": area.kreis} if area.kind == "municipality" else {}),
            "sites": int(len(frame)),
            "not_ranked": int((~ranked).sum()),
            "crossing_boundary": int(frame["crosses_boundary"].sum()),
            "best_score": (float(frame["score"][ranked].iloc[0]) if ranked.any() else None),
            "files": files,
        }

    entries = _run(one, list(zip(areas, chosen, strict=True)), workers, say)
    doc = {
        "snapshot": svc.snap.id,
        "synthetic": svc.synthetic,
        "profile": p.name,
        "generated": generated,
        "formats": list(formats),
        "crs": {f: c.curie for f, (c, _) in options.items()},
        "lang": lang or "de",
        "attribution": attrib,
        "areas": entries,
        "municipalities": [e for e in entries if e["kind"] == "municipality"],
    }
    (out_dir / "index.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    say(f"wrote {len(entries)} areas to {out_dir}")
    return doc


Job = Callable[[Area, AreaSites], dict[str, Any]]
Task = tuple[Area, AreaSites]


def _one(shared: tuple[Job, Sequence[Task]], k: int) -> dict[str, Any]:
    """Task ``k`` in a worker: the job and the tasks came with the fork, only ``k`` is sent."""
    job, tasks = shared
    return job(*tasks[k])


def _run(job: Job, tasks: Sequence[Task], workers: int | None, say: Progress) -> list[dict[str, Any]]:
    """Run ``job`` over the areas, in forked processes when ``workers`` > 1."""
    n = workers if workers is not None else usable_cores(4)
    out: list[dict[str, Any]] = []
    if n <= 1 or len(tasks) < 8 or not fork_available():
        for k, task in enumerate(tasks, 1):
            out.append(job(*task))
            if k % 50 == 0:
                say(f"{k}/{len(tasks)} areas written")
        return out
    with ForkPool(_one, (job, tasks), n) as pool:
        for k, entry in enumerate(pool.imap(range(len(tasks)), ordered=True, chunksize=4), 1):
            out.append(entry)
            if k % 50 == 0:
                say(f"{k}/{len(tasks)} areas written")
    return out


def export_municipalities(
    svc: Service,
    ags_list: list[str] | None,
    out_dir: Path,
    profile: str | None,
    progress: Progress | None = None,
    formats: Sequence[str] = ("geojson", "html"),
) -> dict[str, Any]:
    """Write ``<AGS>.geojson``, ``<AGS>.html`` and ``index.json`` for the given municipalities
    (all when ``ags_list`` is None) into ``out_dir``; return the index.
    """
    areas = areas_of(svc, ags_list, all_municipalities=ags_list is None)
    return export_many(svc, areas, out_dir, profile, formats, progress=progress)


def valid_key(kind: AreaKind, key: str) -> None:
    """Refuse malformed keys before any work (8 digits for municipalities, 5 for Kreise)."""
    digits = 8 if kind == "municipality" else 5
    if not re.fullmatch(rf"\d{{{digits}}}", key):
        word = "AGS" if kind == "municipality" else "Kreis key"
        raise NotFound(f"no {kind} with this key ({word}: {digits} digits)")
