// The map declared as data: functions that return the style (sources and layers) and the layer
// groups with their legends. Pure: never receives `map`; only map-sync.js calls addSource/addLayer.
// Interaction state lives in the style: paint reads feature-state (band, sel, hover, cmp) keyed
// by site_id and global-state (h2Year), so re-ranking never rebuilds a layer. The 50,000 site
// points are no tile layer: map-points.js draws them from the site table with the colours of
// sitePoints(); the few selected, hovered or compared ones are drawn again on top from a small
// GeoJSON source (site-marks).
// The score colours are not declared here: style() and groups() take the `bands` of bands.js
// (served by api/ui/config from maps/bands.py, shared with the report maps and QGIS styles).

import { reserveLayers } from './reserves-data.js';

/** A site whose band is not known yet (before the first ranking): no score colour. */
export const UNSCORED_COLOR = '#d0d0d0';

/** H2 commissioning years, in pairs, by colour (plasma, dark early → orange late). */
export const H2_YEAR_BREAKS = [2027, 2029, 2031];
export const H2_YEAR_COLORS = ['#0d0887', '#7e03a8', '#cc4778', '#f89540'];
export const H2_FUTURE_COLOR = '#8d8d8d';

/** Planning categories (regional-plan outlines), Okabe–Ito colours. */
export const PLAN_COLORS = { GIB: '#0072b2', GIB_Z: '#56b4e9', LARGE_PROJECT: '#cc79a7', ASB_GE: '#009e73' };
export const BROWNFIELD_COLOR = '#8c510a';
export const LEP_COLOR = '#d55e00';

/**
 * Transport points (tile layers motorway_junctions, rail_stations, rail_freight, ports, airports):
 * circles told apart by fill, ring and size, not by hue alone (Okabe–Ito colours), none of them
 * a viridis site colour. `fill`/`stroke`/`r` are at zoom 10; the legend swatches read the same.
 */
export const TRANSPORT = {
  junction: { fill: '#0072b2', stroke: '#ffffff', width: 1.2, r: 3.5 },
  station_fv: { fill: '#000000', stroke: '#ffffff', width: 1.5, r: 5.5 },
  station_rv: { fill: '#ffffff', stroke: '#000000', width: 1.5, r: 3 },
  freight: { fill: '#e69f00', stroke: '#000000', width: 1.2, r: 4.5 },
  port: { fill: '#56b4e9', stroke: '#00365c', width: 2, r: 5.5 },
  airport: { fill: '#cc79a7', stroke: '#000000', width: 2, r: 7.5 },
  airfield: { fill: '#b3b3b3', stroke: '#666666', width: 1, r: 3.5 },
};
/** Regional stations (several hundred) are drawn from this zoom only: NRW stays readable. */
export const STATION_RV_MINZOOM = 8;
/** Zoom from which each kind of transport point is labelled. */
export const TRANSPORT_LABEL_ZOOM = { airport: 7, airfield: 11, station_fv: 9, station_rv: 12, port: 10, freight: 11, junction: 11 };

export const FONT = ['Noto Sans Regular'];
export const FONT_BOLD = ['Noto Sans Bold'];

/** Keys read by global-state expressions, with their defaults. */
export const GLOBAL_STATE = { h2Year: 2032 };

/** Layer ids bottom to top; map-sync.js inserts optional layers (coverage images) in this order. */
export const LAYER_ORDER = [
  'background', 'basemap', 'neighbour-fill', 'neighbour-line',
  'coverage-*', // one per coverage overlay (image or municipal / Kreis shares), in API order
  // the Flächenbilanz choropleth (reserves.js; hidden until its panel opens), under the sites
  'reserves-muni-fill', 'reserves-kreis-fill', 'reserves-muni-line', 'reserves-kreis-line',
  'muni-line', 'kreis-line',
  'lep-fill', 'lep-line',
  'h2-future', 'h2-line',
  'site-fill', 'plan-outline', 'brownfield-outline', 'site-line', 'site-points', 'site-marks',
  // transport points (off by default), smallest below
  'junction-points', 'airfield-points', 'station-rv-points', 'freight-points', 'port-points',
  'station-fv-points', 'airport-points',
  'neighbour-label',
  'junction-label', 'station-rv-label', 'freight-label', 'port-label', 'airfield-label', 'station-fv-label',
  'airport-label',
  'kreis-label', 'muni-label', 'lep-label',
];

/** The transport layer ids: one circle layer and one label layer per kind. */
export const TRANSPORT_LAYERS = LAYER_ORDER.filter((id) => /^(junction|airfield|station|freight|port|airport)-/.test(id));

/** Site layers: the ones carrying feature-state keyed by site_id, with their source-layer. */
export const SITE_SOURCE_LAYERS = ['site_points', 'sites'];
export const SITE_LAYERS = ['site-fill', 'site-line'];
/** The GeoJSON source of the highlighted site points: {role: sel | hover | cmp, band}. */
export const MARKS_SOURCE = 'site-marks';
export const POINTS_MAXZOOM = 10;
/** The feature-state key per tile layer (layers/tiles.py PROMOTE_ID): points are numbered; the
 * boundaries are keyed by AGS for the Flächenbilanz choropleth (reserves.js). */
export const PROMOTE_ID = { sites: 'site_id', site_points: 'fid', municipalities: 'ags', kreise: 'kreis_ags' };

const fs = (k) => ['feature-state', k];
const isSel = ['boolean', fs('sel'), false];
const isHover = ['boolean', fs('hover'), false];
const isCmp = ['boolean', fs('cmp'), false];
const bandOf = ['coalesce', fs('band'), -2];

/**
 * circle/fill colour from the score band (feature-state, or `of`): the colour of class k of
 * `bands`, `excluded` (default: the no-score grey) for band -1, UNSCORED_COLOR otherwise.
 */
export function bandColor(bands, of = bandOf, excluded = bands.noScore) {
  const m = ['match', of, -1, excluded];
  bands.colors.forEach((c, i) => m.push(i, c));
  m.push(UNSCORED_COLOR);
  return m;
}

/** '#rrggbb' with an alpha, as rgba(). */
export function withAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
/** Excluded points are drawn faded (the colour's alpha, not a second state-dependent value). */
const excludedPoint = (bands) => withAlpha(bands.noScore, 0.45);

function h2Color() {
  const s = ['step', ['to-number', ['get', 'commissioning_year'], 2025], H2_YEAR_COLORS[0]];
  H2_YEAR_BREAKS.forEach((y, i) => s.push(y, H2_YEAR_COLORS[i + 1]));
  return s;
}

const schematicDash = ['match', ['get', 'geometry_quality'], 'schematic', ['literal', [2, 1.5]], ['literal', [1, 0]]];
const inService = ['<=', ['to-number', ['get', 'commissioning_year'], 9999], ['global-state', 'h2Year']];

/** The image source of a coverage overlay (a PNG with its four WGS84 corners). */
export function coverageSource(c) {
  return { type: 'image', url: c.url, coordinates: c.coordinates };
}

/** The id of the first layer in `present` that comes after `id` in LAYER_ORDER (for addLayer). */
export function beforeOf(id, present) {
  const slot = (x) => LAYER_ORDER.indexOf(x.startsWith('coverage-') ? 'coverage-*' : x);
  const mine = slot(id);
  return present.find((x) => slot(x) > mine);
}

/** A coverage overlay: a raster for an image, or municipal / Kreis shares as a step fill. */
export function coverageLayer(c) {
  const id = `coverage-${c.id}`;
  if (c.kind === 'image') {
    return { id, type: 'raster', source: id, layout: { visibility: 'none' },
      paint: { 'raster-opacity': c.opacity ?? 0.7, 'raster-resampling': 'nearest' } };
  }
  const step = ['step', ['to-number', ['get', c.property], 0], c.colors[0] || '#440154'];
  for (let i = 1; i < c.colors.length && i < c.breaks.length; i++) step.push(c.breaks[i], c.colors[i]);
  return { id, type: 'fill', source: 'nrw', 'source-layer': c.sourceLayer, layout: { visibility: 'none' },
    paint: { 'fill-color': ['case', ['has', c.property], step, 'rgba(0,0,0,0)'], 'fill-opacity': c.opacity ?? 0.7 } };
}

const isFV = ['any', ['==', ['get', 'long_distance'], true], ['==', ['get', 'traffic'], 'FV']];
const isCommercial = ['==', ['get', 'commercial'], true];

function circle(id, sourceLayer, kind, filter) {
  const c = TRANSPORT[kind];
  // a little smaller at low zoom, so that the sites stay readable under them
  const radius = ['interpolate', ['linear'], ['zoom'], 5, Math.max(1.5, c.r * 0.5), 10, c.r, 14, c.r * 1.4];
  const width = ['interpolate', ['linear'], ['zoom'], 5, Math.max(0.6, c.width * 0.6), 10, c.width];
  return { id, type: 'circle', source: 'nrw', 'source-layer': sourceLayer, layout: { visibility: 'none' },
    ...(filter ? { filter } : {}),
    paint: { 'circle-color': c.fill, 'circle-radius': radius, 'circle-stroke-color': c.stroke,
      'circle-stroke-width': width, 'circle-pitch-alignment': 'map' } };
}

function label(id, sourceLayer, minzoom, text, { filter = null, size = 11, bold = false, color = '#222222' } = {}) {
  return { id, type: 'symbol', source: 'nrw', 'source-layer': sourceLayer, minzoom,
    ...(filter ? { filter } : {}),
    layout: { visibility: 'none', 'text-field': text, 'text-font': bold ? FONT_BOLD : FONT, 'text-size': size,
      'text-max-width': 9, 'text-variable-anchor': ['left', 'right', 'top', 'bottom'], 'text-radial-offset': 0.9,
      'text-justify': 'auto', 'text-padding': 3 },
    paint: { 'text-color': color, 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 } };
}

const nameOf = ['coalesce', ['get', 'name'], ''];
const present = (k) => ['all', ['has', k], ['!=', ['to-string', ['get', k]], '']];

/**
 * The transport layers (all off, part of the style; the toggles switch visibility), in
 * LAYER_ORDER. Airfields (commercial = false) small and grey under the commercial airports;
 * long-distance stations (traffic FV) filled, regional ones a ring.
 */
export function transportLayers() {
  const z = TRANSPORT_LABEL_ZOOM;
  return [
    circle('junction-points', 'motorway_junctions', 'junction'),
    circle('airfield-points', 'airports', 'airfield', ['!', isCommercial]),
    { ...circle('station-rv-points', 'rail_stations', 'station_rv', ['!', isFV]), minzoom: STATION_RV_MINZOOM },
    circle('freight-points', 'rail_freight', 'freight'),
    circle('port-points', 'ports', 'port'),
    circle('station-fv-points', 'rail_stations', 'station_fv', isFV),
    circle('airport-points', 'airports', 'airport', isCommercial),
    label('junction-label', 'motorway_junctions', z.junction,
      ['case', present('ref'), ['concat', ['to-string', ['get', 'ref']], ' ', nameOf], nameOf],
      { size: 10, color: '#00406b' }),
    label('freight-label', 'rail_freight', z.freight, nameOf, { size: 10, color: '#5c3d00' }),
    label('port-label', 'ports', z.port, nameOf, { size: 10.5, color: '#00365c' }),
    label('station-rv-label', 'rail_stations', z.station_rv, nameOf, { filter: ['!', isFV], size: 10 }),
    label('station-fv-label', 'rail_stations', z.station_fv, nameOf, { filter: isFV, size: 11, bold: true }),
    label('airfield-label', 'airports', z.airfield, nameOf, { filter: ['!', isCommercial], size: 10, color: '#555555' }),
    label('airport-label', 'airports', z.airport,
      ['case', present('iata'), ['concat', nameOf, ' (', ['to-string', ['get', 'iata']], ')'], nameOf],
      { filter: isCommercial, size: 11.5, bold: true, color: '#6b2150' }),
  ].sort((a, b) => LAYER_ORDER.indexOf(a.id) - LAYER_ORDER.indexOf(b.id));
}

/** The radius of the site points by zoom (stops), smaller the more sites there are (50,000
 * dots cover NRW at zoom 7); the site marks use the same. */
function pointRadius(sites) {
  const k = sites > 20000 ? 1 : sites > 5000 ? 1.3 : 1.6;
  return [[5, Math.round(16 * k) / 10], [7, Math.round(23 * k) / 10], [9.99, 6]];
}

/**
 * The site points below POINTS_MAXZOOM, drawn by map-points.js from the site table (not from the
 * tiles: 50,000 vector-tile points cost ~130 MB of worker and feature-state garbage at load):
 * the colour of the score band (`colors` by band, `excluded` for -1, `unscored` before the first
 * ranking), radius and white ring width by zoom (linear between the stops).
 */
export function sitePoints({ bands, sites = 50000 }) {
  return { id: 'site-points', maxzoom: POINTS_MAXZOOM, texture: true, colors: [...bands.colors], excluded: excludedPoint(bands),
    unscored: UNSCORED_COLOR, radius: pointRadius(sites), strokeColor: '#ffffff', strokeWidth: [[5, 0], [8, 0.5]] };
}

/**
 * The PMTiles source: with the archive's zooms and bounds (`tileset` of api/ui/config) its tile
 * URLs at once, else the archive's URL, whose header MapLibre then reads before any tile.
 */
export function tileSource(tiles, tileset = null) {
  if (!tileset) return { type: 'vector', url: `pmtiles://${tiles}`, promoteId: PROMOTE_ID };
  const { minzoom, maxzoom, bounds } = tileset;
  return { type: 'vector', tiles: [`pmtiles://${tiles}/{z}/{x}/{y}`], minzoom, maxzoom, bounds, promoteId: PROMOTE_ID };
}

/**
 * The style: one PMTiles vector source, the neighbours, optional basemap and coverage images;
 * the sites coloured by the score classes of `bands` (bands.js).
 */
export function style({ tiles, tileset = null, bands, basemap = null, coverage = [], neighbours = null, h2Year = GLOBAL_STATE.h2Year, sites = 50000 }) {
  const [[, r5], [, r7]] = pointRadius(sites);
  const sources = {
    nrw: tileSource(tiles, tileset),
    [MARKS_SOURCE]: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
    neighbours: { type: 'geojson', data: neighbours || { type: 'FeatureCollection', features: [] } },
  };
  if (basemap?.url) {
    sources.basemap = { type: 'raster', tiles: [basemap.url], tileSize: 256, attribution: basemap.attribution || '' };
  }
  for (const c of coverage) {
    if (c.kind === 'image') sources[`coverage-${c.id}`] = coverageSource(c);
  }
  const layers = [
    { id: 'background', type: 'background', paint: { 'background-color': '#f3f1ec' } },
    ...(basemap?.url ? [{ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.85 } }] : []),
    { id: 'neighbour-fill', type: 'fill', source: 'neighbours', filter: ['!=', ['get', 'id'], '276'],
      paint: { 'fill-color': '#dcdcd8', 'fill-opacity': basemap?.url ? 0.3 : 1 } },
    { id: 'neighbour-line', type: 'line', source: 'neighbours',
      paint: { 'line-color': '#8a8a85', 'line-width': 1.2, 'line-dasharray': [3, 2] } },
    ...coverage.map(coverageLayer),
    ...reserveLayers(),
    { id: 'muni-line', type: 'line', source: 'nrw', 'source-layer': 'municipalities',
      paint: { 'line-color': '#b4b0a6', 'line-width': ['interpolate', ['linear'], ['zoom'], 6, 0.3, 12, 1] } },
    { id: 'kreis-line', type: 'line', source: 'nrw', 'source-layer': 'kreise',
      paint: { 'line-color': '#6f6b63', 'line-width': ['interpolate', ['linear'], ['zoom'], 6, 0.8, 12, 2] } },
    { id: 'lep-fill', type: 'fill', source: 'nrw', 'source-layer': 'lep_sites',
      paint: { 'fill-color': LEP_COLOR, 'fill-opacity': 0.12 } },
    { id: 'lep-line', type: 'line', source: 'nrw', 'source-layer': 'lep_sites',
      paint: { 'line-color': LEP_COLOR, 'line-width': 2.5 } },
    { id: 'h2-future', type: 'line', source: 'nrw', 'source-layer': 'hydrogen',
      filter: ['!', inService],
      paint: { 'line-color': H2_FUTURE_COLOR, 'line-width': 1, 'line-opacity': 0.7, 'line-dasharray': [1, 2] } },
    { id: 'h2-line', type: 'line', source: 'nrw', 'source-layer': 'hydrogen', filter: inService,
      layout: { 'line-cap': 'butt' },
      paint: { 'line-color': h2Color(),
        'line-width': ['match', ['get', 'kind'], 'new_build', 4, 2],
        'line-dasharray': schematicDash } },
    { id: 'site-fill', type: 'fill', source: 'nrw', 'source-layer': 'sites', minzoom: POINTS_MAXZOOM,
      paint: { 'fill-color': bandColor(bands), 'fill-opacity': ['case', ['==', bandOf, -1], 0.35, 0.8] } },
    { id: 'plan-outline', type: 'line', source: 'nrw', 'source-layer': 'sites', minzoom: POINTS_MAXZOOM,
      filter: ['==', ['get', 'kind'], 'regional_plan'],
      paint: { 'line-color': ['match', ['get', 'planning_category'],
        ...Object.entries(PLAN_COLORS).flat(), '#666666'], 'line-width': 2 } },
    { id: 'brownfield-outline', type: 'line', source: 'nrw', 'source-layer': 'sites', minzoom: POINTS_MAXZOOM,
      filter: ['==', ['get', 'kind'], 'brownfield'],
      paint: { 'line-color': BROWNFIELD_COLOR, 'line-width': 2, 'line-dasharray': [2, 1] } },
    { id: 'site-line', type: 'line', source: 'nrw', 'source-layer': 'sites', minzoom: POINTS_MAXZOOM,
      paint: { 'line-color': ['case', isSel, '#000000', isHover, '#000000', isCmp, '#000000', 'rgba(0,0,0,0)'],
        'line-width': ['case', isSel, 4, isHover, 2.5, isCmp, 2, 0] } },
    // 'site-points' (the 50,000 site points) is no style layer: map-points.js draws it (sitePoints())
    { id: 'site-marks', type: 'circle', source: MARKS_SOURCE, maxzoom: POINTS_MAXZOOM,
      paint: {
        'circle-color': bandColor(bands, ['get', 'band'], excludedPoint(bands)),
        'circle-radius': ['interpolate', ['linear'], ['zoom'],
          5, ['match', ['get', 'role'], 'sel', 7, 'hover', 6, r5],
          7, ['match', ['get', 'role'], 'sel', 8, 'hover', 7, r7],
          9.99, ['match', ['get', 'role'], 'sel', 11, 'hover', 9, 6]],
        'circle-stroke-color': '#000000',
        'circle-stroke-width': ['match', ['get', 'role'], 'sel', 3, 2],
      } },
    { id: 'neighbour-label', type: 'symbol', source: 'neighbours', filter: ['!=', ['get', 'id'], '276'],
      layout: { 'text-field': ['get', 'label'], 'text-font': FONT, 'text-size': 13,
        'text-letter-spacing': 0.2, 'text-transform': 'uppercase' },
      paint: { 'text-color': '#77776f', 'text-halo-color': '#ffffff', 'text-halo-width': 1 } },
    { id: 'kreis-label', type: 'symbol', source: 'nrw', 'source-layer': 'kreis_labels', maxzoom: 9,
      layout: { 'text-field': ['get', 'kreis_name'], 'text-font': FONT, 'text-size': 11,
        'text-max-width': 8, 'text-padding': 4 },
      paint: { 'text-color': '#4a4740', 'text-halo-color': '#ffffff', 'text-halo-width': 1.4 } },
    { id: 'muni-label', type: 'symbol', source: 'nrw', 'source-layer': 'municipality_labels', minzoom: 9,
      layout: { 'text-field': ['get', 'name'], 'text-font': FONT, 'text-size': 12, 'text-max-width': 8 },
      paint: { 'text-color': '#3d3a34', 'text-halo-color': '#ffffff', 'text-halo-width': 1.4 } },
    { id: 'lep-label', type: 'symbol', source: 'nrw', 'source-layer': 'lep_sites', minzoom: 6,
      layout: { 'text-field': ['get', 'name'], 'text-font': FONT_BOLD, 'text-size': 12,
        'text-max-width': 9, 'text-offset': [0, 1.2], 'text-anchor': 'top' },
      paint: { 'text-color': '#8a3b00', 'text-halo-color': '#ffffff', 'text-halo-width': 1.6 } },
  ];
  // the transport layers (hidden) are part of the first style: a layer added later makes
  // MapLibre parse every tile of the source again
  const slot = (x) => LAYER_ORDER.indexOf(x.id.startsWith('coverage-') ? 'coverage-*' : x.id);
  layers.push(...transportLayers());
  layers.sort((a, b) => slot(a) - slot(b)); // stable: the coverage layers keep the API's order
  return {
    version: 8,
    // no `glyphs`: MapLibre draws labels with the page's fonts (Noto Sans via @font-face)
    state: Object.fromEntries(Object.entries({ ...GLOBAL_STATE, h2Year }).map(([k, v]) => [k, { default: v }])),
    sources,
    layers,
  };
}

/**
 * The toggleable groups in legend order: id, i18n key, layer ids, manifest layer(s) for the
 * attribution, whether on by default, and the legend rows ({swatch, key|text|label(lang)}).
 * The score rows are the classes of `bands` (bands.js), highest first, with their own labels.
 */
export function groups({ bands, coverage = [], basemap = null }) {
  const g = [
    { id: 'sites', key: 'layer.sites', layers: ['site-points', 'site-marks', 'site-fill', 'site-line'], attribution: ['sites'], on: true,
      legend: [
        ...bands.colors.map((c, k) => ({ swatch: { kind: 'dot', color: c }, label: (lang) => bands.label(k, lang) })).reverse(),
        { swatch: { kind: 'dot', color: bands.noScore }, key: 'legend.excluded' },
      ] },
    { id: 'plan', key: 'layer.plan', layers: ['plan-outline'], attribution: ['regional_plan'], on: true,
      legend: Object.entries(PLAN_COLORS).map(([k, c]) => ({ swatch: { kind: 'outline', color: c }, key: `planning.${k}` }))
        .concat([{ key: 'legend.from_zoom10' }]) },
    { id: 'brownfields', key: 'layer.brownfields', layers: ['brownfield-outline'], attribution: ['brownfields'], on: true,
      legend: [{ swatch: { kind: 'dash-outline', color: BROWNFIELD_COLOR }, key: 'legend.brownfield' }, { key: 'legend.from_zoom10' }] },
    { id: 'lep', key: 'layer.lep', layers: ['lep-fill', 'lep-line', 'lep-label'], attribution: ['lep_sites'], on: true,
      legend: [{ swatch: { kind: 'outline', color: LEP_COLOR }, key: 'legend.lep' }] },
    { id: 'hydrogen', key: 'layer.hydrogen', layers: ['h2-line', 'h2-future'], attribution: ['hydrogen'], on: true,
      legend: [
        ...H2_YEAR_COLORS.map((c, i) => ({ swatch: { kind: 'line', color: c }, key: 'legend.h2_years',
          params: { from: i === 0 ? 2025 : H2_YEAR_BREAKS[i - 1], to: i < H2_YEAR_BREAKS.length ? H2_YEAR_BREAKS[i] - 1 : 2032 } })),
        { swatch: { kind: 'thick', color: '#555555' }, key: 'legend.h2_new_build' },
        { swatch: { kind: 'line', color: '#555555' }, key: 'legend.h2_conversion' },
        { swatch: { kind: 'dash', color: '#555555' }, key: 'legend.h2_schematic' },
        { swatch: { kind: 'dots', color: H2_FUTURE_COLOR }, key: 'legend.h2_future' },
      ] },
    ...transportGroups(),
    ...coverage.map((c) => ({ id: `coverage-${c.id}`, key: `layer.coverage_${c.id}`, title: c.title, layers: [`coverage-${c.id}`],
      attribution: [c.id], text: c.attribution, on: false,
      legend: c.colors.length ? [{ ramp: c.colors, from: c.breaks[0] ?? 0, to: c.breaks[c.breaks.length - 1] ?? 1 },
        ...(c.resolution ? [{ key: `resolution.${c.resolution}`, fallback: c.resolution }] : [])] : [] })),
    { id: 'municipalities', key: 'layer.municipalities', layers: ['muni-line', 'muni-label'], attribution: ['municipalities'], on: true,
      legend: [{ swatch: { kind: 'line', color: '#b4b0a6' }, key: 'legend.municipality' }] },
    { id: 'kreise', key: 'layer.kreise', layers: ['kreis-line', 'kreis-label'], attribution: ['municipalities'], on: true,
      legend: [{ swatch: { kind: 'line', color: '#6f6b63' }, key: 'legend.kreis' }] },
    { id: 'neighbours', key: 'layer.neighbours', layers: ['neighbour-fill', 'neighbour-line', 'neighbour-label'],
      attribution: [], textKey: 'source.natural_earth', on: true,
      legend: [{ swatch: { kind: 'dash', color: '#8a8a85' }, key: 'legend.border' }] },
  ];
  if (basemap?.url) {
    g.push({ id: 'basemap', key: 'layer.basemap', layers: ['basemap'], attribution: [], text: basemap.attribution || '', on: true, legend: [] });
  }
  return g;
}

/** A legend swatch of a transport circle. */
const pt = (kind, size = 'm') => ({ kind: 'pt', size, color: TRANSPORT[kind].fill, stroke: TRANSPORT[kind].stroke });

/** The transport groups: off by default, one per tile layer (attribution = its manifest layer). */
export function transportGroups() {
  return [
    { id: 'motorway_junctions', key: 'layer.motorway_junctions', layers: ['junction-points', 'junction-label'],
      attribution: ['motorway_junctions'], on: false,
      legend: [{ swatch: pt('junction', 's'), key: 'legend.motorway_junction' }, { key: 'legend.labels_from', params: { zoom: TRANSPORT_LABEL_ZOOM.junction } }] },
    { id: 'rail_stations', key: 'layer.rail_stations', layers: ['station-fv-points', 'station-rv-points', 'station-fv-label', 'station-rv-label'],
      attribution: ['rail_stations'], on: false,
      legend: [{ swatch: pt('station_fv'), key: 'legend.station_fv' }, { swatch: pt('station_rv', 's'), key: 'legend.station_rv', params: { zoom: STATION_RV_MINZOOM } },
        { key: 'legend.labels_from', params: { zoom: TRANSPORT_LABEL_ZOOM.station_fv } }] },
    { id: 'rail_freight', key: 'layer.rail_freight', layers: ['freight-points', 'freight-label'],
      attribution: ['rail_freight'], on: false,
      legend: [{ swatch: pt('freight'), key: 'legend.rail_freight' }] },
    { id: 'ports', key: 'layer.ports', layers: ['port-points', 'port-label'], attribution: ['ports'], on: false,
      legend: [{ swatch: pt('port'), key: 'legend.port' }] },
    { id: 'airports', key: 'layer.airports', layers: ['airport-points', 'airfield-points', 'airport-label', 'airfield-label'],
      attribution: ['airports'], on: false,
      legend: [{ swatch: pt('airport', 'l'), key: 'legend.airport' }, { swatch: pt('airfield', 's'), key: 'legend.airfield' }] },
  ];
}

/** Every global-state key used by a style's expressions (for the node test). */
export function globalStateKeys(styleSpec) {
  const keys = new Set();
  const walk = (x) => {
    if (Array.isArray(x)) {
      if (x[0] === 'global-state' && typeof x[1] === 'string') keys.add(x[1]);
      x.forEach(walk);
    } else if (x && typeof x === 'object') Object.values(x).forEach(walk);
  };
  walk(styleSpec.layers);
  return keys;
}
