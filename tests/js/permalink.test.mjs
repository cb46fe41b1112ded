// permalink.js: the query string round-trips the shareable state; defaults stay out of the URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, decode, apiQuery } from '../../maps/static/js/permalink.js';
import { SPECS } from './filter-registry.mjs';

const known = { profiles: ['balanced', 'hydrogen'], criteria: ['area', 'h2', 'fibre'], years: [2025, 2032], langs: ['de', 'en'],
  filters: SPECS };
const defaults = { profile: 'balanced', weights: { area: 1, h2: 1, fibre: 1 }, year: 2032, lang: 'de', filters: SPECS };

test('round trip of a full view', () => {
  const s = {
    profile: 'hydrogen', weights: { area: 2.5, h2: 4, fibre: 1 }, year: 2028,
    filters: { min_area_ha: 20, max_area_ha: 90, max_h2_km: 5.5, kind: ['brownfield'], ags: ['05562014', '05913000'], kreis: ['05562'],
      min_fibre: 0.4, min_5g: 0.25, contamination: ['none', 'remediated'] },
    sel: 'bf-BF-000731', cmp: ['a-1', 'b-2'], shortlist: ['bf-BF-000731', 'x-9'], lang: 'en',
  };
  const q = encode(s, defaults);
  const d = decode(`?${q}`, known);
  assert.equal(d.profile, 'hydrogen');
  assert.deepEqual(d.weights, { area: 2.5, h2: 4 }, 'only weights that differ from the defaults are written');
  assert.equal(d.year, 2028);
  assert.deepEqual(d.filters, s.filters);
  assert.equal(d.sel, s.sel);
  assert.deepEqual(d.cmp, s.cmp);
  assert.deepEqual(d.shortlist, s.shortlist);
  assert.equal(d.lang, 'en');
  assert.equal(encode({ ...s, ...d, weights: { ...defaults.weights, ...d.weights } }, defaults), q, 'stable');
});

test('defaults give an empty query', () => {
  const q = encode({ profile: 'balanced', weights: { area: 1, h2: 1, fibre: 1 }, year: 2032, lang: 'de',
    filters: { min_area_ha: null, max_h2_km: null, min_fibre: null, kind: [], ags: [], kreis: [] }, sel: null, cmp: [], shortlist: [] }, defaults);
  assert.equal(q, '');
  assert.equal(encode({ filters: { kind: ['lep', 'brownfield', 'regional_plan'] } }, defaults), '', 'all kinds = no kind filter');
});

test('invalid and unknown values are dropped', () => {
  const d = decode('?profile=nope&w_area=-1&w_h2=abc&w_bogus=3&h2_year=2040&min_fibre=2&max_h2_km=&cmp=a,b,c,d,e,a&lang=fr'
    + '&max_floodplain_share=0.1&min_5g=1.5', known);
  assert.deepEqual(d, { cmp: ['a', 'b', 'c', 'd'] });
});

test('the API query carries profile, every weight and the year', () => {
  const q = apiQuery({ profile: 'digital', weights: { area: 0.5, h2: 0 }, year: 2030 }, ['area', 'h2']);
  assert.equal(q.toString(), 'profile=digital&w_area=0.5&w_h2=0&h2_year=2030');
});

test('the fragment (camera) is not touched', () => {
  const url = new URL('http://x/?profile=hydrogen#map=8/51.4/7.3');
  url.search = encode({ profile: 'balanced' }, defaults);
  assert.equal(url.href, 'http://x/#map=8/51.4/7.3');
});
