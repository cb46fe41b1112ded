// layers.js: ids, order, global-state keys, site layers and fonts of the style.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as L from '../../maps/static/js/layers.js';

const cov = [{ id: 'fibre', url: 'x.png', coordinates: [[5, 53], [10, 53], [10, 50], [5, 50]], legend: [] }];
const full = L.style({ tiles: 'http://x/t.pmtiles', basemap: { url: 'http://b/{z}/{x}/{y}.png', attribution: 'b' }, coverage: cov });
const bare = L.style({ tiles: 'http://x/t.pmtiles' });

test('layer ids are unique and follow LAYER_ORDER', () => {
  for (const s of [full, bare]) {
    const ids = s.layers.map((l) => l.id);
    assert.equal(new Set(ids).size, ids.length);
    const expected = L.LAYER_ORDER.filter((id) => ids.includes(id) || id.startsWith('coverage-mobile'));
    assert.deepEqual(ids, expected.filter((id) => ids.includes(id)));
    for (const id of ids) assert.ok(L.LAYER_ORDER.includes(id), id);
  }
  assert.ok(!bare.layers.some((l) => l.id === 'basemap'), 'no base map unless configured');
  assert.ok(full.layers.some((l) => l.id === 'basemap' && l.source === 'basemap'));
});

test('every global-state key is declared with a default', () => {
  const keys = L.globalStateKeys(full);
  assert.ok(keys.has('h2Year'));
  for (const k of keys) assert.ok(k in full.state && k in L.GLOBAL_STATE, k);
});

test('site layers read the PMTiles site layers and promote site_id for feature-state', () => {
  assert.equal(full.sources.nrw.promoteId, 'site_id');
  assert.match(full.sources.nrw.url, /^pmtiles:\/\//);
  for (const id of L.SITE_LAYERS) {
    const l = full.layers.find((x) => x.id === id);
    assert.ok(L.SITE_SOURCE_LAYERS.includes(l['source-layer']), id);
    assert.match(JSON.stringify(l.paint), /feature-state/, `${id} reads feature-state`);
  }
  const points = full.layers.find((x) => x.id === 'site-points');
  const polys = full.layers.find((x) => x.id === 'site-fill');
  assert.equal(points.maxzoom, polys.minzoom, 'points hand over to polygons at one zoom');
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
  const ids = new Set(full.layers.map((l) => l.id));
  const groups = L.groups({ coverage: cov, basemap: { url: 'u' } });
  assert.equal(new Set(groups.map((g) => g.id)).size, groups.length);
  for (const g of groups) for (const id of g.layers) assert.ok(ids.has(id), `${g.id}: ${id}`);
  assert.equal(L.SCORE_COLORS.length, L.SCORE_BREAKS.length + 1);
});
