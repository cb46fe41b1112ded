"""Stream a MaStR-sized export file: time and peak memory of the `mastr` reader (issue 21).

Writes a ~2 GB ``EinheitenSolar_1.xml`` in /tmp (UTF-16 with BOM, the export's layout: ~45
child elements per unit, most small PV units without coordinates, units all over Germany),
reads it with ``layers.renewables.read_mastr`` in a fresh interpreter and prints the wall time,
throughput and peak RSS (``ru_maxrss`` that the child reports of itself; the interpreter with its imports
alone is measured the same way for comparison). The file is deleted afterwards. Target: peak
RSS ≤ 300 MB. Nothing is asserted.

    .venv/bin/python bench/mastr.py            # ~2 GB
    .venv/bin/python bench/mastr.py --gb 0.2   # a quick run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIELDS = (
    "\t\t<DatumLetzteAktualisierung>2024-0{m}-1{d}T10:20:30.1234567</DatumLetzteAktualisierung>\r\n"
    "\t\t<LokationMaStRNummer>SEL9{loc:011d}</LokationMaStRNummer>\r\n"
    "\t\t<NetzbetreiberpruefungStatus>1</NetzbetreiberpruefungStatus>\r\n"
    "\t\t<NetzbetreiberpruefungDatum>2023-05-06</NetzbetreiberpruefungDatum>\r\n"
    "\t\t<AnlagenbetreiberMastrNummer>ABR9{op:011d}</AnlagenbetreiberMastrNummer>\r\n"
    "\t\t<Land>84</Land>\r\n\t\t<Bundesland>{land}</Bundesland>\r\n"
    "\t\t<Landkreis>Landkreis Musterkreis</Landkreis>\r\n\t\t<Gemeinde>Musterstadt</Gemeinde>\r\n"
    "\t\t<Gemeindeschluessel>05774032</Gemeindeschluessel>\r\n\t\t<Postleitzahl>33098</Postleitzahl>\r\n"
    "\t\t<Ort>Musterstadt</Ort>\r\n{coords}"
    "\t\t<Registrierungsdatum>2019-02-01</Registrierungsdatum>\r\n"
    "\t\t<Inbetriebnahmedatum>2016-05-17</Inbetriebnahmedatum>\r\n"
    "\t\t<EinheitSystemstatus>472</EinheitSystemstatus>\r\n"
    "\t\t<EinheitBetriebsstatus>{status}</EinheitBetriebsstatus>\r\n"
    "\t\t<NichtVorhandenInMigriertenEinheiten>0</NichtVorhandenInMigriertenEinheiten>\r\n"
    "\t\t<NameStromerzeugungseinheit>Photovoltaikanlage {n}</NameStromerzeugungseinheit>\r\n"
    "\t\t<Weic_nv>0</Weic_nv>\r\n\t\t<Kraftwerksnummer_nv>0</Kraftwerksnummer_nv>\r\n"
    "\t\t<Energietraeger>2495</Energietraeger>\r\n"
    "\t\t<Bruttoleistung>{kw}</Bruttoleistung>\r\n\t\t<Nettonennleistung>{kw}</Nettonennleistung>\r\n"
    "\t\t<AnschlussAnHoechstOderHochSpannung>0</AnschlussAnHoechstOderHochSpannung>\r\n"
    "\t\t<Schwarzstartfaehigkeit>0</Schwarzstartfaehigkeit>\r\n"
    "\t\t<Inselbetriebsfaehigkeit>0</Inselbetriebsfaehigkeit>\r\n"
    "\t\t<Einspeisungsart>689</Einspeisungsart>\r\n"
    "\t\t<ZugeordneteWirkleistungWechselrichter>{kw}</ZugeordneteWirkleistungWechselrichter>\r\n"
    "\t\t<GemeinsamerWechselrichterMitSpeicher>2</GemeinsamerWechselrichterMitSpeicher>\r\n"
    "\t\t<AnzahlModule>{modules}</AnzahlModule>\r\n\t\t<Lage>852</Lage>\r\n"
    "\t\t<Leistungsbegrenzung>802</Leistungsbegrenzung>\r\n"
    "\t\t<EinheitlicheAusrichtungUndNeigungswinkel>1</EinheitlicheAusrichtungUndNeigungswinkel>\r\n"
    "\t\t<Hauptausrichtung>699</Hauptausrichtung>\r\n"
    "\t\t<HauptausrichtungNeigungswinkel>809</HauptausrichtungNeigungswinkel>\r\n"
    "\t\t<Nutzungsbereich>713</Nutzungsbereich>\r\n"
    "\t\t<EegMaStRNummer>EEG9{eeg:011d}</EegMaStRNummer>\r\n"
)
COORDS = "\t\t<Laengengrad>{lon:.7f}</Laengengrad>\r\n\t\t<Breitengrad>{lat:.7f}</Breitengrad>\r\n"
BATCH = 20_000

READ = """
import json, resource, sys, time
from pathlib import Path
import layers.renewables as r
t = time.perf_counter()
gdf = r.read_mastr(Path(sys.argv[1]), {})
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": time.perf_counter() - t, "summary": gdf.attrs["mastr"], "peak_kib": peak}))
"""
IMPORTS = """
import json, resource
import layers.renewables
print(json.dumps({"peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def write(path: Path, gb: float, seed: int = 1) -> int:
    """A MaStR-like UTF-16 solar file of about ``gb`` GB; returns the number of units."""
    rng = np.random.default_rng(seed)
    n = 0
    with open(path, "wb") as f:
        f.write('<?xml version="1.0" encoding="utf-16"?>\r\n<EinheitenSolar>\r\n'.encode("utf-16"))
        while f.tell() < gb * 1e9:
            lon = rng.uniform(6.0, 15.0, BATCH)
            lat = rng.uniform(47.5, 54.8, BATCH)
            with_coords = rng.random(BATCH) < 0.25  # small PV (≤ 30 kW) has no public location
            kw = np.where(with_coords, rng.lognormal(np.log(80), 1.0, BATCH), rng.uniform(2, 30, BATCH))
            status = np.where(rng.random(BATCH) < 0.95, 35, 31)
            land = rng.choice([1403, 1402, 1409, 1408, 1405], BATCH)
            parts = []
            for i in range(BATCH):
                coords = COORDS.format(lon=lon[i], lat=lat[i]) if with_coords[i] else ""
                body = FIELDS.format(
                    m=1 + i % 9,
                    d=i % 10,
                    loc=n,
                    op=n * 7,
                    land=land[i],
                    coords=coords,
                    status=status[i],
                    n=n,
                    kw=f"{kw[i]:.3f}",
                    modules=int(kw[i] * 2.5) + 1,
                    eeg=n * 3,
                )
                parts.append(
                    f"\t<EinheitSolar>\r\n\t\t<EinheitMastrNummer>SEE9{n:011d}</EinheitMastrNummer>\r\n"
                )
                parts.append(body)
                parts.append("\t</EinheitSolar>\r\n")
                n += 1
            f.write("".join(parts).encode("utf-16-le"))
        f.write("</EinheitenSolar>\r\n".encode("utf-16-le"))
    return n


def child(code: str, *args: str) -> tuple[float, float, dict]:
    """Run ``code`` in a fresh interpreter; wall seconds, its own peak RSS (MB, ``ru_maxrss`` of
    the child itself, which prints it) and the JSON it prints last."""
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode:
        raise SystemExit(p.stderr[-2000:])
    res = json.loads(p.stdout.strip().splitlines()[-1])
    return wall, res["peak_kib"] / 1024, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gb", type=float, default=2.0, help="size of the generated file (GB)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        path = Path(tmp) / "EinheitenSolar_1.xml"
        t = time.perf_counter()
        units = write(path, args.gb)
        size = path.stat().st_size
        print(
            f"generated {path.name}: {size / 1e9:.2f} GB, {units:,} units in {time.perf_counter() - t:.1f} s"
        )
        _, base_mb, _ = child(IMPORTS)
        wall, peak_mb, res = child(READ, str(path))
        s = res["summary"]
        print(
            f"read_mastr: {res['seconds']:.1f} s ({size / 1e6 / res['seconds']:.0f} MB/s, "
            f"{units / res['seconds']:,.0f} units/s); child wall {wall:.1f} s"
        )
        print(f"peak RSS: {peak_mb:.0f} MB (imports alone: {base_mb:.0f} MB); target ≤ 300 MB")
        print(
            f"kept {s['kept']:,} units ({s['kept_mw']:.0f} MW) in NRW + 15 km; without coordinates "
            f"{s['without_coordinates']:,} ({s['without_coordinates_mw']:.0f} MW); outside the extent "
            f"{s['outside_extent']:,}; not in operation {s['not_in_operation']:,}"
        )


if __name__ == "__main__":
    main()
