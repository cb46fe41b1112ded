// The hard filters as the page handles them, read from the served registry (geo/filters.py,
// GET api/sites/table `filters`): their empty state, how a typed number is read and shown, and
// how a filter travels in the permalink. No filter is named here. Pure: no DOM, tested with
// node --test (tests/js/filters.test.mjs).

import { monthNumber } from './scoring.js';

/** An any_of filter with every choice unticked: no site passes (not "no filter"). */
export const NOTHING = '-';
const LIST_SEP = ',';

/** A min/max filter on a share (0–1, the registry's `upper` is 1): shown and typed in %. */
export const isShare = (f) => f.kind !== 'any_of' && f.upper === 1;

/** A filter on a month (available_by): typed and kept as 'YYYY-MM'. */
export const isMonth = (f) => f.format === 'month';

/** Every filter unset: null for numbers, [] for lists. */
export function emptyFilters(specs) {
  return Object.fromEntries((specs || []).map((f) => [f.name, f.kind === 'any_of' ? [] : null]));
}

/**
 * A number as a person types it, in any language: '20,5' and '20.5' are both 20.5 (never 205);
 * no thousands separators, no sign. '' → null; anything else unreadable → NaN.
 */
export function parseNumber(raw) {
  const s = String(raw ?? '').trim().replace(/\s+/g, '');
  if (s === '') return null;
  if (!/^(\d+([.,]\d*)?|[.,]\d+)$/.test(s)) return NaN;
  return Number(s.replace(',', '.'));
}

/**
 * The value of a min/max filter from its input's text: {value} (null = unset) or {error} (an
 * i18n key). Shares are typed in % and kept as 0–1.
 */
export function readValue(f, raw) {
  if (isMonth(f)) {
    const s = String(raw ?? '').trim();
    if (s === '') return { value: null };
    return Number.isNaN(monthNumber(s)) ? { error: 'filters.invalid_month' } : { value: s };
  }
  const x = parseNumber(raw);
  if (x === null) return { value: null };
  if (Number.isNaN(x)) return { error: 'filters.invalid_number' };
  if (!isShare(f)) return f.upper != null && x > f.upper ? { error: 'filters.invalid_number' } : { value: x };
  if (x > 100) return { error: 'filters.invalid_share' };
  return { value: Math.round(x * 1e4) / 1e6 };
}

/** The input's text for a filter value (shares in %), with the language's decimal mark. */
export function showValue(f, v, lang) {
  if (v === null || v === undefined) return '';
  if (isMonth(f)) return String(v);
  const x = isShare(f) ? Math.round(v * 1e6) / 1e4 : v;
  const s = String(x);
  return lang === 'de' ? s.replace('.', ',') : s;
}

/** The choices a list filter keeps when these are ticked: all → [] (no filter), none → NOTHING. */
export function fromTicked(f, ticked) {
  if (f.choices && ticked.length === f.choices.length) return [];
  return ticked.length ? ticked : [NOTHING];
}

function finite(x) {
  const v = Number(x);
  return x !== '' && x !== null && Number.isFinite(v) ? v : null;
}

/** Split a comma-separated list. */
export function list(s) {
  return s ? s.split(LIST_SEP).map((x) => x.trim()).filter(Boolean) : [];
}

/** Write every set filter into the query q by its API name, in registry order. */
export function encodeFilters(q, filters, specs) {
  const f = filters || {};
  for (const spec of specs || []) {
    const v = f[spec.name];
    if (spec.kind !== 'any_of') {
      if (v !== null && v !== undefined) q.set(spec.name, String(v));
      continue;
    }
    if (!v?.length) continue;
    if (spec.choices && spec.choices.every((x) => v.includes(x))) continue; // all = no filter
    q.set(spec.name, v.join(LIST_SEP));
  }
}

/** The filters of a query, checked against the registry; unknown names and bad values are dropped. */
export function decodeFilters(q, specs) {
  const out = {};
  for (const spec of specs || []) {
    const raw = q.get(spec.name);
    if (raw === null) continue;
    if (isMonth(spec)) {
      if (!Number.isNaN(monthNumber(raw))) out[spec.name] = raw.trim();
      continue;
    }
    if (spec.kind !== 'any_of') {
      const v = finite(raw);
      if (v !== null && v >= 0 && (spec.upper == null || v <= spec.upper)) out[spec.name] = v;
      continue;
    }
    let v = [...new Set(list(raw))];
    if (spec.choices) v = v.filter((x) => x === NOTHING || spec.choices.includes(x));
    if (v.length > 1) v = v.filter((x) => x !== NOTHING);
    if (v.length) out[spec.name] = v;
  }
  return out;
}
