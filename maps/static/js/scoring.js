// Client-side re-ranking: the same formula, filters and tie-break as geo/scoring.py.
// Pure: typed arrays in, order out; no DOM, no imports. Tested with node --test.
//
// values: Float64Array, n rows × (C + 1) columns, row-major: v ∈ [0, 1] per criterion in
// criteria order (NaN = missing), then the H2 distance in km for the horizon (NaN = none).
// score = 100 · Σ wᵢ·vᵢ / Σ wᵢ over the criteria with data, summed left to right in criteria
// order, one double operation at a time (bit-identical to Scorer.combine for one weight vector).
//
// The hard filters are the server's registry (geo/filters.py), served in GET api/sites/table as
// `filters`: per filter its name (the query parameter and the reason a site is excluded), its
// kind (min: value ≥ filter, max: value ≤ filter, any_of: one of the values), the table column
// it reads (at_horizon: the H2 distance of the values array), the value that always passes and
// the profile parameter standing in when it is unset. A site without a value fails, as in Python.
// The reasons are the filters' names in registry order, then 'no_data'.

export const NO_DATA = 'no_data';

/** A month 'YYYY-MM' as a month number (year · 12 + month − 1), as geo/availability.py; NaN if not one. */
export function monthNumber(text) {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(String(text ?? '').trim());
  return m ? Number(m[1]) * 12 + Number(m[2]) - 1 : NaN;
}

/** The filters of the served registry with their columns read from the table. */
function prepareFilters(specs, c, n) {
  return (specs || []).map((f) => {
    const raw = c[f.column];
    let col = null; // at_horizon: read from the values array
    if (f.at_horizon) col = null;
    else if (f.kind === 'any_of') col = raw ?? new Array(n).fill(null); // no column: no value
    else col = Float64Array.from({ length: n }, (_, i) => raw?.[i] ?? NaN);
    return { name: f.name, kind: f.kind, atHorizon: !!f.at_horizon, col, month: f.format === 'month',
      alwaysPasses: f.always_passes ?? null, profileDefault: f.profile_default ?? null,
      choices: f.choices ?? null, label_de: f.label_de, label_en: f.label_en };
  });
}

/**
 * Prepare the site table once: typed columns, the filters, and the site_id order for tie-breaks.
 * @param {{count:number, columns:Object, filters:Array}} table the JSON of GET api/sites/table
 */
export function prepareTable(table) {
  const c = table.columns;
  const n = c.site_id.length;
  const area = new Float64Array(n);
  const fibre = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    area[i] = c.area_ha?.[i] ?? NaN;
    fibre[i] = c.fibre_share?.[i] ?? -1;
  }
  // tie-break: site_id ascending by plain string comparison (a < b), as numpy's lexsort
  const ids = c.site_id;
  const byId = Array.from({ length: n }, (_, i) => i).sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
  const idRank = new Uint32Array(n);
  byId.forEach((row, k) => { idRank[row] = k; });
  const rowOf = new Map();
  for (let i = 0; i < n; i++) rowOf.set(ids[i], i);
  // the site's number among the public sites in the tiles (-1: not in the public tiles)
  const fid = Int32Array.from(c.fid ?? [], Number);
  const filters = prepareFilters(table.filters, c, n);
  const reasons = [...filters.map((f) => f.name), NO_DATA];
  return { n, ids, fid, area, fibre, kind: c.kind, ags: c.ags, kreisAgs: c.kreis_ags, idRank,
    byId: Uint32Array.from(byId), rowOf, columns: c, filters, reasons };
}

/**
 * The filters as the page applies them: a Kreis and a municipality chosen together mean either
 * (the API would intersect them), so the Kreis becomes its municipalities' keys.
 */
export function effectiveFilters(prep, f) {
  if (!(f?.ags?.length && f?.kreis?.length)) return f || {};
  const ags = new Set(f.ags);
  const kreis = new Set(f.kreis);
  for (let i = 0; i < prep.n; i++) if (kreis.has(prep.kreisAgs[i])) ags.add(prep.ags[i]);
  return { ...f, ags: [...ags], kreis: [] };
}

/** The reason row `row` is excluded from ranking `r` (a filter's name or 'no_data'), or null. */
export function reasonOf(r, row) {
  const k = r.why[row];
  return k ? r.reasons[k - 1] : null;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer); // little-endian on every platform the page runs on
const counts = new Uint32Array(65536);

/**
 * Stable sort of `rows` (already in site_id order) by score descending: LSD radix sort on the
 * IEEE-754 bits of the scores (for scores ≥ 0 the bit pattern orders like the number), four
 * 16-bit passes. Equal scores keep their site_id order, as numpy's lexsort does.
 */
export function sortByScoreDesc(rows, score) {
  const m = rows.length;
  const lo = new Uint32Array(m);
  const hi = new Uint32Array(m);
  for (let k = 0; k < m; k++) {
    f64[0] = score[rows[k]];
    lo[k] = ~u32[0] >>> 0; // inverted: ascending on the inverse is descending on the score
    hi[k] = ~u32[1] >>> 0;
  }
  let src = new Uint32Array(m);
  let dst = new Uint32Array(m);
  for (let k = 0; k < m; k++) src[k] = k;
  for (let pass = 0; pass < 4; pass++) {
    const key = pass < 2 ? lo : hi;
    const shift = pass % 2 ? 16 : 0;
    counts.fill(0);
    for (let k = 0; k < m; k++) counts[(key[src[k]] >>> shift) & 0xffff]++;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d];
      counts[d] = sum;
      sum += c;
    }
    for (let k = 0; k < m; k++) {
      const i = src[k];
      dst[counts[(key[i] >>> shift) & 0xffff]++] = i;
    }
    [src, dst] = [dst, src];
  }
  const out = new Uint32Array(m);
  for (let k = 0; k < m; k++) out[k] = rows[src[k]];
  return out;
}

/** Scores of every row for one weight vector (Float64Array length C). */
export function scores(values, C, w, out) {
  const stride = C + 1;
  const n = (values.length / stride) | 0;
  const s = out && out.length === n ? out : new Float64Array(n);
  for (let r = 0, base = 0; r < n; r++, base += stride) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < C; i++) {
      const v = values[base + i];
      if (!Number.isNaN(v)) {
        num += w[i] * v;
        den += w[i];
      }
    }
    s[r] = den > 0 ? 100 * num / den : NaN;
  }
  return s;
}

const isSet = (v) => (Array.isArray(v) ? v.length > 0 : v !== null && v !== undefined && v !== '');

/** One filter's test of a row (true: the row passes), for a set value. */
function test(f, v, values, stride, C) {
  if (f.kind === 'any_of') {
    const keep = new Set(v.map(String));
    const col = f.col;
    if (f.alwaysPasses !== null) {
      const ap = f.alwaysPasses;
      return (r) => typeof col[r] !== 'string' || col[r] === ap || keep.has(col[r]);
    }
    return (r) => keep.has(String(col[r]));
  }
  const x = f.month ? monthNumber(v) : Number(v);
  const col = f.col;
  const get = f.atHorizon ? (r) => values[r * stride + C] : (r) => col[r];
  return f.kind === 'min' ? (r) => get(r) >= x : (r) => get(r) <= x; // NaN fails both
}

/**
 * The hard filters; returns per row the index into prep.reasons + 1 of the first failing
 * filter (0 = included). `defaults` stands in for unset filters with a profile_default: the
 * profile's parameters ({min_area_ha: …}), or one number for the minimum area (or null).
 */
export function exclusions(prep, values, C, filters = {}, defaults = null, out) {
  const n = prep.n;
  const why = out && out.length === n ? out : new Uint8Array(n);
  why.fill(0);
  const stride = C + 1;
  for (const name of Object.keys(filters)) {
    if (isSet(filters[name]) && !prep.filters.some((f) => f.name === name)) throw new Error(`unknown filter ${name}`);
  }
  const active = [];
  prep.filters.forEach((f, i) => {
    let v = filters[f.name];
    if (!isSet(v) && f.profileDefault !== null) {
      v = defaults !== null && typeof defaults === 'object' ? defaults[f.profileDefault] : defaults;
    }
    if (isSet(v)) active.push({ reason: i + 1, ok: test(f, v, values, stride, C) });
  });
  const m = active.length;
  for (let r = 0; r < n; r++) {
    let k = 0;
    for (let j = 0; j < m; j++) {
      if (!active[j].ok(r)) {
        k = active[j].reason;
        break;
      }
    }
    why[r] = k;
  }
  return why;
}

/**
 * Score, filter and order. Returns {order (Uint32Array of rows, best first), score
 * (Float64Array, NaN when excluded), rank (Uint32Array, 0 when excluded), why (Uint8Array,
 * see reasonOf), excluded ({reason: count}), reasons (prep.reasons)}.
 */
export function rank(prep, values, C, weights, filters = {}, defaults = null, scratch = {}) {
  const raw = scores(values, C, weights, scratch.raw);
  const why = exclusions(prep, values, C, filters, defaults, scratch.why);
  const n = prep.n;
  const noData = prep.reasons.length; // 'no_data' comes after every filter
  for (let r = 0; r < n; r++) if (why[r] === 0 && Number.isNaN(raw[r])) why[r] = noData;
  const keep = new Uint32Array(n);
  let m = 0;
  for (let k = 0; k < n; k++) {
    const r = prep.byId[k];
    if (why[r] === 0) keep[m++] = r;
  }
  const order = sortByScoreDesc(keep.subarray(0, m), raw);
  const rk = scratch.rank && scratch.rank.length === n ? scratch.rank : new Uint32Array(n);
  rk.fill(0);
  for (let k = 0; k < m; k++) rk[order[k]] = k + 1;
  const excluded = {};
  const reasons = prep.reasons;
  for (let r = 0; r < n; r++) {
    if (why[r]) excluded[reasons[why[r] - 1]] = (excluded[reasons[why[r] - 1]] || 0) + 1;
  }
  const score = new Float64Array(n);
  for (let r = 0; r < n; r++) score[r] = why[r] ? NaN : raw[r];
  return { order, score, rank: rk, why, excluded, raw, reasons };
}

/** Points per criterion of one row (100 · wᵢ·vᵢ / Σ w over criteria with data; NaN if missing). */
export function points(values, C, weights, row) {
  const base = row * (C + 1);
  let den = 0;
  for (let i = 0; i < C; i++) if (!Number.isNaN(values[base + i])) den += weights[i];
  const out = new Float64Array(C);
  for (let i = 0; i < C; i++) {
    const v = values[base + i];
    out[i] = Number.isNaN(v) ? NaN : den > 0 ? 100 * weights[i] * v / den : 0;
  }
  return out;
}

/**
 * Why A beats B: per criterion the difference in points (A − B), largest advantage first.
 * Missing data counts as 0 points for that site (it adds nothing to its score).
 */
export function whyBeats(values, C, weights, rowA, rowB, names) {
  return whyBeatsPoints(points(values, C, weights, rowA), points(values, C, weights, rowB), names);
}

/** whyBeats from two sites' points per criterion (e.g. an own area's, from its breakdown). */
export function whyBeatsPoints(pa, pb, names) {
  const C = names.length;
  const diffs = [];
  for (let i = 0; i < C; i++) {
    const a = Number.isNaN(pa[i]) ? 0 : pa[i];
    const b = Number.isNaN(pb[i]) ? 0 : pb[i];
    diffs.push({ criterion: names[i], a, b, diff: a - b });
  }
  return diffs.sort((x, y) => y.diff - x.diff || (x.criterion < y.criterion ? -1 : 1));
}

/** Score class (0 … breaks.length) of a score; -1 for NaN (excluded). */
export function band(score, breaks) {
  if (Number.isNaN(score)) return -1;
  let b = 0;
  while (b < breaks.length && score >= breaks[b]) b++;
  return b;
}

/** The weight vector (Float64Array in criteria order) from a {criterion: weight} object. */
export function weightVector(criteria, weights) {
  return Float64Array.from(criteria, (c) => Number(weights[c] ?? 0));
}
