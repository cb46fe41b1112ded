// Fetch helpers for the API, with relative URLs (api/…) so the page works behind a prefix.
// Errors carry the problem+json `detail` so that the page can show the API's own message.

export class ApiError extends Error {
  constructor(status, detail, title) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
    this.title = title;
  }
}

async function check(r) {
  if (r.ok) return r;
  let detail = null;
  let title = null;
  try {
    const p = await r.json();
    detail = p.detail;
    title = p.title;
  } catch { /* not JSON */ }
  throw new ApiError(r.status, detail, title);
}

// the signed-in session's CSRF token (maps/static/js/session.js), in memory only
let csrf = null;
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function setCsrf(token) { csrf = token || null; }

/** Headers a state-changing request carries: the CSRF token when signed in. */
export function csrfHeaders(headers = {}) {
  return csrf ? { ...headers, 'X-CSRF-Token': csrf } : headers;
}

/** Every JSON request names the page's language: the API's error details come in it. */
export async function json(path, init) {
  const method = (init?.method || 'GET').toUpperCase();
  const lang = globalThis.document?.documentElement?.lang || 'de';
  const headers = { 'Accept-Language': lang, ...(init?.headers || {}) };
  const req = { ...init, headers: SAFE.has(method) ? headers : csrfHeaders(headers) };
  const r = await check(await fetch(path, req));
  return r.status === 204 ? null : r.json();
}

/** GET api/ui/config; null when the server has none (older API). */
export async function config() {
  return json('api/ui/config');
}

export const profiles = () => json('api/profiles');
export const table = () => json('api/sites/table');

/**
 * Coverage overlays of GET api/coverage ({layers: [...]}), normalised to
 * {id, kind: 'image'|'tile_property', url, coordinates, sourceLayer, property, breaks, colors,
 * opacity, attribution, licence, title}; [] when there are none.
 */
export async function coverage() {
  try {
    const d = await json('api/coverage');
    const list = Array.isArray(d) ? d : d.layers || [];
    return list.map((c) => ({
      id: c.id,
      kind: c.kind || 'image',
      url: c.url,
      coordinates: c.coordinates,
      sourceLayer: c.source_layer,
      property: c.property,
      breaks: c.legend?.breaks || [],
      colors: c.legend?.colors || [],
      opacity: c.legend?.opacity ?? 0.7,
      attribution: c.attribution || '',
      licence: c.licence || '',
      title: c.title || null,
      resolution: c.resolution || null,
    })).filter((c) => c.id && ((c.kind === 'image' && c.url && c.coordinates?.length === 4)
      || (c.kind === 'tile_property' && c.sourceLayer && c.property)));
  } catch {
    return [];
  }
}

const valueCache = new Map();
const NO_VALUE = 65535;

/**
 * Decode the compact value array of api/sites/values into Float64Array n × (C + 1), row-major:
 * v = k / 10⁴ per criterion (NaN for 65535 = no data), then the H2 distance in km. The server
 * sends float64 km × n, then uint16 k × n × C (little-endian); C is in X-Criteria-Count.
 * k / 10⁴ is the scorer's v exactly, so the scores are bit-identical to the API's.
 */
export function decodeValues(buffer, C) {
  const n = buffer.byteLength / (8 + 2 * C);
  if (!Number.isInteger(n)) throw new Error('values: unexpected length');
  const km = new Float64Array(buffer, 0, n);
  const k = new Uint16Array(buffer, 8 * n, n * C);
  const out = new Float64Array(n * (C + 1));
  for (let r = 0, i = 0, o = 0; r < n; r++) {
    for (let c = 0; c < C; c++, i++, o++) out[o] = k[i] === NO_VALUE ? NaN : k[i] / 10000;
    out[o++] = km[r];
  }
  return out;
}

function readValues(response) {
  const C = Number(response.headers.get('X-Criteria-Count'));
  return response.arrayBuffer().then((b) => decodeValues(b, C));
}

/** The per-criterion values for (profile, year): Float64Array n × (C + 1) (see decodeValues);
 * fetched once each. */
export function values(profile, year) {
  const key = `${profile}|${year}`;
  if (!valueCache.has(key)) {
    const q = new URLSearchParams({ profile, h2_year: String(year) });
    const p = fetch(`api/sites/values?${q}`).then(check).then(readValues);
    p.catch(() => valueCache.delete(key));
    valueCache.set(key, p);
  }
  return valueCache.get(key);
}

/**
 * Start fetching the values before the profiles are known (the page's first request in
 * parallel with the others): `profile` / `year` null mean the server's default profile and that
 * profile's own horizon. Returns {profile, year, promise}; hand it to seedValues() once known.
 */
export function prefetchValues(profile, year, started = null) {
  const q = new URLSearchParams();
  if (profile) q.set('profile', profile);
  if (year) q.set('h2_year', String(year));
  const promise = (started || fetch(`api/sites/values?${q}`)).then(check).then(readValues);
  promise.catch(() => {});
  return { profile, year, promise };
}

/** Use a prefetched array for (profile, year). */
export function seedValues(profile, year, promise) {
  if (!valueCache.has(`${profile}|${year}`)) valueCache.set(`${profile}|${year}`, promise);
}

/** One site's score, breakdown and rank stability. */
export function siteScore(siteId, query, signal) {
  const q = new URLSearchParams(query);
  q.set('stability', '10');
  return json(`api/sites/${encodeURIComponent(siteId)}/score?${q}`, { signal });
}

/** Score a GeoJSON Feature / Polygon / MultiPolygon (WGS84). */
export function scorePolygon(geojson, query, signal) {
  return json(`api/score?${new URLSearchParams(query)}`, {
    method: 'POST', headers: { 'Content-Type': 'application/geo+json' }, body: JSON.stringify(geojson), signal,
  });
}

/** One site as a GeoJSON Feature (WGS84). */
export const siteFeature = (siteId) => json(`api/collections/sites/items/${encodeURIComponent(siteId)}`);
