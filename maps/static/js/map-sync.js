// The map follows the store: the band of the site points (map-points.js), feature-state of the
// site polygons (band, sel, hover, cmp), the small
// GeoJSON source of the highlighted points (site-marks), layer visibility, the H2 year
// (global-state) and panning to a selected site. Never rebuilds a layer on input.

import * as layers from './layers.js';
import { band } from './scoring.js';

/**
 * The state side of the map `map`. `ctx` = {prep, bands (bands.js), groups, coverage (absolute
 * URLs), points (map-points.js: the point layers), h2Year (the style's), timings}. Returns {apply(keys, state), sync(state), applyLayers(vis)}.
 */
export function createStateSync(map, ctx) {
  const { prep, groups, coverage } = ctx;
  const prev = { sel: null, hover: null, cmp: new Set() };

  // sel, hover and cmp: feature-state of the polygons; the points are drawn again as site-marks
  const setState = (id, st) => map.setFeatureState({ source: 'nrw', sourceLayer: 'sites', id }, st);

  /** The compared, hovered and selected site points, in that order (the selection on top). */
  function updateMarks() {
    const src = map.getSource(layers.MARKS_SOURCE);
    if (!src) return;
    const features = [];
    const add = (id, role) => {
      const row = prep.rowOf.get(id);
      if (row === undefined) return;
      features.push({ type: 'Feature', id: row, properties: { role, band: rowBand ? rowBand[row] : -2 },
        geometry: { type: 'Point', coordinates: [prep.columns.lon[row], prep.columns.lat[row]] } });
    };
    for (const id of prev.cmp) if (id !== prev.sel && id !== prev.hover) add(id, 'cmp');
    if (prev.hover && prev.hover !== prev.sel) add(prev.hover, 'hover');
    if (prev.sel) add(prev.sel, 'sel');
    // unchanged marks are not sent again: a GeoJSON update costs a worker round trip and a frame
    const key = JSON.stringify(features.map((f) => [f.id, f.properties.role, f.properties.band]));
    if (key === marksKey) return;
    marksKey = key;
    src.setData({ type: 'FeatureCollection', features });
  }
  let marksKey = '[]';

  // The band of every site lives in `rowBand`; the points (map-points.js, below
  // POINTS_MAXZOOM) take it at once, the polygons' feature-state only while they are drawn (from
  // POINTS_MAXZOOM) and when the zoom crosses over: no 50,000 feature-state calls per slider move
  // at the zoom of the points.
  let rowBand = null;
  let applied = null; // the band in the polygons' feature-state, by row (-3: none)
  const polygonsDrawn = () => map.getZoom() >= layers.POINTS_MAXZOOM;

  function flushBands() {
    if (!rowBand) return;
    const started = performance.now();
    if (!applied) applied = new Int8Array(prep.n).fill(-3);
    for (let i = 0; i < prep.n; i++) {
      if (rowBand[i] !== applied[i]) {
        applied[i] = rowBand[i];
        if (prep.fid[i] !== -1) map.setFeatureState({ source: 'nrw', sourceLayer: 'sites', id: prep.ids[i] }, { band: rowBand[i] });
      }
    }
    if (ctx.timings) ctx.timings.applyMs = performance.now() - started;
  }

  function applyRanking(r) {
    const started = performance.now();
    if (!rowBand) rowBand = new Int8Array(prep.n);
    const { breaks } = ctx.bands;
    for (let i = 0; i < prep.n; i++) rowBand[i] = band(r.score[i], breaks);
    for (const p of ctx.points) p.setBands(rowBand);
    if (ctx.timings) ctx.timings.applyMs = performance.now() - started;
    if (polygonsDrawn()) flushBands();
  }
  map.on('zoom', () => {
    if (rowBand && polygonsDrawn()) flushBands();
  });

  function applyFlag(key, id, before) {
    if (before === id) return id;
    if (before) setState(before, { [key]: false });
    if (id && id !== 'adhoc') setState(id, { [key]: true });
    return id;
  }

  function applyCompare(list) {
    const now = new Set(list);
    for (const id of prev.cmp) if (!now.has(id)) setState(id, { cmp: false });
    for (const id of now) if (!prev.cmp.has(id)) setState(id, { cmp: true });
    prev.cmp = now;
  }

  function addImageOverlay(c) {
    const id = `coverage-${c.id}`;
    if (map.getLayer(id)) return;
    map.addSource(id, layers.coverageSource(c));
    map.addLayer(layers.coverageLayer(c), layers.beforeOf(id, map.getStyle().layers.map((l) => l.id)));
  }

  function applyLayers(vis) {
    for (const g of groups) {
      const on = vis[g.id] ?? g.on;
      if (on) for (const c of coverage) if (c.kind === 'image' && g.layers.includes(`coverage-${c.id}`)) addImageOverlay(c);
      for (const id of g.layers) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
    }
  }

  function panTo(id) {
    const row = prep.rowOf.get(id);
    if (row === undefined) return;
    const lngLat = [prep.columns.lon[row], prep.columns.lat[row]];
    const b = map.getBounds();
    const pad = 0.12;
    const w = b.getEast() - b.getWest();
    const h = b.getNorth() - b.getSouth();
    const inside = lngLat[0] > b.getWest() + w * pad && lngLat[0] < b.getEast() - w * pad
      && lngLat[1] > b.getSouth() + h * pad && lngLat[1] < b.getNorth() - h * pad;
    if (!inside) map.easeTo({ center: lngLat, duration: 400 });
  }

  // The H2 year filters the network in the worker: a new value re-parses every tile of the
  // source, 50,000 site points included, so the same value is never set again (the style
  // starts with it).
  let h2Year = ctx.h2Year;
  function setYear(year) {
    if (year === h2Year) return;
    h2Year = year;
    map.setGlobalStateProperty('h2Year', year);
  }

  /** Apply the changed `keys` of the store's `state` (a 'change' event after load). */
  function apply(keys, state) {
    if (keys.has('ranking') && state.ranking) applyRanking(state.ranking);
    if (keys.has('sel')) {
      prev.sel = applyFlag('sel', state.sel, prev.sel);
      if (state.sel && state.sel !== 'adhoc') panTo(state.sel);
    }
    if (keys.has('hover')) prev.hover = applyFlag('hover', state.hover, prev.hover);
    if (keys.has('cmp')) applyCompare(state.cmp);
    if (keys.has('layers')) applyLayers(state.layers);
    if (keys.has('year')) setYear(state.year);
    if (['ranking', 'sel', 'hover', 'cmp'].some((k) => keys.has(k))) updateMarks();
  }

  /** Apply the whole state `s` (after load). */
  function sync(s) {
    if (s.ranking) applyRanking(s.ranking);
    prev.sel = applyFlag('sel', s.sel, prev.sel);
    applyCompare(s.cmp);
    applyLayers(s.layers);
    setYear(s.year);
    updateMarks();
  }

  return { apply, sync, applyLayers };
}
