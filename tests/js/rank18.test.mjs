// Issue 18, defects 2, 8 and 9 in the pure parts of the page: the site-score query carries the
// filters; the search matches without case and diacritics; the list's length; own areas (their
// area, their id kept out of the permalink, their points in "why A beats B").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiQuery, encode } from '../../maps/static/js/permalink.js';
import { fold, buildIndex, findSites, MAX_HITS, cameraHash } from '../../maps/static/js/search.js';
import { shownCount, TOP_N } from '../../maps/static/js/ranking.js';
import { areaHa, MAX_OWN_AREA_HA } from '../../maps/static/js/draw.js';
import { effectiveFilters, points, whyBeats, whyBeatsPoints } from '../../maps/static/js/scoring.js';
import { SPECS } from './filter-registry.mjs';

test('the API query carries the filters by their registry names, when given the registry', () => {
  const s = { profile: 'hydrogen', weights: { area: 0.5 }, year: 2032,
    filters: { min_area_ha: 20, kreis: ['05562'], kind: [], max_h2_km: null } };
  assert.equal(apiQuery(s, ['area']).toString(), 'profile=hydrogen&w_area=0.5&h2_year=2032');
  assert.equal(apiQuery(s, ['area'], SPECS).toString(), 'profile=hydrogen&w_area=0.5&h2_year=2032&min_area_ha=20&kreis=05562');
  // every choice unticked (no site passes) has no API form: left out, not sent as '-'
  const none = apiQuery({ ...s, filters: { kind: ['-'], min_fibre: 0.5 } }, [], SPECS);
  assert.equal(none.toString(), 'profile=hydrogen&h2_year=2032&min_fibre=0.5');
});

test('a Kreis and a municipality together mean either, as the list applies them', () => {
  const prep = { n: 3, ags: ['05562008', '05562012', '05111000'], kreisAgs: ['05562', '05562', '05111'] };
  const f = effectiveFilters(prep, { ags: ['05111000'], kreis: ['05562'], min_area_ha: 5 });
  assert.deepEqual([...f.ags].sort(), ['05111000', '05562008', '05562012']);
  assert.deepEqual(f.kreis, []);
  assert.equal(f.min_area_ha, 5);
  const only = { kreis: ['05562'] };
  assert.equal(effectiveFilters(prep, only), only);
});

test('fold drops case and diacritics; ß is ss', () => {
  assert.equal(fold('Münster-Hiltrup'), 'munster-hiltrup');
  assert.equal(fold('GROẞE Straße'), 'grosse strasse');
  assert.equal(fold('Köln'), 'koln');
});

const columns = {
  site_id: ['gib-1', 'bf-BF-000007', 'lep-3', 'gib-4'],
  name: ['Marl Feldmark', 'Brache Köln-Süd', 'newPark Datteln', null],
  municipality: ['Marl', 'Köln', 'Datteln', 'Münster'],
  kreis: ['Recklinghausen', 'Köln', 'Recklinghausen', 'Münster'],
};

test('findSites: name, municipality or id; every word; ranked first, by rank', () => {
  const index = buildIndex(columns);
  const rank = Uint32Array.from([2, 1, 0, 3]);
  assert.deepEqual(findSites(index, columns, 'marl', rank), [0]);
  assert.deepEqual(findSites(index, columns, 'KOLN', rank), [1]);
  assert.deepEqual(findSites(index, columns, 'koeln süd', rank), [1]); // umlaut spelled out, too
  assert.deepEqual(findSites(index, columns, 'muenster', rank), [3]);
  assert.deepEqual(findSites(index, columns, 'münster', rank), [3]);
  assert.deepEqual(findSites(index, columns, 'bf-bf-000007', rank), [1]);
  // Recklinghausen: Marl (rank 2) before Datteln (excluded, rank 0)
  assert.deepEqual(findSites(index, columns, 'recklinghausen', rank), [0, 2]);
  // a name that starts with the query comes before a better-ranked site that only contains it
  assert.deepEqual(findSites(index, columns, 'b', Uint32Array.from([1, 2, 3, 4])).slice(0, 1), [1]);
  assert.deepEqual(findSites(index, columns, '   ', rank), []);
  assert.deepEqual(findSites(index, columns, 'xyz', rank), []);
});

test('findSites returns at most MAX_HITS', () => {
  const n = 50;
  const many = { site_id: Array.from({ length: n }, (_, i) => `s-${i}`), name: Array(n).fill('Feld'),
    municipality: Array(n).fill('Marl'), kreis: Array(n).fill('RE') };
  assert.equal(findSites(buildIndex(many), many, 'feld').length, MAX_HITS);
});

test('the list shows TOP_N at first and never more than are ranked', () => {
  assert.equal(TOP_N, 100);
  assert.equal(shownCount(TOP_N, 1898), 100);
  assert.equal(shownCount(300, 1898), 300);
  assert.equal(shownCount(2000, 1898), 1898);
  assert.equal(shownCount(100, 11), 11);
  assert.equal(shownCount(0, 500), 100);
});

test('areaHa: a square of known size, a hole, the limit', () => {
  // 0.01° × 0.01° at 51.6° N: 1113.2 m × 692.0 m ≈ 77.0 ha on the sphere (R = 6371008.8 m)
  const sq = (x, y, d) => [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]];
  const k = Math.PI / 180;
  const expected = (6371008.8 * k * 0.01) ** 2 * Math.cos((51.605) * k) / 1e4;
  assert.ok(Math.abs(areaHa({ type: 'Polygon', coordinates: [sq(7.4, 51.6, 0.01)] }) - expected) / expected < 1e-3);
  const holed = areaHa({ type: 'Polygon', coordinates: [sq(7.4, 51.6, 0.01), sq(7.402, 51.602, 0.005)] });
  assert.ok(Math.abs(holed - 0.75 * expected) / expected < 2e-3);
  const multi = areaHa({ type: 'MultiPolygon', coordinates: [[sq(7.4, 51.6, 0.01)], [sq(7.5, 51.6, 0.01)]] });
  assert.ok(Math.abs(multi - 2 * expected) / expected < 2e-3);
  assert.equal(MAX_OWN_AREA_HA, 2000);
  // ~45 % of NRW (the example) is far over it
  assert.ok(areaHa({ type: 'Polygon', coordinates: [[[6.3, 50.8], [8.7, 50.8], [8.7, 51.8], [6.3, 51.8], [6.3, 50.8]]] }) > 1e6);
  assert.ok(Number.isNaN(areaHa({ type: 'Polygon', coordinates: 'x' })));
});

test('own areas stay out of the permalink', () => {
  const q = encode({ profile: 'balanced', cmp: ['gib-1', 'own:2', 'lep-3'] }, { profile: 'balanced', filters: SPECS });
  assert.equal(new URLSearchParams(q).get('cmp'), 'gib-1,lep-3');
  assert.equal(encode({ profile: 'balanced', cmp: ['own:1'] }, { profile: 'balanced', filters: SPECS }), '');
});

test('whyBeatsPoints on points equals whyBeats on the values', () => {
  const C = 3;
  const values = Float64Array.from([0.9, 0.2, NaN, 5, 0.4, 0.8, 0.5, 7]);
  const w = Float64Array.from([2, 1, 1]);
  const names = ['area', 'h2', 'fibre'];
  assert.deepEqual(whyBeatsPoints(points(values, C, w, 0), points(values, C, w, 1), names), whyBeats(values, C, w, 0, 1, names));
});

test('cameraHash centres on the site, zooms in to at least 13, keeps bearing and pitch', () => {
  assert.equal(cameraHash('#map=7.5/51.4/7.3', 7.12345678, 51.5), '#map=13/51.50000/7.12346');
  assert.equal(cameraHash('#map=15.2/51.4/7.3/20/45', 7, 51), '#map=15.2/51.00000/7.00000/20/45');
  assert.equal(cameraHash('', 7, 51), '#map=13/51.00000/7.00000');
});
