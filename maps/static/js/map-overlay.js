// Passing overlays on the main map, drawn from API answers rather than from the tiles: the
// "Changes" view's added and removed sites (changes.js) and an inquiry's newly matching sites
// (inquiries.js). A GeoJSON source with its layers, put on top while shown and taken off again;
// the specs come from the pure modules (changes-data.js, inquiry-data.js).

/** Show `data` (a FeatureCollection) in source `id` with `layers` (specs), replacing any before. */
export function showOverlay(map, id, data, layers) {
  const src = map.getSource(id);
  if (src) {
    src.setData(data);
    return;
  }
  map.addSource(id, { type: 'geojson', data });
  for (const l of layers) map.addLayer(l);
}

/** Take the overlay off the map (no-op when it is not there). */
export function hideOverlay(map, id, layers) {
  for (const l of layers) if (map.getLayer(l.id)) map.removeLayer(l.id);
  if (map.getSource(id)) map.removeSource(id);
}

