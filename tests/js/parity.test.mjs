// Bit-identical scores, the same order and the same exclusion reasons as geo/scoring.py, on a
// fixture written by tests/maps/test_js.py (NRW_PARITY_FIXTURE); skipped when run without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { prepareTable, rank, reasonOf } from '../../maps/static/js/scoring.js';

const path = process.env.NRW_PARITY_FIXTURE;
const f64 = (b64) => {
  const b = Buffer.from(b64, 'base64');
  return new Float64Array(b.buffer, b.byteOffset, b.length / 8);
};

test('scores, order and exclusions equal geo.scoring for every weight vector and filter', { skip: !path && 'no NRW_PARITY_FIXTURE' }, () => {
  const fx = JSON.parse(readFileSync(path, 'utf8'));
  const values = Float64Array.from(f64(fx.values));
  const prep = prepareTable({ columns: fx.columns, filters: fx.filters });
  for (const c of fx.cases) {
    const r = rank(prep, values, fx.C, Float64Array.from(c.weights), c.filters || {}, c.min_area_default ?? null);
    const want = f64(c.score);
    for (let i = 0; i < prep.n; i++) {
      const a = r.raw[i];
      const b = want[i];
      assert.ok(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)), `row ${i}: ${a} != ${b} (weights ${c.weights})`);
    }
    const what = `${c.weights} ${JSON.stringify(c.filters || {})}`;
    assert.deepEqual(Array.from(r.order, (i) => prep.ids[i]), c.order, `order for ${what}`);
    for (let i = 0; c.reasons && i < prep.n; i++) {
      assert.equal(reasonOf(r, i), c.reasons[i], `row ${i}: reason for ${what}`);
    }
  }
});
