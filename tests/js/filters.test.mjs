// filters.js: typed numbers in either language, values shown back, and every registry filter
// through the permalink by its API name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOTHING, emptyFilters, parseNumber, readValue, showValue, fromTicked, encodeFilters, decodeFilters }
  from '../../maps/static/js/filters.js';
import { SPECS } from './filter-registry.mjs';

const spec = (name) => SPECS.find((f) => f.name === name);

test('a decimal comma and a decimal point are the same number; never a thousands separator', () => {
  assert.equal(parseNumber('20,5'), 20.5);
  assert.equal(parseNumber('20.5'), 20.5);
  assert.equal(parseNumber(' 20,5 '), 20.5);
  assert.equal(parseNumber('8'), 8);
  assert.equal(parseNumber(',5'), 0.5);
  assert.equal(parseNumber('20,'), 20);
  assert.equal(parseNumber(''), null);
  assert.equal(parseNumber('   '), null);
  for (const bad of ['1.000,5', '1,000.5', '2,0,5', 'abc', '-3', '20 ha', '1e3', '.', ',', '+4']) {
    assert.ok(Number.isNaN(parseNumber(bad)), bad);
  }
});

test('readValue: numbers as typed, shares in %, bad input an error key', () => {
  assert.deepEqual(readValue(spec('max_h2_km'), '20,5'), { value: 20.5 });
  assert.deepEqual(readValue(spec('min_area_ha'), ''), { value: null });
  assert.deepEqual(readValue(spec('min_fibre'), '20,5'), { value: 0.205 });
  assert.deepEqual(readValue(spec('min_5g'), '50'), { value: 0.5 });
  assert.deepEqual(readValue(spec('min_5g'), '100'), { value: 1 });
  assert.deepEqual(readValue(spec('min_5g'), '101'), { error: 'filters.invalid_share' });
  assert.deepEqual(readValue(spec('max_area_ha'), 'zwanzig'), { error: 'filters.invalid_number' });
  assert.deepEqual(readValue(spec('max_area_ha'), '-1'), { error: 'filters.invalid_number' });
});

test('showValue writes the language’s decimal mark and shares in %', () => {
  assert.equal(showValue(spec('max_h2_km'), 20.5, 'de'), '20,5');
  assert.equal(showValue(spec('max_h2_km'), 20.5, 'en'), '20.5');
  assert.equal(showValue(spec('min_fibre'), 0.205, 'de'), '20,5');
  assert.equal(showValue(spec('min_area_ha'), 8, 'de'), '8');
  assert.equal(showValue(spec('min_area_ha'), null, 'de'), '');
  for (const lang of ['de', 'en']) {
    for (const v of [0, 0.1, 0.205, 0.333333, 1]) {
      assert.equal(readValue(spec('min_5g'), showValue(spec('min_5g'), v, lang)).value, v, `${lang} ${v}`);
    }
  }
});

test('ticked choices: all = no filter, none = nothing passes', () => {
  const k = spec('contamination');
  assert.deepEqual(fromTicked(k, [...k.choices]), []);
  assert.deepEqual(fromTicked(k, []), [NOTHING]);
  assert.deepEqual(fromTicked(k, ['none', 'remediated']), ['none', 'remediated']);
});

test('every registry filter round-trips through the query by its API name', () => {
  const set = { min_area_ha: 20, max_area_ha: 80.5, max_h2_km: 5.5, kind: ['brownfield', 'lep'], ags: ['05562014'],
    kreis: ['05562'], min_fibre: 0.4, min_5g: 0.5, contamination: ['none', 'remediated'] };
  assert.deepEqual(Object.keys(set).sort(), SPECS.map((f) => f.name).sort(), 'the case covers every filter');
  const q = new URLSearchParams();
  encodeFilters(q, set, SPECS);
  assert.equal(q.get('min_5g'), '0.5');
  assert.equal(q.get('contamination'), 'none,remediated');
  assert.deepEqual([...q.keys()], SPECS.map((f) => f.name), 'registry order');
  assert.deepEqual(decodeFilters(new URLSearchParams(q.toString()), SPECS), set);
  for (const f of SPECS) {
    const one = new URLSearchParams();
    encodeFilters(one, { ...emptyFilters(SPECS), [f.name]: set[f.name] }, SPECS);
    assert.deepEqual(decodeFilters(one, SPECS), { [f.name]: set[f.name] }, f.name);
  }
});

test('unset filters and all choices stay out of the query; NOTHING survives', () => {
  const q = new URLSearchParams();
  encodeFilters(q, { ...emptyFilters(SPECS), kind: ['lep', 'brownfield', 'regional_plan'] }, SPECS);
  assert.equal(q.toString(), '');
  const n = new URLSearchParams();
  encodeFilters(n, { kind: [NOTHING] }, SPECS);
  assert.deepEqual(decodeFilters(n, SPECS), { kind: [NOTHING] });
});

test('unknown filters and bad values are ignored', () => {
  const q = new URLSearchParams('max_protected_share=0.2&min_5g=2&max_area_ha=-3&min_fibre=abc&kind=none,lep,lep'
    + '&contamination=bogus&min_area_ha=12');
  assert.deepEqual(decodeFilters(q, SPECS), { kind: ['lep'], min_area_ha: 12 });
  assert.deepEqual(decodeFilters(q, undefined), {});
});
