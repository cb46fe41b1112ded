// The map: builds the MapLibre map from the style of layers.js and wires its parts, the
// PMTiles archives (map-tiles.js), the state sync with the store (map-sync.js: feature-state
// band, sel, hover, cmp and global-state h2Year; it never rebuilds a layer on input) and the
// pointer handlers (map-pointer.js: map clicks call store.select()). Only the map-*.js modules
// and this one import MapLibre GL JS and pmtiles.

import * as maplibregl from 'maplibre-gl';
import * as layers from './layers.js';
import { features as topoFeatures, clipped } from './topojson.js';
import { NRW_BOUNDS, absolute, isLeaving, registerPmtiles } from './map-tiles.js';
import { createStateSync } from './map-sync.js';
import { createPointer } from './map-pointer.js';
import { createSitePoints } from './map-points.js';
import { createStaffPoints } from './map-staff.js';
import { sourceText } from './i18n.js';

const MAX_BOUNDS = [[1.5, 48.6], [14.0, 54.3]];
const NEIGHBOUR_BOX = [0, 47, 16, 56];

/** MapLibre's own control strings from the i18n table (keys "maplibre.<Control.Key>"). */
function locale(t) {
  const out = {};
  for (const k of Object.keys(t.table)) if (k.startsWith('maplibre.')) out[k.slice(9)] = t(k);
  return out;
}

function relabelControls(container, t) {
  const set = (sel, key) => container.querySelectorAll(sel).forEach((el) => {
    el.title = t(key);
    el.setAttribute('aria-label', t(key));
  });
  set('.maplibregl-ctrl-zoom-in', 'maplibre.NavigationControl.ZoomIn');
  set('.maplibregl-ctrl-zoom-out', 'maplibre.NavigationControl.ZoomOut');
  set('.maplibregl-ctrl-attrib-button', 'maplibre.AttributionControl.ToggleAttribution');
  const canvas = container.querySelector('canvas');
  if (canvas) canvas.setAttribute('aria-label', t('maplibre.Map.Title'));
}

/**
 * The main map. `ctx` = {store, t, cfg, bands (bands.js), coverage, prep (scoring.prepareTable),
 * timings, toast, attribution}. Returns {map, groups, points (map-points.js, the public first), styleReady, tilesRequested, ready, sync(),
 * idle(), loadNeighbours(), setT(t), fitTo(bbox)}.
 */
export function createMap(container, ctx) {
  const { store, cfg, bands } = ctx;
  let t = ctx.t;
  const tiles = registerPmtiles(cfg.tiles);
  const coverage = ctx.coverage.map((c) => (c.url ? { ...c, url: absolute(c.url) } : c));
  const map = new maplibregl.Map({
    container,
    // image overlays are added when first switched on (their PNGs are not loaded before)
    style: layers.style({ tiles, tileset: cfg.tileset, bands, basemap: cfg.basemap, coverage: coverage.filter((c) => c.kind !== 'image'),
      h2Year: store.state.year, sites: ctx.prep.n }),
    hash: 'map',
    bounds: NRW_BOUNDS,
    // more room on the left: the westernmost LEP site's label (Geilenkirchen-Lindern) reaches past NRW
    fitBoundsOptions: { padding: { top: 16, bottom: 16, left: 44, right: 16 } },
    maxBounds: MAX_BOUNDS,
    minZoom: 5,
    maxZoom: 16,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    attributionControl: false,
    locale: locale(t),
    fadeDuration: 0, // labels appear at once: the map is idle (and the page ready) sooner
  });
  // MapLibre logs every 'error' event with console.error unless someone listens: a request
  // aborted (a tile no longer needed, the page being left) is no error; an optional overlay
  // (neighbours, coverage images) that fails is noted quietly; a failure of the site tiles is
  // shown to the user (once), since the map is then incomplete.
  let told = false;
  map.on('error', (e) => {
    const err = e?.error || e;
    const msg = String(err?.message || err || '');
    if (isLeaving() || err?.name === 'AbortError' || /abort/i.test(msg)) return;
    console.warn('map:', e?.sourceId || '', msg);
    if (e?.sourceId === 'nrw' && !told) {
      told = true;
      ctx.toast?.(t('map.tiles_failed'));
    }
  });
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  let attrib = new maplibregl.AttributionControl({ compact: true, customAttribution: attributionText(ctx.attribution, t) });
  map.addControl(attrib, 'bottom-right');
  liftAboveCredits(container);

  const groups = layers.groups({ bands, coverage, basemap: cfg.basemap });
  // the site points, custom layers (map-points.js): the public sites (fid ≥ 0) below the zoom of
  // the polygons and, signed in, the non-public ones (map-staff.js) on top at every zoom
  const publicRows = [];
  for (let i = 0; i < ctx.prep.n; i++) if (ctx.prep.fid[i] >= 0) publicRows.push(i);
  const points = [createSitePoints(ctx.prep, publicRows, layers.sitePoints({ bands, sites: ctx.prep.n }))];
  const staff = createStaffPoints(ctx.prep, bands);
  if (staff) points.push(staff);
  const state = createStateSync(map, { prep: ctx.prep, bands, groups, coverage, points, h2Year: store.state.year,
    timings: ctx.timings });
  const pointer = createPointer(map, { store, prep: ctx.prep, points, getT: () => t, toast: ctx.toast });

  function neighbours() {
    return fetch('vendor/world-atlas/countries-50m.json').then((r) => r.json()).then((topo) => {
      const fc = clipped(topoFeatures(topo, 'countries', NEIGHBOUR_BOX), NEIGHBOUR_BOX);
      return fc;
    });
  }

  let neighbourData = null;
  const labelNeighbours = () => {
    if (!neighbourData) return;
    for (const f of neighbourData.features) {
      const k = `country.${f.properties.id}`;
      f.properties.label = t.has(k) ? t(k) : f.properties.name;
    }
    map.getSource('neighbours')?.setData(neighbourData);
  };

  // feature-state can be written as soon as the style (and so the source) exists: colour the
  // first tiles right away instead of re-rendering them after 'load'
  let loaded = false;
  const styleReady = new Promise((resolve) => {
    const go = () => {
      map.addLayer(points[0].layer, layers.beforeOf('site-points', map.getStyle().layers.map((l) => l.id)));
      if (staff) map.addLayer(staff.layer);
      loaded = true;
      resolve();
    };
    if (map.isStyleLoaded()) go();
    else map.once('style.load', go);
  });
  // resolves once the first site tiles are on their way (or after a moment): the first re-rank
  // then runs while the tiles download and parse, instead of delaying their requests
  const tilesRequested = new Promise((resolve) => {
    const on = (e) => {
      if (e.sourceId === 'nrw' && e.tile) {
        map.off('sourcedataloading', on);
        resolve();
      }
    };
    map.on('sourcedataloading', on);
    setTimeout(resolve, 1500);
  });
  const ready = new Promise((resolve) => {
    map.on('load', () => {
      relabelControls(container, t);
      container.querySelector('.maplibregl-ctrl-attrib')?.classList.remove('maplibregl-compact-show');
      pointer.attachTransport();
      state.applyLayers(store.state.layers);
      pointer.attachSites();
      resolve();
    });
  });

  store.addEventListener('change', (ev) => {
    if (!loaded) return; // sync() applies the whole state on load
    state.apply(ev.detail.keys, ev.detail.state);
  });

  /** The neighbour outline (world-atlas, ~0.3 MB): loaded after the sites are drawn. */
  function loadNeighbours() {
    return neighbours().then((fc) => { neighbourData = fc; labelNeighbours(); }).catch(() => {});
  }

  /** Resolves once the map is idle with all tiles loaded. */
  function idle() {
    return new Promise((resolve) => {
      const check = () => {
        if (map.loaded() && map.areTilesLoaded()) resolve();
        else map.once('idle', check);
      };
      map.once('idle', check);
      map.triggerRepaint();
    });
  }

  return {
    map,
    groups,
    points,
    styleReady,
    tilesRequested,
    ready,
    /** Apply the whole current state (after load). */
    sync() { state.sync(store.state); },
    idle,
    loadNeighbours,
    setT(next) {
      t = next;
      // the credits are text given when the control is made: a new control in the new language
      const box = container.querySelector('.maplibregl-ctrl-attrib');
      const open = !!box?.classList.contains('maplibregl-compact-show');
      map.removeControl(attrib);
      attrib = new maplibregl.AttributionControl({ compact: true, customAttribution: attributionText(ctx.attribution, t) });
      map.addControl(attrib, 'bottom-right');
      container.querySelector('.maplibregl-ctrl-attrib')?.classList.toggle('maplibregl-compact-show', open);
      relabelControls(container, t);
      labelNeighbours();
      pointer.close();
    },
    fitTo(bbox) { map.fitBounds(bbox, { padding: 60, maxZoom: 14 }); },
  };
}

function attributionText(attribution, t) {
  const seen = new Set();
  const parts = [];
  for (const a of attribution || []) {
    if (a.attribution && !seen.has(a.attribution)) {
      seen.add(a.attribution);
      parts.push(sourceText(t, a.attribution));
    }
  }
  parts.push(t('source.natural_earth_short'));
  return parts;
}

/**
 * The credits (bottom right) grow when opened: the H2 timeline and the score legend, which sit
 * above the map's bottom edge, are lifted above them (CSS variable --credits-h on the map's
 * wrapper), so the open credits never cover them.
 */
function liftAboveCredits(container) {
  const corner = container.querySelector('.maplibregl-ctrl-bottom-right');
  const wrap = container.parentElement;
  if (!corner || !wrap || typeof ResizeObserver === 'undefined') return;
  new ResizeObserver(() => {
    const box = corner.querySelector('.maplibregl-ctrl-attrib');
    const open = box?.classList.contains('maplibregl-compact-show');
    const h = open ? Math.ceil(container.getBoundingClientRect().bottom - box.getBoundingClientRect().top) : 0;
    wrap.style.setProperty('--credits-h', `${h}px`);
  }).observe(corner);
}

/**
 * A small static map of one site for the exposé: the same style, the site highlighted, the
 * canvas kept for printing. Resolves with the map when idle.
 */
export function createSiteMap(container, { cfg, bands, siteId, bounds, bandValue = null }) {
  const tiles = registerPmtiles(cfg.tiles);
  const map = new maplibregl.Map({
    container,
    style: layers.style({ tiles, tileset: cfg.tileset, bands, basemap: cfg.basemap }),
    bounds,
    fitBoundsOptions: { padding: 70, maxZoom: 13 },
    interactive: false,
    attributionControl: false,
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  return new Promise((resolve) => {
    map.on('load', () => {
      if (map.getZoom() < layers.POINTS_MAXZOOM) map.setZoom(layers.POINTS_MAXZOOM); // polygons, not points
      map.setFeatureState({ source: 'nrw', sourceLayer: 'sites', id: siteId }, { sel: true, band: bandValue ?? 3 });
      const done = () => (map.loaded() && map.areTilesLoaded() ? resolve(map) : map.once('idle', done));
      map.once('idle', done);
    });
  });
}
