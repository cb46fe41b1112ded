// Provenance texts of the API in the page's language (issue 18 §6): sourceText() of i18n.js.
// The expected German comes from the string table, the English inputs from the API's manifest
// and layers/provenance.py (as the demo snapshot serves them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { translator, sourceText } from '../../maps/static/js/i18n.js';

const root = fileURLToPath(new URL('../../maps/static/js/i18n/', import.meta.url));
const de = translator(JSON.parse(readFileSync(`${root}de.json`, 'utf8')), 'de');
const en = translator(JSON.parse(readFileSync(`${root}en.json`, 'utf8')), 'en');

test('the bare licence word "facts" is explained in both languages', () => {
  assert.equal(sourceText(de, 'facts'), 'Faktentabelle (Fakten aus öffentlichen Quellen, keine Lizenz erforderlich)');
  assert.match(sourceText(en, 'facts'), /^fact table \(.*no licence needed\)$/);
  assert.match(sourceText(de, 'facts (no third-party geometry)'), /^Faktentabelle \(.*keine Geometrie Dritter/);
});

test('licence identifiers and proper names stay as they are', () => {
  for (const s of ['dl-de/zero-2-0', 'dl-de/by-2-0', 'CC BY 4.0', 'Land NRW, LEP NRW', 'OpenFlights.org']) {
    assert.equal(sourceText(de, s), s);
    assert.equal(sourceText(en, s), s);
  }
  assert.equal(sourceText(de, 'CC0-1.0 (generated demo data)'), 'CC0-1.0 (erzeugte Demodaten)');
  assert.equal(sourceText(de, '© Land NRW (Geobasis NRW), DVG2 (STAND 2022-03-08), dl-de/zero-2-0; generalised (coverage_simplify 50 m)'),
    '© Land NRW (Geobasis NRW), DVG2 (STAND 2022-03-08), dl-de/zero-2-0; generalisiert (coverage_simplify 50 m)');
});

test('phrases with numbers keep them', () => {
  assert.equal(sourceText(de, "sum of capacity_mw within 15 km of the site's centroid"),
    'Summe von capacity_mw im Umkreis von 15 km um den Mittelpunkt der Fläche');
  assert.equal(sourceText(de, 'Deutsche Bahn AG (Haltestellendaten 2020); modified: subset FV/RV in NRW + 10 km, reduced columns (NRW Site Finder fact table)'),
    'Deutsche Bahn AG (Haltestellendaten 2020); geändert: Auswahl FV/RV in NRW + 10 km, weniger Spalten (Faktentabelle des NRW Site Finder)');
});

test('every English phrase of the demo snapshot is said in German', () => {
  const english = [
    'NRW Site Finder demo generator (SYNTHETIC, not official)', 'NRW Site Finder demo data — SYNTHETIC, not official',
    'derived from the layers above; see each layer', "polygons; share of the site's area they cover",
    "straight-line distance (Luftlinie) from the site's edge to the nearest feature",
    '100 m grid (EPSG:25832), area-weighted over the site', 'per municipality or Kreis (AGS)',
    'GRW 2022–2027, JTF regions, 5-Standorte-Programm (fact table)',
    'NRW Site Finder fact table layers/facts/funding_regions.csv; each row names its source',
  ];
  for (const s of english) {
    const out = sourceText(de, s);
    assert.notEqual(out, s, s);
    assert.doesNotMatch(out, /\b(the|of|not official|fact table|derived|share)\b/, out);
    assert.doesNotMatch(sourceText(en, s), /\b(der|die|des|Fläche|nicht amtlich|Faktentabelle)\b/, s);
  }
});

test('unknown text, empty values and markup pass unchanged (as text)', () => {
  assert.equal(sourceText(de, null), '');
  assert.equal(sourceText(de, undefined), '');
  assert.equal(sourceText(de, '<b>x</b> facts'), '<b>x</b> facts');
});
