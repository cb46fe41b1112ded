// scoring.js against a hand-computed fixture, the filters, the tie-break, and a 50,000-row run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareTable, scores, rank, points, whyBeats, band, weightVector, reasonOf, exclusions } from '../../maps/static/js/scoring.js';

// the filter registry as GET api/sites/table serves it (geo/filters.py; the parity test in
// tests/maps/test_js.py uses the served one): name, kind, column and the special cases
const spec = (name, kind, column, extra = {}) => ({ name, kind, column, at_horizon: false, always_passes: null, profile_default: null, ...extra });
const FILTERS = [
  spec('min_area_ha', 'min', 'area_ha', { profile_default: 'min_area_ha' }),
  spec('max_area_ha', 'max', 'area_ha'),
  spec('max_h2_km', 'max', 'h2_distance_km', { at_horizon: true }),
  spec('kind', 'any_of', 'kind'),
  spec('ags', 'any_of', 'ags'),
  spec('kreis', 'any_of', 'kreis_ags'),
  spec('min_fibre', 'min', 'fibre_share'),
  spec('min_5g', 'min', 'mobile_5g_share'),
  spec('contamination', 'any_of', 'contamination', { always_passes: 'not_applicable' }),
];

const N = NaN;
// 5 sites × 3 criteria (+ H2 km)
const values = Float64Array.from([
  1.0, 0.5, N, 2.0, // a: (1·1 + 2·0.5) / 3 = 0.6667 → 66.667
  0.0, 1.0, 1.0, N, // b: (0 + 2 + 1) / 4 = 0.75 → 75
  N, N, N, 5.0, //     c: no data → NaN
  0.5, 0.5, 0.5, 30, // d: 0.5 → 50
  0.5, 0.5, 0.5, 1, //  e: same as d → tie, broken by site_id
]);
const table = {
  count: 5,
  filters: FILTERS,
  columns: {
    site_id: ['s-a', 's-b', 's-c', 's-e', 's-d'], // note: rows 3 and 4 hold ids e and d
    kind: ['regional_plan', 'brownfield', 'lep', 'brownfield', 'regional_plan'],
    ags: ['05111000', '05111000', '05315000', '05315000', '05562014'],
    kreis_ags: ['05111', '05111', '05315', '05315', '05562'],
    area_ha: [10, 2, 50, 30, 8],
    fibre_share: [0.9, null, 0.2, 0.5, 0.7],
    mobile_5g_share: [0.4, 0.9, null, 0.6, 0.5],
    contamination: [null, 'confirmed', 'not_applicable', 'none', null],
  },
};
const w = Float64Array.from([1, 2, 1]);

test('scores: hand-computed, missing criteria leave both sums', () => {
  const s = scores(values, 3, w);
  assert.equal(s[0], 100 * (1 * 1 + 2 * 0.5) / 3);
  assert.equal(s[1], 75);
  assert.ok(Number.isNaN(s[2]));
  assert.equal(s[3], 50);
  assert.equal(s[4], 50);
});

test('scores: summed left to right in criteria order, as Scorer.combine', () => {
  const v = Float64Array.from([0.1, 0.2, 0.3, 0]);
  const ww = Float64Array.from([0.7, 1.3, 2.9]);
  let num = 0; let den = 0;
  num += 0.7 * 0.1; den += 0.7; num += 1.3 * 0.2; den += 1.3; num += 2.9 * 0.3; den += 2.9;
  assert.equal(scores(v, 3, ww)[0], 100 * num / den);
});

test('rank: order by score, ties by site_id ascending, no-data excluded', () => {
  const prep = prepareTable(table);
  const r = rank(prep, values, 3, w);
  assert.deepEqual(Array.from(r.order, (i) => prep.ids[i]), ['s-b', 's-a', 's-d', 's-e']);
  assert.deepEqual(Array.from(r.rank), [2, 1, 0, 4, 3]);
  assert.deepEqual(r.excluded, { no_data: 1 });
  assert.equal(reasonOf(r, 2), 'no_data');
  assert.equal(reasonOf(r, 0), null);
  assert.deepEqual(r.reasons, [...FILTERS.map((f) => f.name), 'no_data']);
});

test('rank: hard filters exclude with the first failing filter', () => {
  const prep = prepareTable(table);
  const ids = (r) => Array.from(r.order, (i) => prep.ids[i]);
  assert.deepEqual(ids(rank(prep, values, 3, w, { min_area_ha: 9 })), ['s-a', 's-e']);
  assert.deepEqual(ids(rank(prep, values, 3, w, {}, 9)), ['s-a', 's-e'], 'profile minimum when the filter is unset');
  assert.deepEqual(ids(rank(prep, values, 3, w, { min_area_ha: 0 }, 9)), ['s-b', 's-a', 's-d', 's-e'], 'filter overrides profile');
  // NaN distance counts as infinitely far
  assert.deepEqual(ids(rank(prep, values, 3, w, { max_h2_km: 2 })), ['s-a', 's-d']);
  assert.deepEqual(ids(rank(prep, values, 3, w, { kind: ['brownfield'] })), ['s-b', 's-e']);
  assert.deepEqual(ids(rank(prep, values, 3, w, { ags: ['05315000', '05562014'] })), ['s-d', 's-e']);
  assert.deepEqual(ids(rank(prep, values, 3, w, { kreis: ['05111'] })), ['s-b', 's-a']);
  // fibre null counts as -1: excluded by any minimum, even 0
  assert.deepEqual(ids(rank(prep, values, 3, w, { min_fibre: 0 })), ['s-a', 's-d', 's-e']);
  const r = rank(prep, values, 3, w, { min_area_ha: 9, max_h2_km: 2 });
  assert.deepEqual(r.excluded, { min_area_ha: 2, max_h2_km: 2 });
  assert.equal(reasonOf(r, 1), 'min_area_ha');
  // the filters the API has beyond those: a maximum area, 5G, contamination
  assert.deepEqual(ids(rank(prep, values, 3, w, { max_area_ha: 10 })), ['s-b', 's-a', 's-d'], 'maximum, inclusive');
  // 5G null fails any minimum, as in Python
  assert.deepEqual(ids(rank(prep, values, 3, w, { min_5g: 0.5 })), ['s-b', 's-d', 's-e']);
  // contamination: non-brownfields (null, not_applicable) always pass
  assert.deepEqual(ids(rank(prep, values, 3, w, { contamination: ['none'] })), ['s-a', 's-d', 's-e']);
  assert.deepEqual(rank(prep, values, 3, w, { contamination: ['none'] }).excluded, { contamination: 1, no_data: 1 });
  // the profile default as the profile's parameters
  assert.deepEqual(ids(rank(prep, values, 3, w, {}, { min_area_ha: 9 })), ['s-a', 's-e']);
});

test('exclusions refuses a filter the registry does not have', () => {
  const prep = prepareTable(table);
  assert.throws(() => exclusions(prep, values, 3, { min_parking: 3 }), /unknown filter min_parking/);
  assert.doesNotThrow(() => exclusions(prep, values, 3, { min_parking: null, kind: [] }));
});

test('points sum to the score; whyBeats differences sum to the score difference', () => {
  const prep = prepareTable(table);
  const r = rank(prep, values, 3, w);
  for (const row of [0, 1, 3]) {
    const p = points(values, 3, w, row);
    const sum = Array.from(p).filter((x) => !Number.isNaN(x)).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - r.score[row]) < 1e-9);
  }
  const d = whyBeats(values, 3, w, 1, 0, ['x', 'y', 'z']);
  assert.ok(Math.abs(d.reduce((a, x) => a + x.diff, 0) - (r.score[1] - r.score[0])) < 1e-9);
  assert.ok(d[0].diff >= d[1].diff && d[1].diff >= d[2].diff, 'largest first');
});

test('band and weightVector', () => {
  assert.equal(band(NaN, [40, 50]), -1);
  assert.equal(band(39.9, [40, 50]), 0);
  assert.equal(band(40, [40, 50]), 1);
  assert.equal(band(100, [40, 50]), 2);
  assert.deepEqual(Array.from(weightVector(['a', 'b'], { b: 2 })), [0, 2]);
});

test('50,000 sites × 7 criteria: the order is by score, ties by site_id (the time is printed; bench/ui.py measures it)', () => {
  const n = 50000;
  const C = 7;
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const v = new Float64Array(n * (C + 1));
  for (let i = 0; i < v.length; i++) v[i] = rnd() < 0.03 ? NaN : Math.round(rnd() * 1000) / 1000;
  const cols = { site_id: [], kind: [], ags: [], kreis_ags: [], area_ha: [], fibre_share: [] };
  for (let i = 0; i < n; i++) {
    cols.site_id.push(`s-${String(i).padStart(6, '0')}`);
    cols.kind.push(i % 3 ? 'regional_plan' : 'brownfield');
    cols.ags.push('05111000');
    cols.kreis_ags.push('05111');
    cols.area_ha.push(1 + (i % 97));
    cols.fibre_share.push(i % 11 ? rnd() : null);
  }
  const prep = prepareTable({ count: n, columns: cols, filters: FILTERS });
  const ww = Float64Array.from([1, 2, 0.5, 4, 1, 1, 3]);
  rank(prep, v, C, ww); // warm up
  const t0 = performance.now();
  const runs = 10;
  let r;
  for (let k = 0; k < runs; k++) {
    ww[k % C] += 0.1;
    r = rank(prep, v, C, ww, { min_area_ha: 2 });
  }
  const ms = (performance.now() - t0) / runs;
  console.log(`# rank of 50,000 × 7: ${ms.toFixed(1)} ms per run`);
  assert.ok(r.order.length > 40000);
  for (let k = 1; k < r.order.length; k++) {
    const a = r.order[k - 1]; const b = r.order[k];
    assert.ok(r.score[a] > r.score[b] || (r.score[a] === r.score[b] && prep.ids[a] < prep.ids[b]));
  }
});
