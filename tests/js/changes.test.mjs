// The "Changes" view's and the inquiries' pure parts: which snapshot to compare with, the scope,
// the overlay, the score change; the body that saves the page as an inquiry and the state an
// inquiry restores (through the permalink), the last look kept per inquiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boundsOf, changesQuery, defaultSince, fieldChanges, olderThanLive, overlayData, overlayLayers, scopeOf,
  scoreChange, signed, splitChanged,
} from '../../maps/static/js/changes-data.js';
import {
  inquiryBody, markData, markSeen, matchesQuery, pruneSeen, readSeen, restoreOf, SEEN_KEY,
} from '../../maps/static/js/inquiry-data.js';

const SNAPS = { current: 'c', snapshots: [{ id: 'd', live: false }, { id: 'c', live: true }, { id: 'b', live: false }, { id: 'a', live: false }] };

test('the default "since" is the live snapshot\'s predecessor; only older snapshots are choices', () => {
  assert.equal(defaultSince(SNAPS), 'b');
  assert.deepEqual(olderThanLive(SNAPS).map((s) => s.id), ['b', 'a']);
  assert.equal(defaultSince({ snapshots: [{ id: 'x', live: true }] }), null);
  assert.equal(defaultSince(null), null);
});

test('the scope is exactly one Kreis or one municipality of the place filter', () => {
  assert.deepEqual(scopeOf({ ags: ['05112000'], kreis: [] }), { ags: '05112000' });
  assert.deepEqual(scopeOf({ ags: [], kreis: ['05158'] }), { kreis: '05158' });
  assert.equal(scopeOf({ ags: ['05112000', '05113000'], kreis: [] }), null);
  assert.equal(scopeOf({ ags: ['05112000'], kreis: ['05158'] }), null);
  assert.equal(scopeOf({}), null);
  assert.equal(changesQuery('b', { kreis: '05158' }).toString(), 'from=b&kreis=05158');
  assert.equal(changesQuery('b', null).toString(), 'from=b');
});

const DOC = {
  added: [{ site_id: 'n1', name: 'Neu', lon: 7.1, lat: 51.2 }, { site_id: 'n2', lon: null, lat: null }],
  removed: [{ site_id: 'r1', name: 'Weg', lon: 6.5, lat: 50.9 }],
  changed: [
    { site_id: 's1', changes: { area_ha: { from: 10, to: 12.5 }, marketable: { from: false, to: true } },
      score: { balanced: { from: 50, to: 53.25, criteria: [{ criterion: 'area', delta: 2 }, { criterion: 'availability', delta: 1.25 },
        { criterion: 'h2', delta: 0.1 }, { criterion: 'grid', delta: -0.1 }] } } },
    { site_id: 's2', rekeyed_from: 'old2', changes: {}, score: {} },
  ],
};

test('the overlay has one point per added and removed site with a position, told apart by change', () => {
  const fc = overlayData(DOC);
  assert.deepEqual(fc.features.map((f) => [f.properties.site_id, f.properties.change]), [['r1', 'removed'], ['n1', 'added']]);
  assert.deepEqual(fc.features[1].geometry.coordinates, [7.1, 51.2]);
  assert.deepEqual(boundsOf(fc), [6.5, 50.9, 7.1, 51.2]);
  assert.equal(boundsOf(overlayData({})), null);
  const layers = overlayLayers(['Noto Sans Regular']);
  assert.deepEqual(layers.map((l) => l.id), ['changes-removed', 'changes-removed-x', 'changes-added']);
  assert.ok(layers.every((l) => l.source === 'changes'));
});

test('a changed site: its fields from → to and its score change in one profile with the top criteria', () => {
  assert.deepEqual(fieldChanges(DOC.changed[0]), [{ field: 'area_ha', from: 10, to: 12.5 }, { field: 'marketable', from: false, to: true }]);
  const s = scoreChange(DOC.changed[0], 'balanced');
  assert.equal(s.delta, 3.3); // 53.25 − 50, one decimal
  assert.deepEqual(s.criteria.map((c) => c.criterion), ['area', 'availability', 'h2']);
  assert.equal(scoreChange(DOC.changed[0], 'hydrogen'), null);
  const { changed, rekeyed } = splitChanged(DOC);
  assert.deepEqual([changed.map((c) => c.site_id), rekeyed.map((c) => c.site_id)], [['s1'], ['s2']]);
  assert.equal(signed(2.5), '+2.5');
  assert.equal(signed(-1), '−1.0');
  assert.equal(signed(0), '0.0');
  assert.equal(signed(null), '–');
});

const SPECS = [
  { name: 'min_area_ha', kind: 'min' },
  { name: 'kind', kind: 'any_of', choices: ['brownfield', 'lep', 'regional_plan'] },
  { name: 'ags', kind: 'any_of' },
  { name: 'available_by', kind: 'max', format: 'month' },
];

test('the inquiry body: profile, the weights and year that differ, the set filters by API name, thresholds', () => {
  const s = { profile: 'logistics', weights: { area: 3, rail: 1 }, year: 2030 };
  const filters = { min_area_ha: 5, kind: ['lep'], ags: [], available_by: '2027-06' };
  const body = inquiryBody(s, filters, SPECS, { weights: { area: 1, rail: 1 }, year: 2032 },
    { name: '  Halle ', note: 'vertraulich', minScore: '60', topN: '' });
  assert.deepEqual(body, {
    name: 'Halle', note: 'vertraulich', profile: 'logistics', weights: { area: 3 }, h2_year: 2030,
    filters: { min_area_ha: 5, kind: ['lep'], available_by: '2027-06' }, min_score: 60,
  });
  const plain = inquiryBody({ profile: 'balanced', weights: { area: 1 }, year: 2032 }, { kind: ['-'] }, SPECS,
    { weights: { area: 1 }, year: 2032 }, { name: 'x', topN: '10' });
  assert.deepEqual(plain, { name: 'x', note: '', profile: 'balanced', top_n: 10 }); // "nothing ticked" has no API form
});

test('opening an inquiry restores profile, every weight, year and every filter from its ranking_params', () => {
  const profiles = { logistics: { name: 'logistics', weights: { area: 1, rail: 2 } } };
  const inquiry = { profile: 'logistics', ranking_params: { profile: 'logistics', w_area: 3, h2_year: 2030, kind: 'lep,brownfield', available_by: '2027-06', bogus: 1 } };
  const known = { profiles: ['logistics'], criteria: ['area', 'rail', 'h2'], years: [2025, 2032], filters: SPECS };
  const got = restoreOf(inquiry, known, (n) => profiles[n], () => 2032);
  assert.deepEqual(got, {
    profile: 'logistics', weights: { area: 3, rail: 2, h2: 0 }, year: 2030,
    filters: { min_area_ha: null, kind: ['lep', 'brownfield'], ags: [], available_by: '2027-06' },
  });
  const noYear = restoreOf({ profile: 'logistics', ranking_params: { profile: 'logistics' } }, known, (n) => profiles[n], () => 2031);
  assert.equal(noYear.year, 2031);
});

test('the last look per inquiry is kept, read back, pruned, and sent as ?since=', () => {
  const mem = new Map();
  const storage = { getItem: (k) => mem.get(k) ?? null, setItem: (k, v) => mem.set(k, v) };
  assert.deepEqual(readSeen(storage), {});
  let seen = markSeen(storage, {}, 'i1', 'snapA', '2026-01-01T00:00:00Z');
  seen = markSeen(storage, seen, 'i2', 'snapB', '2026-01-02T00:00:00Z');
  assert.deepEqual(readSeen(storage), seen);
  assert.equal(matchesQuery(seen, 'i1').toString(), 'since=snapA');
  assert.equal(matchesQuery(seen, 'zz').toString(), '');
  seen = pruneSeen(storage, seen, ['i2']);
  assert.deepEqual(Object.keys(JSON.parse(mem.get(SEEN_KEY))), ['i2']);
  mem.set(SEEN_KEY, '[1,2]');
  assert.deepEqual(readSeen(storage), {});
  mem.set(SEEN_KEY, '{not json');
  assert.deepEqual(readSeen(storage), {});
});

test('newly matching sites the page knows become marks at their points', () => {
  const prep = { rowOf: new Map([['a', 0], ['b', 1]]), columns: { lon: [7, NaN], lat: [51, 50] } };
  const fc = markData(['a', 'b', 'unknown'], prep);
  assert.deepEqual(fc.features.map((f) => [f.properties.site_id, f.geometry.coordinates]), [['a', [7, 51]]]);
});
