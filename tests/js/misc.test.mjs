// topojson.js decoding, the shortlist's export URL, GeoJSON polygon pick.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { features, clipRing } from '../../maps/static/js/topojson.js';
import { exportUrl } from '../../maps/static/js/shortlist.js';

test('TopoJSON: quantised delta arcs decode to closed rings; reversed arcs are flipped', () => {
  const topo = {
    type: 'Topology', transform: { scale: [1, 1], translate: [0, 0] },
    objects: { countries: { type: 'GeometryCollection', geometries: [
      { type: 'Polygon', id: '528', properties: { name: 'NL' }, arcs: [[0, 1]] },
      { type: 'Polygon', id: '999', properties: { name: 'far' }, arcs: [[2]] },
    ] } },
    arcs: [[[0, 0], [2, 0], [0, 2]], [[2, 2], [-2, 0], [0, -2]], [[50, 50], [1, 0], [0, 1], [-1, 0], [0, -1]]],
  };
  const f = features(topo, 'countries', [-1, -1, 10, 10]);
  assert.equal(f.length, 1);
  assert.equal(f[0].properties.id, '528');
  assert.deepEqual(f[0].geometry.coordinates[0], [[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]);
});

test('clipRing keeps the part inside the box and closes it', () => {
  const r = clipRing([[-1, -1], [3, -1], [3, 3], [-1, 3], [-1, -1]], [0, 0, 2, 2]);
  assert.deepEqual(r[0], r[r.length - 1]);
  for (const [x, y] of r) assert.ok(x >= 0 && x <= 2 && y >= 0 && y <= 2);
});

test('exportUrl: the ids, profile, every weight, the horizon, language and name', () => {
  const s = { profile: 'hydrogen', weights: { h2: 5, fibre: 0, area: 0.5 }, year: 2030 };
  const url = exportUrl('csv', ['bf-1', 'rp-2'], s, ['area', 'h2', 'fibre', 'grid'], 'de', 'Merkliste');
  const [path, query] = url.split('?');
  assert.equal(path, 'api/exports/sites.csv');
  const q = new URLSearchParams(query);
  assert.equal(q.get('ids'), 'bf-1,rp-2');
  assert.deepEqual([q.get('profile'), q.get('w_h2'), q.get('w_fibre'), q.get('w_area'), q.get('w_grid')],
    ['hydrogen', '5', '0', '0.5', null]);
  assert.deepEqual([q.get('h2_year'), q.get('lang'), q.get('name')], ['2030', 'de', 'Merkliste']);
});
