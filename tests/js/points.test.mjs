// map-points.js: colours, zoom stops and the hit-test grid of the custom point layer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rgba, interpolate, pointIndex } from '../../maps/static/js/map-points.js';

test('colours parse as premultiplication-ready 0..1 RGBA', () => {
  assert.deepEqual(rgba('#ff0000'), [1, 0, 0, 1]);
  assert.deepEqual(rgba('rgba(68, 68, 68, 0.45)'), [68 / 255, 68 / 255, 68 / 255, 0.45]);
});

test('zoom stops interpolate linearly and clamp at the ends', () => {
  const stops = [[5, 1.6], [7, 2.3], [9.99, 6]];
  assert.equal(interpolate(stops, 4), 1.6);
  assert.equal(interpolate(stops, 6), (1.6 + 2.3) / 2);
  assert.equal(interpolate(stops, 12), 6);
});

test('the grid finds the nearest point within the tolerance, and none outside it', () => {
  // a random cloud over NRW; the answer checked against a linear scan
  let seed = 7;
  const rnd = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
  const n = 5000;
  const lon = Float64Array.from({ length: n }, () => 5.9 + 3.5 * rnd());
  const lat = Float64Array.from({ length: n }, () => 50.3 + 2.2 * rnd());
  lat[17] = NaN; // a site without a point is never found
  const rows = Array.from({ length: n - 10 }, (_, k) => k + 10); // rows 0..9 not drawn
  const idx = pointIndex(lon, lat, rows);
  const mx = (x) => (180 + x) / 360;
  const my = (y) => (180 - (180 / Math.PI) * Math.log(Math.tan(Math.PI / 4 + (y * Math.PI) / 360))) / 360;
  for (let q = 0; q < 300; q++) {
    const px = mx(5.9 + 3.5 * rnd());
    const py = my(50.3 + 2.2 * rnd());
    const tol = 2e-5 * (1 + 20 * rnd());
    let best = -1;
    let bestD = tol * tol;
    rows.forEach((r, k) => {
      const d = (mx(lon[r]) - px) ** 2 + (my(lat[r]) - py) ** 2;
      if (d <= bestD) { bestD = d; best = k; }
    });
    assert.equal(idx.nearest(px, py, tol), best);
  }
  // positions relative to the origin, float32: sub-metre precision
  const k = 100;
  assert.ok(Math.abs(idx.pos[2 * k] + idx.origin[0] - mx(lon[rows[k]])) < 1e-9);
});
