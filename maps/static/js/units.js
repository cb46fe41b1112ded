// Indicator values formatted by the unit their criterion declares (GET api/profiles →
// criteria[].indicator_specs: name, type, unit, labels, decimals, codes), not guessed from the
// indicator's name. Pure (no DOM): runs under node --test.

import { num, unit, int } from './i18n.js';

const NBSP = '\u00a0';
// Decimals shown per unit (at most the declared ones): the stored precision is finer than a
// reader needs (a distance to the metre, a share to 0.1 %).
export const UNIT_DIGITS = { km: 1, ha: 1, share: 0, MW: 1, 'GWh/a': 1, persons: 0, kV: 0, year: 0 };

/** name → indicator spec, from the criteria of api/profiles. */
export function specMap(criteria) {
  const out = new Map();
  for (const c of criteria || []) for (const s of c.indicator_specs || []) out.set(s.name, s);
  return out;
}

/** The declared label in the UI's language, without a trailing unit in brackets ("(km)", "(0–1)"). */
export function specLabel(spec, lang) {
  if (!spec) return '';
  const label = (lang === 'de' ? spec.label_de : spec.label_en) || spec.label_en || spec.name;
  return label.replace(/\s*\([^()]*\)\s*$/, '');
}

const missing = (v) => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));

/** A number in a declared unit: km, ha, share (0–1 → %), MW, GWh/a, persons, kV, year; other
 * or no unit: the number with the declared decimals. `t` gives the language and the words. */
export function formatUnit(t, u, value, decimals = null) {
  const lang = t.lang;
  if (missing(value)) return t('detail.no_data');
  if (typeof value !== 'number') return String(value);
  const wanted = UNIT_DIGITS[u] ?? decimals ?? 2;
  const d = decimals === null || decimals === undefined ? wanted : Math.min(wanted, decimals);
  switch (u) {
    case 'km': return unit(lang, value, 'kilometer', d);
    case 'ha': return unit(lang, value, 'hectare', d);
    case 'share': return unit(lang, value, 'percent', d);
    case 'MW': return `${num(lang, value, d)}${NBSP}MW`;
    case 'GWh/a': return `${num(lang, value, d)}${NBSP}GWh/a`;
    case 'kV': return `${int(lang, value)}${NBSP}kV`;
    case 'persons': return t('unit.persons', { n: int(lang, Math.round(value)) });
    case 'year': return String(Math.round(value));
    default: return num(lang, value, d);
  }
}

/** One value by its spec: a coded value by its code label, a flag as yes/no, a number by unit. */
export function formatBySpec(t, spec, value) {
  if (missing(value)) return t('detail.no_data');
  if (typeof value === 'boolean') return t(value ? 'detail.yes' : 'detail.no');
  if (spec.codes && typeof value === 'string') {
    const lab = spec.codes[value];
    if (lab) return t.lang === 'de' ? lab[0] : lab[1];
    return value;
  }
  return formatUnit(t, spec.unit, value, spec.decimals);
}
