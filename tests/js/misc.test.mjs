// topojson.js decoding, shortlist CSV in both number conventions, GeoJSON polygon pick.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { features, clipRing } from '../../maps/static/js/topojson.js';
import { csv } from '../../maps/static/js/shortlist.js';

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

test('CSV: German uses ; and decimal comma, English , and point; text is quoted and defused', () => {
  const rows = [['name', 'score'], ['Brache "Nord"; Ost', 72.25], ['=cmd', null]];
  const de = csv(rows, 'de');
  assert.ok(de.startsWith('\ufeff'));
  assert.equal(de.slice(1), 'name;score\r\n"Brache ""Nord""; Ost";72,25\r\n\'=cmd;\r\n');
  assert.equal(csv(rows, 'en').slice(1), 'name,score\r\n"Brache ""Nord""; Ost",72.25\r\n\'=cmd,\r\n');
});
