// The Flächenbilanz view's pure parts: quantile classes, zero and missing kept apart, colours,
// legend texts in the page's number format, download links, chart bars, take-up per snapshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AVAILABILITY_PARTS, NONE, RAMP, ZERO, bars, classBreaks, classColors, classOf, downloadLinks, fillColor, formatFigure as fmt,
  legendRows, reserveLayers, takeupSeries,
} from '../../maps/static/js/reserves-data.js';

test('five quantile classes of the positive values, bounds that occur, zero and missing apart', () => {
  const v = [0, null, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, undefined];
  const c = classBreaks(v);
  // 10 positive values, 2 per class (by hand)
  assert.deepEqual(c, [{ lo: 1, hi: 2 }, { lo: 3, hi: 4 }, { lo: 5, hi: 6 }, { lo: 7, hi: 8 }, { lo: 9, hi: 10 }]);
  assert.deepEqual([1, 2, 2.5, 10, 11].map((x) => classOf(x, c)), [0, 0, 1, 4, 4]);
  assert.equal(classOf(0, c), ZERO);
  assert.equal(classOf(null, c), NONE);
  assert.equal(classOf(Number.NaN, c), NONE);
});

test('repeated values merge classes; no positive value gives no class', () => {
  assert.deepEqual(classBreaks([1, 1, 1, 1, 2]), [{ lo: 1, hi: 1 }, { lo: 2, hi: 2 }]);
  assert.deepEqual(classBreaks([0, null, 0]), []);
  assert.deepEqual(classColors(5), RAMP);
  assert.deepEqual(classColors(2), [RAMP[0], RAMP[4]]);
  const fc = fillColor(2);
  assert.equal(fc[0], 'match');
  assert.ok(fc.includes(RAMP[4]) && !fc.includes(RAMP[2]));
});

test('figures in the page\'s number format: German decimal comma, English point', () => {
  const sp = (x) => x.replace(/[\u00a0\u202f ]/g, '\u00a0'); // Intl's spaces vary by ICU version
  const formatFigure = (...a) => sp(fmt(...a));
  assert.equal(formatFigure('de', 'ha', 1234.56), '1.234,6\u00a0ha');
  assert.equal(formatFigure('en', 'ha', 1234.56), '1,234.6\u00a0ha');
  assert.equal(formatFigure('de', 'share', 0.1164), '12\u00a0%');
  assert.equal(formatFigure('en', 'share', 0.1164), '12%');
  assert.equal(formatFigure('de', 'count', 1234), '1.234');
  assert.equal(formatFigure('de', 'ha_per_year', 6.4386), '6,4\u00a0ha/a');
  assert.equal(formatFigure('de', 'ha', null), '–');
  const rows = legendRows('de', 'ha', [{ lo: 0.5, hi: 2.25 }, { lo: 3, hi: 10 }]);
  assert.deepEqual(rows.slice(0, 2).map((r) => [r.color, sp(r.from), sp(r.to)]),
    [[RAMP[0], '0,5\u00a0ha', '2,3\u00a0ha'], [RAMP[4], '3,0\u00a0ha', '10,0\u00a0ha']]);
  assert.deepEqual(rows.slice(2).map((r) => r.key), ['reserves.legend_zero', 'reserves.legend_none']);
});

test('downloads of the chosen level in the page\'s language', () => {
  assert.deepEqual(downloadLinks('kreis', 'en'), {
    csv: 'api/statistics/reserves.csv?level=kreis&lang=en', xlsx: 'api/statistics/reserves.xlsx?level=kreis&lang=en',
  });
});

test('chart bars: the unit\'s figures, scaled to the largest; take-up per snapshot oldest first', () => {
  const u = { available_now_ha: 2, available_1y_ha: 0, available_later_ha: 8, available_unknown_ha: null };
  const b = bars(u, AVAILABILITY_PARTS);
  assert.deepEqual(b.map((r) => [r.figure, r.value, r.share]),
    [['available_now_ha', 2, 0.25], ['available_1y_ha', 0, 0], ['available_later_ha', 8, 1], ['available_unknown_ha', null, 0]]);
  const docs = [
    { snapshot: 'c', created: '2026-03-01', units: [{ key: 'k', takeup_ha: 3, takeup_ha_per_year: 6 }] },
    { snapshot: 'a', created: '2025-01-01', units: [{ key: 'k', takeup_ha: null }] },
    { snapshot: 'b', created: '2025-09-01', units: [{ key: 'k', takeup_ha: 1.5, takeup_ha_per_year: 2 }, { key: 'x', takeup_ha: 9 }] },
  ];
  assert.deepEqual(takeupSeries(docs, 'k').map((s) => [s.snapshot, s.value]), [['b', 1.5], ['c', 3]]);
});

test('the choropleth layers are hidden at first, one fill and outline per level, read feature-state', () => {
  const ls = reserveLayers();
  assert.deepEqual(ls.map((l) => l['source-layer']), ['municipalities', 'kreise', 'municipalities', 'kreise']);
  assert.ok(ls.every((l) => l.layout.visibility === 'none' && l.source === 'nrw'));
  assert.match(JSON.stringify(ls[0].paint), /feature-state.*rc/);
});
