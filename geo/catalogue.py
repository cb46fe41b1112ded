"""The built-in criteria, declared (DESIGN §3.3); ``geo/criteria.py`` registers them in this order.

Add a criterion here as one ``Criterion(...)``: its indicators (``Indicator``: name, type, unit,
labels, decimals, Shapefile name), its value function (``geo/values.py``), labels, description,
source layer, UI group, its default ``weights`` per profile and, for a generic criterion over a
layer, its ``measure`` (``geo/measures.py``). Nothing else names it: see CONTRIBUTING.md.
"""

from __future__ import annotations

from geo.catalogue_land import LAND
from geo.measures import GridSumWithin, Nearest, SumWithin
from geo.registry import Criterion, Indicator
from geo.values import Flag, LogSize, Ramp, Share, Table

_KM = {"type": "float", "unit": "km", "decimals": 3}
_SHARE = {"type": "float", "unit": "share", "decimals": 3}


def _distance(
    name: str,
    layer: str,
    label: tuple[str, str],
    ramp: tuple[float, float],
    target: str,
    indicator: Indicator,
) -> Criterion:
    """A transport-access criterion: straight-line distance, ramp from ``full`` to ``zero`` km."""
    (de, en), (full, zero) = label, ramp
    return Criterion(
        name=name,
        layer=layer,
        group="transport",
        label_de=de,
        label_en=en,
        description=f"Straight-line distance (Luftlinie) {target}: 1 at ≤ {full:g} km, linear to 0 at "
        f"≥ {zero:g} km.",
        function=Ramp(full=full, zero=zero),
        indicator_specs=(indicator,),
    )


BUILTIN: tuple[Criterion, ...] = (
    Criterion(
        name="area",
        layer="sites",
        group="site",
        indicator_specs=(
            Indicator(
                name="area_ha",
                unit="ha",
                decimals=2,
                label_de="Fläche (ha)",
                label_en="Area (ha)",
                desc_de="Fläche in EPSG:25832",
                desc_en="area in EPSG:25832",
            ),
        ),
        function=LogSize(),
        label_en="Site size",
        label_de="Flächengröße",
        description="0 below the profile's minimum size, rising logarithmically to 1 at its target size.",
    ),
    Criterion(
        name="planning",
        layer="regional_plan",
        group="planning",
        indicator_specs=(
            Indicator(
                name="planning_category",
                type="str",
                label_de="Planungsrecht",
                label_en="Planning status",
                desc_de="Festlegung im Regionalplan (GIB, GIB-Z, Großvorhaben, ASB-GE), "
                "LEP-Standort oder Brache",
                desc_en="regional-plan designation, LEP site or brownfield",
                shp="plan_cat",
                codes={
                    "LEP": (
                        "landesbedeutsamer Großstandort (LEP NRW Ziel 6.4-1)",
                        "LEP NRW large site (Ziel 6.4-1)",
                    ),
                    "LARGE_PROJECT": (
                        "Bereich für flächenintensive Großvorhaben",
                        "Area for land-intensive large projects",
                    ),
                    "GIB": (
                        "GIB (Bereich für gewerbliche und industrielle Nutzungen)",
                        "GIB (industrial and commercial area)",
                    ),
                    "GIB_Z": ("GIB mit Zweckbindung", "GIB with a special purpose"),
                    "ASB_GE": ("ASB, gewerbliche Nutzung", "ASB, commercial use"),
                    "BROWNFIELD": (
                        "Brachfläche ohne Regionalplan-Festlegung",
                        "Brownfield without regional-plan designation",
                    ),
                    "NONE": ("keine Festlegung", "no designation"),
                },
            ),
        ),
        function=Table(
            values={
                "LEP": 1.0,
                "LARGE_PROJECT": 1.0,
                "GIB": 0.9,
                "GIB_Z": 0.6,
                "ASB_GE": 0.5,
                "BROWNFIELD": 0.4,
                "NONE": 0.0,
            }
        ),
        label_en="Planning status",
        label_de="Planungsrecht",
        description="LEP site and large-project area 1.0, GIB 0.9, GIB-Z 0.6, ASB-GE 0.5, "
        "brownfield without regional-plan designation 0.4; an ad-hoc area with neither 0.",
    ),
    Criterion(
        name="brownfield",
        layer="brownfields",
        group="planning",
        indicator_specs=(
            Indicator(
                name="is_brownfield",
                type="bool",
                label_de="Brachfläche (Wiedernutzung)",
                label_en="Brownfield (reuse)",
                desc_de="der Standort ist oder liegt zur Hälfte auf einer Brache",
                desc_en="the site is, or half lies on, a brownfield",
                shp="is_brownf",
            ),
        ),
        function=Flag(),
        label_en="Brownfield reuse",
        label_de="Brachflächen-Wiedernutzung",
        description="1 when the site is, or at least half lies on, previously developed "
        "land (the guideline's Flächensparsamkeit), else 0.",
    ),
    Criterion(
        name="h2",
        layer="hydrogen",
        group="energy",
        indicator_specs=(
            Indicator(
                name="h2_distance_km",
                **_KM,
                label_de="Entfernung H2-Kernnetz (km)",
                label_en="Distance to H2 network (km)",
                desc_de="Luftlinie vom Rand zum nächsten Kernnetz-Abschnitt in Betrieb bis zum Zieljahr",
                desc_en="straight line from the edge to the nearest segment in service by the horizon",
                shp="h2_km",
            ),
            Indicator(
                name="h2_commissioning_year",
                type="int",
                unit="year",
                label_de="Inbetriebnahme H2 (Jahr)",
                label_en="H2 commissioning year",
                desc_de="Inbetriebnahme des nächsten Abschnitts",
                desc_en="commissioning of the nearest segment",
                shp="h2_year",
            ),
        ),
        function=Ramp(full=1.0, zero=20.0, missing=0.0),
        label_en="Hydrogen core network",
        label_de="Wasserstoff-Kernnetz",
        description="1 within 1 km of a Kernnetz segment in service by the profile's "
        "horizon year, falling linearly to 0 at 20 km.",
    ),
    Criterion(
        name="fibre",
        layer="fibre",
        group="digital",
        indicator_specs=(
            Indicator(
                name="fibre_share",
                **_SHARE,
                label_de="Glasfaser-Anteil (0–1)",
                label_en="Fibre share (0–1)",
                desc_de="flächengewichteter Anteil mit FTTH/B ≥ 1 Gbit/s",
                desc_en="area-weighted share with FTTH/B ≥ 1 Gbit/s",
                shp="fibre",
            ),
        ),
        function=Share(),
        label_en="Fibre (FTTH/B ≥ 1 Gbit/s)",
        label_de="Glasfaser (FTTH/B ≥ 1 Gbit/s)",
        description="Area-weighted share of the site with gigabit fibre.",
    ),
    Criterion(
        name="mobile_5g",
        layer="mobile_5g",
        group="digital",
        indicator_specs=(
            Indicator(
                name="mobile_5g_share",
                **_SHARE,
                label_de="5G-Anteil (0–1)",
                label_en="5G share (0–1)",
                desc_de="flächengewichteter Anteil mit 5G",
                desc_en="area-weighted share with 5G",
                shp="mobile5g",
            ),
        ),
        function=Share(),
        label_en="5G coverage",
        label_de="5G-Versorgung",
        description="Area-weighted share of the site with 5G outdoor coverage.",
    ),
    Criterion(
        name="funding",
        layer="funding",
        group="funding",
        indicator_specs=(
            Indicator(
                name="funding_region",
                type="str",
                label_de="Fördergebiet",
                label_en="Funding region",
                shp="funding",
                codes={
                    "GRW_C": ("GRW-C-Fördergebiet", "GRW C region"),
                    "GRW_D": ("GRW-D-Fördergebiet", "GRW D region"),
                    "JTF": ("JTF-Region (Just Transition Fund)", "JTF region"),
                    "FIVE_SITES": ("5-Standorte-Programm", "5-Standorte programme"),
                    "none": ("kein Fördergebiet", "none"),
                },
            ),
        ),
        function=Table(values={"GRW_C": 1.0, "JTF": 1.0, "FIVE_SITES": 1.0, "GRW_D": 0.5, "none": 0.0}),
        label_en="Funding region",
        label_de="Fördergebiet",
        description="GRW C, JTF region or 5-Standorte programme 1.0, GRW D 0.5, none 0.",
    ),
    _distance(
        "motorway",
        "motorway_junctions",
        ("Autobahnanschluss", "Motorway junction"),
        (2.0, 25.0),
        "from the site's edge to the nearest motorway junction",
        Indicator(
            name="motorway_km",
            **_KM,
            label_de="Entfernung Autobahnanschluss (km)",
            label_en="Motorway junction (km)",
            desc_de="Luftlinie",
            desc_en="straight line",
            shp="motorw_km",
        ),
    ),
    Criterion(
        name="rail",
        layer="rail_freight",
        group="transport",
        indicator_specs=(
            Indicator(
                name="rail_km",
                **_KM,
                label_de="Entfernung Schiene (km)",
                label_en="Rail (km)",
                desc_de="Luftlinie zum Güterterminal (sonst Fernbahnhof)",
                desc_en="straight line to a freight terminal (else a long-distance station)",
            ),
            Indicator(
                name="rail_target",
                type="str",
                label_de="Schienenziel",
                label_en="Rail target",
                shp="rail_targt",
                codes={
                    "freight_terminal": ("Güterverkehrsterminal", "rail freight terminal"),
                    "long_distance_station": ("Fernverkehrsbahnhof", "long-distance station"),
                },
            ),
        ),
        function=Ramp(full=3.0, zero=30.0),
        label_en="Rail freight",
        label_de="Schienengüterverkehr",
        description="Straight-line distance (Luftlinie) to the nearest rail freight "
        "terminal, or, without terminal data, to the nearest long-distance "
        "station (rail_target says which): 1 at ≤ 3 km, 0 at ≥ 30 km.",
    ),
    _distance(
        "port",
        "ports",
        ("Binnenhafen", "Inland port"),
        (5.0, 50.0),
        "to the nearest inland port area",
        Indicator(
            name="port_km",
            **_KM,
            label_de="Entfernung Binnenhafen (km)",
            label_en="Inland port (km)",
            desc_de="Luftlinie",
            desc_en="straight line",
        ),
    ),
    _distance(
        "airport",
        "airports",
        ("Verkehrsflughafen", "Commercial airport"),
        (20.0, 100.0),
        "to the nearest airport with scheduled passenger services",
        Indicator(
            name="airport_km",
            **_KM,
            label_de="Entfernung Verkehrsflughafen (km)",
            label_en="Commercial airport (km)",
            desc_de="Luftlinie",
            desc_en="straight line",
        ),
    ),
    # -- skilled labour, energy, industrial neighbours and land constraints (issue 21) --
    Criterion(
        name="workforce",
        layer="population",
        group="labour",
        indicator_specs=(
            Indicator(
                name="workforce_30km",
                unit="persons",
                decimals=0,
                label_de="Einwohner im Umkreis von 30 km",
                label_en="Residents within 30 km",
                desc_de="Einwohner in den Rasterzellen (Zensus), deren Mittelpunkt höchstens 30 km "
                "Luftlinie vom Flächenmittelpunkt entfernt liegt; ohne Pendler aus NL und BE",
                desc_en="residents of the grid cells (Zensus) whose centre lies within 30 km (straight "
                "line) of the site's centroid; commuters from NL and BE are not in the grid",
                shp="work_30km",
            ),
        ),
        function=Ramp(full=3_000_000.0, zero=200_000.0),
        measure=GridSumWithin(layer="population", radius_km=30.0),
        label_en="Skilled labour (residents within 30 km)",
        label_de="Fachkräfte (Einwohner im Umkreis von 30 km)",
        description="Residents within 30 km of the site's centroid (Zensus grid): 0 at ≤ 200,000, "
        "rising linearly to 1 at ≥ 3 million (the labour market of the Rhine-Ruhr core).",
        weights={"balanced": 1.0, "hydrogen": 1.0, "digital": 1.0, "large_scale": 2.0, "logistics": 2.0},
    ),
    Criterion(
        name="grid",
        layer="substations",
        group="energy",
        indicator_specs=(
            Indicator(
                name="substation_distance_km",
                **_KM,
                label_de="Entfernung Umspannwerk ≥ 110 kV (km)",
                label_en="Substation ≥ 110 kV (km)",
                desc_de="Luftlinie vom Rand zum nächsten Umspannwerk mit mindestens 110 kV",
                desc_en="straight line from the edge to the nearest substation of at least 110 kV",
                shp="subst_km",
            ),
            Indicator(
                name="substation_voltage_kv",
                type="int",
                unit="kV",
                label_de="Spannung des Umspannwerks (kV)",
                label_en="Substation voltage (kV)",
                desc_de="höchste Spannung des nächsten Umspannwerks",
                desc_en="highest voltage of the nearest substation",
                shp="subst_kv",
            ),
        ),
        function=Ramp(full=3.0, zero=30.0),
        measure=Nearest(layer="substations", attribute="voltage_kv"),
        label_en="Grid connection (≥ 110 kV)",
        label_de="Netzanschluss (≥ 110 kV)",
        description="Straight-line distance (Luftlinie) from the site's edge to the nearest "
        "transformer substation of at least 110 kV: 1 at ≤ 3 km, linear to 0 at ≥ 30 km.",
        weights={"balanced": 1.0, "hydrogen": 2.0, "digital": 2.0, "large_scale": 1.5, "logistics": 0.5},
    ),
    Criterion(
        name="renewables",
        layer="renewable_units",
        group="energy",
        indicator_specs=(
            Indicator(
                name="renewables_mw_15km",
                unit="MW",
                decimals=1,
                label_de="Wind und Solar im Umkreis von 15 km (MW)",
                label_en="Wind and solar within 15 km (MW)",
                desc_de="installierte Bruttoleistung der Wind- und Solaranlagen in Betrieb im Umkreis "
                "von 15 km um den Flächenmittelpunkt",
                desc_en="installed gross capacity of wind and solar units in operation within 15 km "
                "of the site's centroid",
                shp="renew_mw",
            ),
        ),
        function=Ramp(full=400.0, zero=0.0),
        measure=SumWithin(layer="renewable_units", attribute="capacity_mw", radius_km=15.0),
        label_en="Renewable power nearby",
        label_de="Erneuerbare Energie in der Nähe",
        description="Installed wind and solar capacity in operation within 15 km of the site's "
        "centroid (Marktstammdatenregister): 0 without any, rising linearly to 1 at ≥ 400 MW.",
        weights={"balanced": 0.5, "hydrogen": 2.0, "digital": 1.5, "large_scale": 1.0, "logistics": 0.25},
    ),
    Criterion(
        name="waste_heat",
        layer="industrial_heat",
        group="energy",
        indicator_specs=(
            Indicator(
                name="waste_heat_gwh_10km",
                unit="GWh/a",
                decimals=1,
                label_de="Industrielle Abwärme im Umkreis von 10 km (GWh/a)",
                label_en="Industrial excess heat within 10 km (GWh/a)",
                desc_de="Abwärmepotenzial der Industrieanlagen im Umkreis von 10 km (Hotmaps)",
                desc_en="excess heat of industrial installations within 10 km (Hotmaps)",
                shp="heat_gwh",
            ),
        ),
        function=Ramp(full=1000.0, zero=0.0, log=True),
        measure=SumWithin(layer="industrial_heat", attribute="excess_heat_gwh", radius_km=10.0),
        label_en="Industrial excess heat",
        label_de="Industrielle Abwärme",
        description="Excess heat of industrial installations within 10 km of the site's centroid "
        "(Hotmaps Industrial Database): 0 without any, rising with ln(1 + GWh/a) to 1 at "
        "≥ 1,000 GWh/a (100 GWh/a gives 0.67).",
        weights={"balanced": 0.5, "hydrogen": 1.5, "digital": 0.25, "large_scale": 0.5},
    ),
    *LAND,
)
