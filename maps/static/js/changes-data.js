// The "Changes" view's data (GET api/snapshots, GET api/changes): which snapshot to compare
// with, the area the comparison is restricted to, the map overlay of added and removed sites,
// and the rows of the lists. Pure: no DOM, no map; tested with node --test.

export const OVERLAY_SOURCE = 'changes';
export const OVERLAY_LAYERS = ['changes-removed', 'changes-removed-x', 'changes-added'];
export const ADDED_COLOR = '#1a9850';
export const REMOVED_COLOR = '#d73027';

/** The snapshot before the live one in the list of GET api/snapshots (newest first), or null. */
export function defaultSince(snapshots) {
  const list = snapshots?.snapshots || [];
  const live = list.findIndex((s) => s.live);
  return live >= 0 && live + 1 < list.length ? list[live + 1].id : null;
}

/** The snapshots older than the live one: the choices of "since" (newest first). */
export function olderThanLive(snapshots) {
  const list = snapshots?.snapshots || [];
  const live = list.findIndex((s) => s.live);
  return live >= 0 ? list.slice(live + 1) : [];
}

/**
 * The area of the page's place filter that GET api/changes can take: exactly one Kreis
 * ({kreis}) or exactly one municipality ({ags}); null when none, or several, are chosen.
 */
export function scopeOf(filters) {
  const ags = filters?.ags || [];
  const kreis = filters?.kreis || [];
  if (ags.length === 1 && !kreis.length) return { ags: ags[0] };
  if (kreis.length === 1 && !ags.length) return { kreis: kreis[0] };
  return null;
}

/** The query of GET api/changes: from (the older snapshot) and the scope. */
export function changesQuery(from, scope) {
  const q = new URLSearchParams();
  if (from) q.set('from', from);
  if (scope?.ags) q.set('ags', scope.ags);
  else if (scope?.kreis) q.set('kreis', scope.kreis);
  return q;
}

/** The overlay: a point per added and per removed site (with lon/lat), `change` in its properties. */
export function overlayData(doc) {
  const features = [];
  for (const change of ['removed', 'added']) {
    for (const e of doc?.[change] || []) {
      if (!Number.isFinite(e.lon) || !Number.isFinite(e.lat)) continue;
      features.push({
        type: 'Feature',
        id: features.length,
        geometry: { type: 'Point', coordinates: [e.lon, e.lat] },
        properties: { site_id: e.site_id, name: e.name || e.site_id, change },
      });
    }
  }
  return { type: 'FeatureCollection', features };
}

/** The overlay's layers, bottom to top: removed (a red dot with a ×), added (a green ring). */
export function overlayLayers(font) {
  const radius = ['interpolate', ['linear'], ['zoom'], 6, 6, 12, 11];
  return [
    {
      id: 'changes-removed', type: 'circle', source: OVERLAY_SOURCE, filter: ['==', ['get', 'change'], 'removed'],
      paint: { 'circle-color': '#ffffff', 'circle-opacity': 0.85, 'circle-radius': radius,
        'circle-stroke-color': REMOVED_COLOR, 'circle-stroke-width': 2.5 },
    },
    {
      id: 'changes-removed-x', type: 'symbol', source: OVERLAY_SOURCE, filter: ['==', ['get', 'change'], 'removed'],
      layout: { 'text-field': '×', 'text-font': font, 'text-size': ['interpolate', ['linear'], ['zoom'], 6, 14, 12, 22],
        'text-allow-overlap': true, 'text-ignore-placement': true },
      paint: { 'text-color': REMOVED_COLOR },
    },
    {
      id: 'changes-added', type: 'circle', source: OVERLAY_SOURCE, filter: ['==', ['get', 'change'], 'added'],
      paint: { 'circle-color': 'rgba(0,0,0,0)', 'circle-radius': radius,
        'circle-stroke-color': ADDED_COLOR, 'circle-stroke-width': 3.5 },
    },
  ];
}

/** [west, south, east, north] around the overlay's points, or null. */
export function boundsOf(fc) {
  const pts = (fc?.features || []).map((f) => f.geometry.coordinates);
  if (!pts.length) return null;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/**
 * A changed site's score under `profile`: {from, to, delta, criteria: [{criterion, delta}]}
 * (the criteria that moved it, largest first, at most `top`), or null when it did not move.
 */
export function scoreChange(entry, profile, top = 3) {
  const s = entry?.score?.[profile];
  if (!s) return null;
  const delta = s.from == null || s.to == null ? null : Math.round((s.to - s.from) * 10) / 10;
  return { from: s.from, to: s.to, delta, criteria: (s.criteria || []).slice(0, top) };
}

/** A changed site's field changes as [{field, from, to}], in the API's order. */
export function fieldChanges(entry) {
  return Object.entries(entry?.changes || {}).map(([field, v]) => ({ field, from: v.from, to: v.to }));
}

/** The changed sites split into re-keyed ones and the others (each keeps the API's order). */
export function splitChanged(doc) {
  const changed = doc?.changed || [];
  return { rekeyed: changed.filter((c) => c.rekeyed_from), changed: changed.filter((c) => !c.rekeyed_from) };
}

/** A signed number with one decimal for a score delta: '+2.5', '−1.0' (a true minus sign). */
export function signed(x, format = (v) => v.toFixed(1)) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  const text = format(Math.abs(x));
  if (x > 0) return `+${text}`;
  if (x < 0) return `−${text}`;
  return text;
}
