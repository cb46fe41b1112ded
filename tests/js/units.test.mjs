// Indicator values formatted by their declared unit (js/units.js), in German and English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { translator } from '../../maps/static/js/i18n.js';
import { formatUnit, formatBySpec, specLabel, specMap } from '../../maps/static/js/units.js';
import { sectorSlug } from '../../maps/static/js/context.js';

const root = fileURLToPath(new URL('../../maps/static/js/i18n/', import.meta.url));
const tables = Object.fromEntries(['de', 'en'].map((l) => [l, translator(JSON.parse(readFileSync(`${root}${l}.json`, 'utf8')), l)]));
const de = tables.de;
const en = tables.en;
const sp = (s) => s.replace(/[\u00a0\u202f]/g, ' ');

test('every declared unit in both languages', () => {
  const cases = [
    ['km', 2.345, '2,3 km', '2.3 km'],
    ['ha', 12.34, '12,3 ha', '12.3 ha'],
    ['share', 0.825, '83 %', '83%'],
    ['MW', 1234.56, '1.234,6 MW', '1,234.6 MW'],
    ['GWh/a', 23.98, '24,0 GWh/a', '24.0 GWh/a'],
    ['persons', 4123456.4, '4.123.456 Personen', '4,123,456 people'],
    ['kV', 380, '380 kV', '380 kV'],
    ['year', 2031, '2031', '2031'],
  ];
  for (const [u, v, wantDe, wantEn] of cases) {
    assert.equal(sp(formatUnit(de, u, v)), wantDe, `${u} de`);
    assert.equal(sp(formatUnit(en, u, v)), wantEn, `${u} en`);
  }
});

test('years have no thousands separator; missing values say so; unknown units keep decimals', () => {
  assert.equal(formatUnit(de, 'year', 2032), '2032');
  assert.equal(formatUnit(de, 'km', null), 'keine Daten');
  assert.equal(formatUnit(en, 'MW', NaN), 'no data');
  assert.equal(formatUnit(en, null, 3.14159, 3), '3.142');
  assert.equal(formatUnit(en, 'km', 2.345, 0), '2 km'); // never more decimals than declared
});

test('by spec: codes by their labels, flags as yes/no, numbers by unit', () => {
  const spec = { name: 'rail_target', type: 'str', unit: null, codes: { terminal: ['Terminal', 'terminal'] } };
  assert.equal(formatBySpec(de, spec, 'terminal'), 'Terminal');
  assert.equal(formatBySpec(en, spec, 'other'), 'other');
  assert.equal(formatBySpec(de, { name: 'x', type: 'bool' }, true), 'ja');
  assert.equal(sp(formatBySpec(en, { name: 'substation_voltage_kv', type: 'int', unit: 'kV' }, 110)), '110 kV');
  assert.equal(sp(formatBySpec(de, { name: 'protected_share', unit: 'share', decimals: 3 }, 0.5)), '50 %');
});

test('declared labels lose their unit in brackets; specs are found by name', () => {
  const spec = { name: 'renewables_mw_15km', label_de: 'Wind und Solar im Umkreis von 15 km (MW)', label_en: 'Wind and solar within 15 km (MW)' };
  assert.equal(specLabel(spec, 'de'), 'Wind und Solar im Umkreis von 15 km');
  assert.equal(specLabel(spec, 'en'), 'Wind and solar within 15 km');
  assert.equal(specMap([{ name: 'renewables', indicator_specs: [spec] }]).get('renewables_mw_15km'), spec);
  assert.equal(specLabel(undefined, 'de'), '');
});

test('every Hotmaps sector has a word in both languages', () => {
  const sectors = ['Chemical industry', 'Non-metallic mineral products', 'Iron and steel', 'Paper and printing',
    'Cement', 'Glass', 'Non-ferrous metals', 'Refineries'];
  for (const s of sectors) for (const t of [de, en]) assert.ok(t.has(`sector.${sectorSlug(s)}`), s);
});
