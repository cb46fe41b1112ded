// Investor inquiries in the page (api/inquiries, staff only): the body that saves the page's
// current ranking as an inquiry, the page state an inquiry restores (through the permalink's
// decode of its ranking_params), and when this browser last looked at each inquiry (for "new
// since …"). Pure: no DOM; the storage is passed in. Tested with node --test.

import { decode } from './permalink.js';
import { emptyFilters, encodeFilters, isMonth, NOTHING } from './filters.js';

export const SEEN_KEY = 'nrw-sites.inquiries-seen';
export const MARK_SOURCE = 'inquiry-new';
export const MARK_COLOR = '#e66101';

/**
 * The body of POST api/inquiries for the page's state `s` ({profile, weights, year}) and the
 * hard filters `filters` (effective: by their API names). `d` = {weights, year} of the profile
 * (only weights and a year that differ are sent), `specs` the filter registry, `form` =
 * {name, note, minScore, topN} (null or '' when not given).
 */
export function inquiryBody(s, filters, specs, d, form) {
  const body = { name: String(form.name || '').trim(), note: String(form.note || ''), profile: s.profile };
  const weights = {};
  for (const [c, w] of Object.entries(s.weights || {})) if ((d.weights?.[c] ?? 0) !== w) weights[c] = w;
  if (Object.keys(weights).length) body.weights = weights;
  if (s.year != null && s.year !== d.year) body.h2_year = s.year;
  const q = new URLSearchParams();
  const sendable = Object.fromEntries(Object.entries(filters || {})
    .filter(([, v]) => !(Array.isArray(v) && v.includes(NOTHING))));
  encodeFilters(q, sendable, specs);
  const out = {};
  for (const spec of specs || []) {
    const v = q.get(spec.name);
    if (v === null) continue;
    out[spec.name] = spec.kind === 'any_of' ? v.split(',') : isMonth(spec) ? v : Number(v);
  }
  if (Object.keys(out).length) body.filters = out;
  const min = form.minScore === '' || form.minScore == null ? null : Number(form.minScore);
  const top = form.topN === '' || form.topN == null ? null : Number(form.topN);
  if (min !== null) body.min_score = min;
  if (top !== null) body.top_n = top;
  return body;
}

/**
 * The page state an inquiry restores: {profile, weights (every criterion), year, filters (every
 * filter)}, read from its ranking_params as the permalink reads a link. `known` = {profiles,
 * criteria, years, filters (the registry)}; `profileOf(name)` gives {weights}; `horizon(p)` its year.
 */
export function restoreOf(inquiry, known, profileOf, horizon) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(inquiry.ranking_params || {})) params.set(k, String(v));
  const link = decode(params, { ...known, langs: [] });
  const p = profileOf(link.profile || inquiry.profile);
  const weights = Object.fromEntries((known.criteria || []).map((c) => [c, p.weights?.[c] ?? 0]));
  return {
    profile: p.name,
    weights: { ...weights, ...(link.weights || {}) },
    year: link.year ?? horizon(p),
    filters: { ...emptyFilters(known.filters), ...(link.filters || {}) },
  };
}

/** What this browser remembers: inquiry id → {snapshot, at} of the last look. */
export function readSeen(storage) {
  try {
    const v = JSON.parse(storage?.getItem(SEEN_KEY) || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

/** Remember that inquiry `id` was looked at on `snapshot` at time `at` (ISO); returns the new map. */
export function markSeen(storage, seen, id, snapshot, at) {
  const next = { ...seen, [id]: { snapshot, at } };
  try { storage?.setItem(SEEN_KEY, JSON.stringify(next)); } catch { /* private mode */ }
  return next;
}

/** Forget inquiries that no longer exist (ids: the listed ones); returns the new map. */
export function pruneSeen(storage, seen, ids) {
  const keep = new Set(ids);
  const next = Object.fromEntries(Object.entries(seen).filter(([id]) => keep.has(id)));
  if (Object.keys(next).length !== Object.keys(seen).length) {
    try { storage?.setItem(SEEN_KEY, JSON.stringify(next)); } catch { /* private mode */ }
  }
  return next;
}

/** The query of GET api/inquiries/{id}/matches for "new since the last look" (all runs if never). */
export function matchesQuery(seen, id) {
  const q = new URLSearchParams();
  if (seen[id]?.snapshot) q.set('since', seen[id].snapshot);
  return q;
}

/** The overlay of newly matching sites: a point per site the page knows (prep: rowOf, columns). */
export function markData(ids, prep) {
  const features = [];
  for (const id of ids || []) {
    const row = prep.rowOf.get(id);
    if (row === undefined) continue;
    const lon = prep.columns.lon[row];
    const lat = prep.columns.lat[row];
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) continue;
    features.push({ type: 'Feature', id: features.length, geometry: { type: 'Point', coordinates: [lon, lat] },
      properties: { site_id: id } });
  }
  return { type: 'FeatureCollection', features };
}

/** The overlay's layer: an orange double ring around each newly matching site. */
export function markLayers() {
  return [{
    id: 'inquiry-new', type: 'circle', source: MARK_SOURCE,
    paint: { 'circle-color': 'rgba(0,0,0,0)', 'circle-radius': ['interpolate', ['linear'], ['zoom'], 6, 8, 12, 14],
      'circle-stroke-color': MARK_COLOR, 'circle-stroke-width': 3 },
  }];
}
