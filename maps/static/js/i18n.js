// Strings and number formats. Every visible string comes from js/i18n/de.json or en.json
// (same keys). The markup carries the keys (uBO style): data-i18n="key" sets the text,
// data-i18n-attr="aria-label:key;title:key2" sets attributes. Text is always inserted as text.
//
// Pure part (no DOM, runs under node --test): fill, translator, formatters.
// DOM part: render(root, t), only called from the page.

export const LANGS = ['de', 'en'];
export const DEFAULT_LANG = 'de';
const LOCALE = { de: 'de-DE', en: 'en-GB' };

/** Fill {name} placeholders of a template with params (as text, never markup). */
export function fill(template, params = {}) {
  return String(template).replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/** The placeholder names of a template, sorted (for the parity test). */
export function placeholders(template) {
  return [...String(template).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
}

/** A translator for one table; unknown keys come back as the key (and are easy to spot). */
export function translator(table, lang) {
  const t = (key, params) => (key in table ? fill(table[key], params) : key);
  t.lang = lang;
  t.locale = LOCALE[lang] || lang;
  t.has = (key) => key in table;
  t.table = table;
  return t;
}

const fmtCache = new Map();
function nf(lang, opts) {
  const key = lang + JSON.stringify(opts);
  if (!fmtCache.has(key)) fmtCache.set(key, new Intl.NumberFormat(LOCALE[lang] || lang, opts));
  return fmtCache.get(key);
}

/** A number with a fixed number of decimals; '–' for missing. */
export function num(lang, x, digits = 1) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  return nf(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(x);
}

/** A value with a unit (Intl unit style where the unit exists: hectare, kilometer, percent). */
export function unit(lang, x, u, digits = 1) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (u === 'percent') {
    return nf(lang, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(x);
  }
  return nf(lang, { style: 'unit', unit: u, unitDisplay: 'short',
    minimumFractionDigits: digits, maximumFractionDigits: digits }).format(x);
}

/** A plain integer with grouping (12.345 / 12,345). */
export function int(lang, x) {
  return nf(lang, { maximumFractionDigits: 0 }).format(x);
}

/** Plural category key: `${base}.one` / `${base}.other` via Intl.PluralRules. */
export function pluralKey(lang, base, n) {
  return `${base}.${new Intl.PluralRules(LOCALE[lang] || lang).select(n)}`;
}

/** A collator for sorting names the way the language does (ä next to a). */
export function collator(lang) {
  return new Intl.Collator(LOCALE[lang] || lang, { sensitivity: 'base' });
}

// The provenance texts of the API (sources, licences, attributions of api/profiles and of each
// breakdown entry) are English. Proper names (Geobasis NRW, "dl-de/zero-2-0", "CC-BY-4.0") stay as
// they are; the service's own phrases are said in the page's language: each pattern below is one
// phrase of layers/ (provenance.py, demo.py, lep.py, transport*.py, measures), its captured parts
// go into the string `src.<key>` as {1}, {2} … Unknown text is shown unchanged.
const SOURCE_PHRASES = [
  ['demo_title', /NRW Site Finder demo generator \(SYNTHETIC, not official\)/g],
  ['demo_data', /NRW Site Finder demo data — SYNTHETIC, not official/g],
  ['demo_licence', /\(generated demo data\)/g],
  ['derived_title', /NRW Site Finder, derived from the candidate layers/g],
  ['derived_attr', /NRW Site Finder \(derived\)/g],
  ['derived_licence', /derived from the layers above; see each layer/g],
  ['funding_title', /GRW 2022–2027, JTF regions, 5-Standorte-Programm \(fact table\)/g],
  ['funding_attr', /NRW Site Finder fact table (\S+); each row names its source/g],
  ['facts_geometry', /^facts \(no third-party geometry\)$/g],
  ['facts', /^facts$/g],
  ['lep_facts', /positions approximate \(NRW Site Finder fact table\)/g],
  ['fact_table', /\(NRW Site Finder fact table\)/g],
  ['modified_subset', /modified: subset (.+?) in NRW \+ 10 km, reduced columns/g],
  ['modified_nrw', /modified: subset NRW \+ 10 km, reduced columns/g],
  ['subset_flag', /subset NRW \+ 10 km with a commercial flag/g],
  ['derived_db', /derived database, share-alike/g],
  ['generalised', /generalised \(coverage_simplify (\S+) m\)/g],
  ['h2_places', /place names: FNB Gas Kernnetz lists, geocoded by PyPSA-DE \(MIT; OSM-based, ODbL\); segments SYNTHETIC \(NRW Site Finder demo\)/g],
  ['site_polygon', /site polygon, area in EPSG:25832/g],
  ['share_cover', /polygons; share of the site's area they cover/g],
  ['share', /polygons; share of the site's area/g],
  ['grid', /100 m grid \(EPSG:25832\), area-weighted over the site/g],
  ['per_municipality', /per municipality \(statistics\), mixed by the site's area in each/g],
  ['per_kreis', /per Kreis \(statistics\), mixed by the site's area in each/g],
  ['per_ags', /per municipality or Kreis \(AGS\)/g],
  ['straight_line', /straight-line distance \(Luftlinie\) from the site's edge to the nearest feature/g],
  ['h2_lines', /schematic straight lines between Kernnetz places; distance from the site's edge \(straight line\)/g],
  ['sum_within', /sum of ([a-z_]+) within ([\d.]+) km of the site's centroid/g],
  ['cells_within', /sum of the grid cells whose centre is within ([\d.]+) km of the site's centroid/g],
  ['official_mapped', /official source file \(mapped columns\)/g],
  ['osm_extract', /OpenStreetMap extract/g],
  ['line_file', /pipeline line file/g],
];

/** A provenance text of the API in the language of `t` (see SOURCE_PHRASES); '' for none. */
export function sourceText(t, text) {
  if (text === null || text === undefined) return '';
  let out = String(text);
  for (const [key, re] of SOURCE_PHRASES) {
    const k = `src.${key}`;
    if (!t.has(k)) continue;
    out = out.replace(re, (...m) => {
      const groups = m.slice(1, -2);
      return fill(t(k), Object.fromEntries(groups.map((g, i) => [String(i + 1), g])));
    });
  }
  return out;
}

// -- DOM ---------------------------------------------------------------------------------

/** Localise a subtree: text of [data-i18n], attributes of [data-i18n-attr]. */
export function render(root, t) {
  const nodes = [];
  if (root.matches && root.matches('[data-i18n],[data-i18n-attr]')) nodes.push(root);
  nodes.push(...root.querySelectorAll('[data-i18n],[data-i18n-attr]'));
  for (const el of nodes) {
    const key = el.dataset.i18n;
    if (key) el.textContent = t(key);
    const attrs = el.dataset.i18nAttr;
    if (attrs) {
      for (const pair of attrs.split(';')) {
        const [name, k] = pair.split(':');
        if (name && k) el.setAttribute(name.trim(), t(k.trim()));
      }
    }
  }
}

/** Load a language table (relative to the page). */
export async function load(lang) {
  const r = await fetch(new URL(`./i18n/${lang}.json`, import.meta.url));
  if (!r.ok) throw new Error(`js/i18n/${lang}.json: ${r.status}`);
  return translator(await r.json(), lang);
}
