// The URL's query (?…) is the record of the shareable state: profile, weights (w_<criterion>,
// only those that differ from the profile), filters, H2 year, selection, comparison, shortlist
// and language. The camera lives in the fragment (#map=zoom/lat/lng, MapLibre's hash: 'map').
// Every filter of the served registry travels by its API name (?min_5g=0.5&kind=lep); the
// registry comes in as d.filters / known.filters (see filters.js), so no filter is named here.
// Pure: encode/decode over URLSearchParams, no DOM; tested with node --test.

import { encodeFilters, decodeFilters, list, NOTHING } from './filters.js';

const LIST_SEP = ',';

/** True for the id of an own (drawn or dropped) area in the comparison: 'own:K'. */
export const isOwnArea = (id) => typeof id === 'string' && id.startsWith('own:');

function finite(x) {
  const v = Number(x);
  return x !== '' && x !== null && Number.isFinite(v) ? v : null;
}

/**
 * Encode state as a query string (without '?'); defaults are left out.
 * @param {object} s {profile, weights, year, filters, sel, cmp, shortlist, lang}
 * @param {object} d {profile, weights (of s.profile), year (of s.profile), lang, filters (the registry)}
 */
export function encode(s, d) {
  const q = new URLSearchParams();
  if (s.profile && s.profile !== d.profile) q.set('profile', s.profile);
  for (const [c, w] of Object.entries(s.weights || {})) {
    if (d.weights?.[c] !== w) q.set(`w_${c}`, String(w));
  }
  if (s.year != null && s.year !== d.year) q.set('h2_year', String(s.year));
  encodeFilters(q, s.filters, d.filters);
  if (s.sel) q.set('sel', s.sel);
  const cmp = (s.cmp || []).filter((id) => !isOwnArea(id)); // own areas live in this page only
  if (cmp.length) q.set('cmp', cmp.join(LIST_SEP));
  if (s.shortlist?.length) q.set('list', s.shortlist.join(LIST_SEP));
  if (s.lang && s.lang !== d.lang) q.set('lang', s.lang);
  return q.toString();
}

/**
 * Decode a query string into a partial state; unknown or invalid values are dropped.
 * @param {string} search location.search (with or without '?')
 * @param {object} known {profiles: [names], criteria: [names], years: [min, max], langs, filters (the registry)}
 */
export function decode(search, known) {
  const q = new URLSearchParams(search);
  const out = {};
  const profile = q.get('profile');
  if (profile && (!known.profiles || known.profiles.includes(profile))) out.profile = profile;
  const weights = {};
  for (const c of known.criteria || []) {
    const w = finite(q.get(`w_${c}`));
    if (w !== null && w >= 0) weights[c] = w;
  }
  if (Object.keys(weights).length) out.weights = weights;
  const year = finite(q.get('h2_year'));
  if (year !== null && Number.isInteger(year) && (!known.years || (year >= known.years[0] && year <= known.years[1]))) {
    out.year = year;
  }
  const filters = decodeFilters(q, known.filters);
  if (Object.keys(filters).length) out.filters = filters;
  if (q.get('sel')) out.sel = q.get('sel');
  const cmp = list(q.get('cmp'));
  if (cmp.length) out.cmp = [...new Set(cmp)].slice(0, 4);
  const shortlist = list(q.get('list'));
  if (shortlist.length) out.shortlist = [...new Set(shortlist)];
  const lang = q.get('lang');
  if (lang && (known.langs || ['de', 'en']).includes(lang)) out.lang = lang;
  return out;
}

/**
 * The query string of the API for the same view (profile, w_…, h2_year) and, given the filter
 * registry (`specs`), the hard filters by their API names (`filters`, default s.filters) as
 * GET api/ranking and api/sites/{id}/score take them. A list with every choice unticked
 * (filters.js NOTHING: no site passes) has no API form and is left out.
 */
export function apiQuery(s, criteria, specs = null, filters = s.filters) {
  const q = new URLSearchParams();
  q.set('profile', s.profile);
  for (const c of criteria) if (s.weights?.[c] != null) q.set(`w_${c}`, String(s.weights[c]));
  if (s.year != null) q.set('h2_year', String(s.year));
  if (specs) {
    const sendable = Object.fromEntries(Object.entries(filters || {})
      .filter(([, v]) => !(Array.isArray(v) && v.includes(NOTHING))));
    encodeFilters(q, sendable, specs);
  }
  return q;
}
