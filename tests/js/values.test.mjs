// decodeValues: the compact value array of api/sites/values (float64 km × n, then uint16 v·10⁴).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeValues } from '../../maps/static/js/api.js';

test('decodes k / 10⁴, 65535 as NaN, and the H2 km after the criteria', () => {
  const n = 2, C = 3;
  const buf = new ArrayBuffer(n * (8 + 2 * C));
  new Float64Array(buf, 0, n).set([1.25, NaN]);
  new Uint16Array(buf, 8 * n, n * C).set([10000, 0, 8947, 65535, 1, 5000]);
  const v = decodeValues(buf, C);
  assert.equal(v.length, n * (C + 1));
  assert.deepEqual(Array.from(v.slice(0, 4)), [1, 0, 0.8947, 1.25]);
  assert.ok(Number.isNaN(v[4]) && Number.isNaN(v[7]));
  assert.deepEqual([v[5], v[6]], [1 / 10000, 0.5]);
});

test('refuses a buffer of the wrong length', () => {
  assert.throws(() => decodeValues(new ArrayBuffer(13), 3), /unexpected length/);
});
