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
