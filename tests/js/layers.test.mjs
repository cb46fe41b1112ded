// layers.js: ids, order, global-state keys, site layers and fonts of the style.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as L from '../../maps/static/js/layers.js';
import { scoreBands } from '../../maps/static/js/bands.js';

// deliberately not the served classes: the style must take whatever api/ui/config says
const bands = scoreBands({ breaks: [30, 65], colors: ['#111111', '#222222', '#333333'], no_score: '#444444',
  labels: { de: ['a', 'b', 'c'], en: ['A', 'B', 'C'] }, no_score_label: { de: 'x', en: 'X' } });

const cov = [
  { id: 'fibre', kind: 'image', url: 'x.png', coordinates: [[5, 53], [10, 53], [10, 50], [5, 50]], breaks: [0, 0.5, 1], colors: ['#000', '#fff'] },
  { id: 'mobile_5g', kind: 'tile_property', sourceLayer: 'municipalities', property: 'mobile_5g_share', breaks: [0, 0.5, 1], colors: ['#000', '#fff'] },
];
const full = L.style({ tiles: 'http://x/t.pmtiles', bands, basemap: { url: 'http://b/{z}/{x}/{y}.png', attribution: 'b' }, coverage: cov });
const bare = L.style({ tiles: 'http://x/t.pmtiles', bands });

test('layer ids are unique and follow LAYER_ORDER', () => {
  for (const s of [full, bare]) {
    const ids = s.layers.map((l) => l.id);
    assert.equal(new Set(ids).size, ids.length);
    const slot = ids.map((id) => L.LAYER_ORDER.indexOf(id.startsWith('coverage-') ? 'coverage-*' : id));
    assert.ok(!slot.includes(-1), `every id has a slot: ${ids}`);
    for (let i = 1; i < slot.length; i++) assert.ok(slot[i] >= slot[i - 1], `${ids[i]} after ${ids[i - 1]}`);
  }
  assert.ok(!bare.layers.some((l) => l.id === 'basemap'), 'no base map unless configured');
  assert.ok(full.layers.some((l) => l.id === 'basemap' && l.source === 'basemap'));
  const img = full.layers.find((l) => l.id === 'coverage-fibre');
  const shares = full.layers.find((l) => l.id === 'coverage-mobile_5g');
  assert.equal(img.type, 'raster');
  assert.equal(full.sources['coverage-fibre'].type, 'image');
  assert.equal(shares.type, 'fill');
  assert.equal(shares['source-layer'], 'municipalities');
  assert.equal(img.layout.visibility, 'none', 'coverage is off by default');
});

test('every global-state key is declared with a default', () => {
  const keys = L.globalStateKeys(full);
  assert.ok(keys.has('h2Year'));
  for (const k of keys) assert.ok(k in full.state && k in L.GLOBAL_STATE, k);
});

test('site layers read the PMTiles site layers and promote site_id (points: fid) for feature-state', () => {
  assert.deepEqual(full.sources.nrw.promoteId, { sites: 'site_id', site_points: 'fid', municipalities: 'ags', kreise: 'kreis_ags' });
  assert.match(full.sources.nrw.url, /^pmtiles:\/\//);
  // with the archive's zooms and bounds from api/ui/config: the tile URLs at once, no header read first
  const known = L.style({ tiles: 'http://x/t.pmtiles', tileset: { minzoom: 5, maxzoom: 14, bounds: [5.8, 50.3, 9.5, 52.6] }, bands });
  assert.deepEqual(known.sources.nrw, { type: 'vector', tiles: ['pmtiles://http://x/t.pmtiles/{z}/{x}/{y}'], minzoom: 5, maxzoom: 14,
    bounds: [5.8, 50.3, 9.5, 52.6], promoteId: full.sources.nrw.promoteId });
  for (const id of L.SITE_LAYERS) {
    const l = full.layers.find((x) => x.id === id);
    assert.ok(L.SITE_SOURCE_LAYERS.includes(l['source-layer']), id);
    assert.match(JSON.stringify(l.paint), /feature-state/, `${id} reads feature-state`);
  }
  const points = L.sitePoints({ bands });
  const polys = full.layers.find((x) => x.id === 'site-fill');
  assert.equal(points.maxzoom, polys.minzoom, 'points hand over to polygons at one zoom');
  assert.ok(!full.layers.some((x) => x['source-layer'] === 'site_points'), 'the points are no tile layer (map-points.js)');
});

test('the schematic H2 lines are dashed; the year filter reads global state', () => {
  const h2 = full.layers.find((x) => x.id === 'h2-line');
  assert.match(JSON.stringify(h2.paint['line-dasharray']), /schematic/);
  assert.match(JSON.stringify(h2.filter), /global-state/);
});

test('labels use local fonts declared in app.css; no glyph server', () => {
  assert.equal(full.glyphs, undefined);
  const css = readFileSync(fileURLToPath(new URL('../../maps/static/css/app.css', import.meta.url)), 'utf8');
  for (const l of full.layers.filter((x) => x.type === 'symbol')) {
    for (const f of l.layout['text-font']) assert.ok(css.includes(`font-family: '${f}'`), f);
  }
});

test('legend groups name existing layers; score classes match the ramp', () => {
  const ids = new Set(full.layers.concat(L.transportLayers(), [L.sitePoints({ bands })]).map((l) => l.id));
  const groups = L.groups({ bands, coverage: cov, basemap: { url: 'u' } });
  assert.equal(new Set(groups.map((g) => g.id)).size, groups.length);
  for (const g of groups) for (const id of g.layers) assert.ok(ids.has(id), `${g.id}: ${id}`);
  const rows = groups.find((g) => g.id === 'sites').legend;
  assert.deepEqual(rows.map((r) => r.swatch.color), ['#333333', '#222222', '#111111', '#444444'], 'highest first, then no score');
  assert.deepEqual(rows.slice(0, 3).map((r) => r.label('en')), ['C', 'B', 'A']);
  assert.deepEqual(rows.slice(0, 3).map((r) => r.label('de')), ['c', 'b', 'a']);
});

test('an overlay added later goes into its slot (beforeOf)', () => {
  const ids = bare.layers.map((l) => l.id);
  assert.equal(L.beforeOf('coverage-fibre', ids), 'reserves-muni-fill'); // the (hidden) choropleth, then the lines
  assert.equal(L.beforeOf('lep-label', ids), undefined);
});

test('transport layers: one per kind in LAYER_ORDER, off by default, on the tile layers', () => {
  const tl = L.transportLayers();
  const ids = tl.map((l) => l.id);
  assert.deepEqual(ids, L.TRANSPORT_LAYERS, 'in LAYER_ORDER');
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(ids, [
    'junction-points', 'airfield-points', 'station-rv-points', 'freight-points', 'port-points',
    'station-fv-points', 'airport-points',
    'junction-label', 'station-rv-label', 'freight-label', 'port-label', 'airfield-label', 'station-fv-label',
    'airport-label']);
  const styleIds = full.layers.map((l) => l.id);
  for (const l of tl) {
    // in the first style: a layer added to the source later makes MapLibre re-parse its tiles
    assert.ok(styleIds.includes(l.id), `${l.id} is in the initial style`);
    assert.equal(l.source, 'nrw');
    assert.ok(['motorway_junctions', 'rail_stations', 'rail_freight', 'ports', 'airports'].includes(l['source-layer']), l.id);
    assert.equal(l.layout.visibility, 'none', `${l.id} off by default`);
  }
  // the whole style is in LAYER_ORDER: the transport slots above the site points, below the labels
  const all = styleIds;
  const order = all.map((id) => L.LAYER_ORDER.indexOf(id.startsWith('coverage-') ? 'coverage-*' : id));
  assert.ok(order.every((k) => k >= 0), 'every layer has a slot');
  for (let i = 1; i < order.length; i++) assert.ok(order[i] >= order[i - 1], `${all[i]} after ${all[i - 1]}`);
  assert.ok(all.indexOf('junction-points') > all.indexOf('site-marks'));
  assert.ok(all.indexOf('airport-label') < all.indexOf('muni-label'));
  // airfields smaller and greyer than commercial airports; FV distinct from regional stations
  const T = L.TRANSPORT;
  assert.ok(T.airfield.r < T.airport.r && T.station_rv.r < T.station_fv.r);
  assert.notEqual(T.station_fv.fill, T.station_rv.fill);
  const fills = Object.values(T).map((c) => `${c.fill}/${c.stroke}`);
  assert.equal(new Set(fills).size, fills.length, 'every kind has its own fill/stroke');
  const viridis = ['#fde725', '#7ad151', '#22a884', '#2a788e', '#414487', '#440154'];
  for (const c of Object.values(T)) assert.ok(!viridis.includes(c.fill), 'no site colour');
  const ap = tl.find((l) => l.id === 'airport-points');
  const af = tl.find((l) => l.id === 'airfield-points');
  assert.match(JSON.stringify(ap.filter), /commercial/);
  assert.match(JSON.stringify(af.filter), /commercial/);
});

test('transport groups: off by default, legend and attribution per tile layer', () => {
  const groups = L.groups({ bands });
  const byId = Object.fromEntries(groups.map((g) => [g.id, g]));
  for (const id of ['motorway_junctions', 'rail_stations', 'rail_freight', 'ports', 'airports']) {
    const g = byId[id];
    assert.ok(g, id);
    assert.equal(g.on, false);
    assert.deepEqual(g.attribution, [id]);
    assert.ok(g.legend.some((r) => r.swatch), `${id} has a legend swatch`);
  }
  const covered = new Set(groups.flatMap((g) => g.layers));
  for (const id of L.TRANSPORT_LAYERS) assert.ok(covered.has(id), `${id} is toggled by a group`);
});

test('the site points are drawn by map-points.js; the highlighted ones again from site-marks', () => {
  const points = L.sitePoints({ bands });
  assert.equal(points.id, 'site-points');
  const marks = full.layers.find((x) => x.id === 'site-marks');
  assert.equal(marks.source, L.MARKS_SOURCE);
  assert.equal(full.sources[L.MARKS_SOURCE].type, 'geojson');
  assert.doesNotMatch(JSON.stringify(marks.paint), /feature-state/);
  assert.match(JSON.stringify(marks.paint['circle-radius']), /"sel"/);
  assert.equal(marks.maxzoom, points.maxzoom);
  // the points go into their slot, right below the marks
  assert.equal(L.beforeOf('site-points', full.layers.map((x) => x.id)), 'site-marks');
  assert.equal(L.LAYER_ORDER.indexOf('site-marks'), L.LAYER_ORDER.indexOf('site-points') + 1);
  assert.ok(L.groups({ bands }).find((g) => g.id === 'sites').layers.includes('site-marks'));
  // the marks are as large as the points they cover (same radius stops below zoom 8)
  const r = points.radius;
  assert.match(JSON.stringify(marks.paint['circle-radius']), new RegExp(`5,\\[.*"hover",6,${r[0][1]}\\],7,\\[.*"hover",7,${r[1][1]}\\]`));
  assert.deepEqual(L.sitePoints({ bands, sites: 1000 }).radius.slice(0, 2), [[5, 2.6], [7, 3.7]], 'fewer sites, larger dots');
});

test('the site colours are the classes of `bands`: band k → colour k, -1 → no score, else unscored', () => {
  const points = L.sitePoints({ bands });
  assert.deepEqual(points.colors, bands.colors);
  assert.equal(points.excluded, 'rgba(68, 68, 68, 0.45)');
  assert.equal(points.unscored, L.UNSCORED_COLOR);
  for (const id of ['site-fill', 'site-marks']) {
    const paint = full.layers.find((x) => x.id === id).paint;
    const m = paint['fill-color'] ?? paint['circle-color'];
    assert.equal(m[0], 'match');
    const pairs = new Map();
    for (let i = 2; i < m.length - 1; i += 2) pairs.set(m[i], m[i + 1]);
    assert.deepEqual([0, 1, 2].map((k) => pairs.get(k)), bands.colors, id);
    assert.match(String(pairs.get(-1)), id === 'site-fill' ? /^#444444$/ : /^rgba\(68, 68, 68, 0\.45\)$/, id);
    assert.equal(m[m.length - 1], L.UNSCORED_COLOR);
  }
});
