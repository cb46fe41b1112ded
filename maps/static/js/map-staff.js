// Non-public sites on the map for signed-in staff. The vector tiles hold only public sites (the
// same tiles serve everyone and may sit in any cache), so the page draws the sites the public
// may not see from the staff's own site table (fid -1: not in the tiles) as points with a purple
// ring, coloured by the live score, and selects one on click. The colour is the score band in
// feature-state (like the tiles' points), written in the same frame as theirs on a re-rank: no
// new GeoJSON for the worker and no second repaint per slider move.

import { bandColor } from './layers.js';

const SOURCE = 'staff-sites';
const LAYER = 'staff-site-points';

/** Add the layer to `map` (style loaded); `ctx` = {prep, store, bands}. Returns the row count. */
export function addStaffSites(map, { prep, store, bands }) {
  const rows = [];
  for (let i = 0; i < prep.n; i++) if (prep.fid[i] === -1) rows.push(i);
  if (!rows.length) return 0;
  const bandOf = (i) => {
    const r = store.state.ranking;
    return bands.of(r ? r.score[i] : NaN);
  };
  const shown = Int8Array.from(rows, bandOf); // the band each point is drawn with
  map.addSource(SOURCE, {
    type: 'geojson',
    data: {
      type: 'FeatureCollection',
      features: rows.map((i, k) => ({
        type: 'Feature',
        id: i,
        geometry: { type: 'Point', coordinates: [prep.columns.lon[i], prep.columns.lat[i]] },
        properties: { site_id: prep.ids[i], band: shown[k] },
      })),
    },
  });
  map.addLayer({
    id: LAYER,
    type: 'circle',
    source: SOURCE,
    paint: {
      'circle-color': bandColor(bands, ['coalesce', ['feature-state', 'band'], ['get', 'band']]),
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 6, 4, 12, 8],
      'circle-stroke-color': '#5c1a5c',
      'circle-stroke-width': 2.5,
    },
  });
  map.on('click', LAYER, (e) => {
    const id = e.features?.[0]?.properties?.site_id;
    if (id) store.select(id);
  });
  map.on('mouseenter', LAYER, () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', LAYER, () => { map.getCanvas().style.cursor = ''; });
  store.addEventListener('change', (ev) => {
    if (!ev.detail.keys.has('ranking') || !map.getSource(SOURCE)) return;
    rows.forEach((i, k) => {
      const b = bandOf(i);
      if (b !== shown[k]) {
        shown[k] = b;
        map.setFeatureState({ source: SOURCE, id: i }, { band: b });
      }
    });
  });
  return rows.length;
}
