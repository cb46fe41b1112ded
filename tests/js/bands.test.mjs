// bands.js: the score classes as api/ui/config serves them (maps/bands.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreBands } from '../../maps/static/js/bands.js';

const spec = { breaks: [40, 60], colors: ['#aa0000', '#00aa00', '#0000aa'], no_score: '#999999',
  labels: { de: ['niedrig (0–40)', 'mittel (40–60)', 'hoch (60–100)'], en: ['low (0–40)', 'medium (40–60)', 'high (60–100)'] },
  no_score_label: { de: 'nicht bewertet', en: 'not ranked' } };

test('class k holds breaks[k-1] ≤ score < breaks[k]; no score has none', () => {
  const b = scoreBands(spec);
  assert.deepEqual([0, 39.99, 40, 59.999, 60, 100].map(b.of), [0, 0, 1, 1, 2, 2]);
  for (const x of [NaN, null, undefined]) {
    assert.equal(b.of(x), -1);
    assert.equal(b.colorOf(x), '#999999');
  }
  assert.deepEqual([10, 50, 90].map(b.colorOf), ['#aa0000', '#00aa00', '#0000aa']);
});

test('ranges and labels per language; German when the language is unknown', () => {
  const b = scoreBands(spec);
  assert.deepEqual([0, 1, 2].map(b.range), [[0, 40], [40, 60], [60, 100]]);
  assert.equal(b.label(2, 'en'), 'high (60–100)');
  assert.equal(b.label(0, 'de'), 'niedrig (0–40)');
  assert.equal(b.label(1, 'fr'), 'mittel (40–60)');
  assert.equal(b.label(-1, 'en'), 'not ranked');
});

test('a config without valid bands is refused', () => {
  assert.throws(() => scoreBands(undefined), /score bands/);
  assert.throws(() => scoreBands({ ...spec, colors: ['#000000'] }), /score bands/);
});
