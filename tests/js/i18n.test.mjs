// The two string tables have the same keys and placeholders; every key the page uses exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fill, placeholders, translator, num, unit, pluralKey } from '../../maps/static/js/i18n.js';

const root = fileURLToPath(new URL('../../maps/static/', import.meta.url));
const de = JSON.parse(readFileSync(`${root}js/i18n/de.json`, 'utf8'));
const en = JSON.parse(readFileSync(`${root}js/i18n/en.json`, 'utf8'));

test('de.json and en.json have the same keys', () => {
  assert.deepEqual(Object.keys(de).sort(), Object.keys(en).sort());
});

test('each key has the same placeholders in both languages', () => {
  for (const k of Object.keys(de)) assert.deepEqual(placeholders(de[k]), placeholders(en[k]), k);
});

test('no empty strings', () => {
  for (const [k, v] of [...Object.entries(de), ...Object.entries(en)]) assert.ok(String(v).trim(), k);
});

test('every data-i18n key in the pages exists', () => {
  for (const page of ['index.html', 'expose.html']) {
    let html;
    try { html = readFileSync(`${root}${page}`, 'utf8'); } catch { continue; }
    for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) assert.ok(m[1] in de, `${page}: ${m[1]}`);
    for (const m of html.matchAll(/data-i18n-attr="([^"]+)"/g)) {
      for (const pair of m[1].split(';')) assert.ok(pair.split(':')[1] in de, `${page}: ${pair}`);
    }
  }
});

test('every literal t(...) key in the modules exists', () => {
  const dir = `${root}js/`;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.js'))) {
    const src = readFileSync(dir + f, 'utf8');
    for (const m of src.matchAll(/\bt\('([a-z0-9_.]+)'/g)) assert.ok(m[1] in de, `${f}: ${m[1]}`);
  }
});

test('fill inserts text, not markup; formats follow the language', () => {
  assert.equal(fill('a {x} b', { x: '<i>' }), 'a <i> b');
  const t = translator({ k: 'Rang {rank}' }, 'de');
  assert.equal(t('k', { rank: 3 }), 'Rang 3');
  assert.equal(t('missing'), 'missing');
  assert.equal(num('de', 1234.5, 1), '1.234,5');
  assert.equal(num('en', 1234.5, 1), '1,234.5');
  assert.match(unit('de', 12.34, 'hectare', 1), /^12,3\s?ha$/);
  assert.match(unit('de', 0.825, 'percent', 0), /^83\s?%$/);
  assert.equal(pluralKey('de', 'ranking.count', 1), 'ranking.count.one');
  assert.equal(pluralKey('en', 'ranking.count', 2), 'ranking.count.other');
});

test('the German text in the markup is the table text (no drift, no flash of other text)', () => {
  for (const page of ['index.html', 'expose.html']) {
    const html = readFileSync(`${root}${page}`, 'utf8');
    for (const m of html.matchAll(/<\w+[^>]*data-i18n="([^"]+)"[^>]*>([^<]*)</g)) {
      const text = m[2].trim().replace(/&amp;/g, '&');
      if (text) assert.equal(text, de[m[1]].trim(), `${page}: ${m[1]}`);
    }
  }
});
