// The map: the only module that imports MapLibre GL JS and pmtiles. It builds the style from
// layers.js, listens to the store, and writes feature-state (band, sel, hover, cmp) and
// global-state (h2Year); it never rebuilds a layer on input. Map clicks call store.select().

import * as maplibregl from 'maplibre-gl';
import { PMTiles, Protocol, SharedPromiseCache } from 'pmtiles';
import * as layers from './layers.js';
import { band } from './scoring.js';
import { features as topoFeatures, clipped } from './topojson.js';

export const NRW_BOUNDS = [[5.86, 50.32], [9.46, 52.53]];
const MAX_BOUNDS = [[1.5, 48.6], [14.0, 54.3]];
const NEIGHBOUR_BOX = [0, 47, 16, 56];

let protocol = null;
// set while the page is being left: requests cut off by the navigation are no errors
let leaving = false;
addEventListener('pagehide', () => { leaving = true; });
addEventListener('beforeunload', () => { leaving = true; });
addEventListener('pageshow', () => { leaving = false; });
const archives = new Map();

/**
 * pmtiles' shared cache keeps a failed header or directory fetch as a rejected promise, so one
 * dropped connection would break every later tile of that directory until the page is reloaded.
 * This cache forgets a failure, so that the next request (the retry below) fetches it again.
 * The directory key is the one pmtiles 4.x builds (source key, ETag, offset, length).
 */
class ForgetfulCache extends SharedPromiseCache {
  async getHeader(source) {
    try {
      return await super.getHeader(source);
    } catch (err) {
      this.cache.delete(source.getKey());
      throw err;
    }
  }

  async getDirectory(source, offset, length, header, signal) {
    try {
      return await super.getDirectory(source, offset, length, header, signal);
    } catch (err) {
      const key = `${source.getKey()}|${header.etag || ''}|${offset}|${length}`;
      this.cache.delete(key);
      this.pendingFetches.delete(key);
      throw err;
    }
  }
}

function absolute(url) {
  return new URL(url, document.baseURI).href;
}

function registerPmtiles(tilesUrl) {
  if (!protocol) {
    protocol = new Protocol();
    // a range request that fails on the network (a busy server, a dropped connection) is tried
    // twice more before MapLibre marks the tile as failed; an aborted one is not retried
    maplibregl.addProtocol('pmtiles', async (params, abort) => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await protocol.tilev4(params, abort);
        } catch (err) {
          if (abort.signal.aborted || err?.name === 'AbortError' || attempt >= 2) throw err;
          await new Promise((r) => { setTimeout(r, 250 * 2 ** attempt); });
        }
      }
    });
  }
  const url = absolute(tilesUrl);
  if (!archives.has(url)) {
    const p = new PMTiles(url, new ForgetfulCache()); // one per archive: map and warmUp share it
    protocol.add(p);
    archives.set(url, p);
  }
  return url;
}

/**
 * Start what the map needs before the rest of the data is in: MapLibre's web worker and the
 * PMTiles header with its root directory (called as soon as api/ui/config has arrived).
 */
export function warmUp(tilesUrl) {
  // at least two tile workers: MapLibre's default (half the cores) is one on a 2-core machine;
  // bench/ui.py there: ready median 3.4 s with two, 3.8 s with one, for about 40 MB more memory
  maplibregl.setWorkerCount(Math.max(2, Math.floor((navigator.hardwareConcurrency || 2) / 2)));
  maplibregl.prewarm();
  if (!tilesUrl) return;
  const p = archives.get(registerPmtiles(tilesUrl));
  // the tiles of the first view (NRW at zoom 6): fetching them now also brings the (leaf)
  // directories into the archive's cache before the map asks
  const z = 6;
  const x = (lon) => Math.floor(((lon + 180) / 360) * 2 ** z);
  const y = (lat) => {
    const r = (lat * Math.PI) / 180;
    return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
  };
  const [[w, s], [e, n]] = NRW_BOUNDS;
  for (let tx = x(w); tx <= x(e); tx++) for (let ty = y(n); ty <= y(s); ty++) p.getZxy(z, tx, ty).catch(() => {});
}

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
 * The main map. `ctx` = {store, t, cfg, coverage, prep (scoring.prepareTable), onReady}.
 * Returns {map, ready (Promise), setT(t)}.
 */
export function createMap(container, ctx) {
  const { store, cfg } = ctx;
  let t = ctx.t;
  const tiles = registerPmtiles(cfg.tiles);
  const coverage = ctx.coverage.map((c) => (c.url ? { ...c, url: absolute(c.url) } : c));
  const map = new maplibregl.Map({
    container,
    // image overlays are added when first switched on (their PNGs are not loaded before)
    style: layers.style({ tiles, basemap: cfg.basemap, coverage: coverage.filter((c) => c.kind !== 'image'),
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
    if (leaving || err?.name === 'AbortError' || /abort/i.test(msg)) return;
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
  map.addControl(new maplibregl.AttributionControl({ compact: true, customAttribution: attributionText(ctx) }), 'bottom-right');

  const groups = layers.groups({ coverage, basemap: cfg.basemap });
  const prev = { sel: null, hover: null, cmp: new Set() };
  const prep = ctx.prep;
  const popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false, offset: 10, className: 'hover-tip' });

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
      features.push({ type: 'Feature', id: row, properties: { role, band: bands ? bands[row] : -2 },
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

  // The band of every site lives in `bands`; it is written to the feature-state of the source
  // layer that is drawn at the current zoom (points below POINTS_MAXZOOM, polygons from there),
  // and the other layer catches up when the zoom crosses over: half the calls per slider move.
  let bands = null;
  const applied = {};
  const activeLayer = () => (map.getZoom() < layers.POINTS_MAXZOOM ? 'site_points' : 'sites');

  function flushBands(sourceLayer) {
    if (!bands) return;
    const started = performance.now();
    const done = applied[sourceLayer] || (applied[sourceLayer] = new Int8Array(prep.n).fill(-3));
    const ids = sourceLayer === 'site_points' ? prep.fid : prep.ids; // the layers' promoteId
    for (let i = 0; i < prep.n; i++) {
      if (bands[i] !== done[i]) {
        done[i] = bands[i];
        if (ids[i] !== -1) map.setFeatureState({ source: 'nrw', sourceLayer, id: ids[i] }, { band: bands[i] });
      }
    }
    if (ctx.timings) ctx.timings.applyMs = performance.now() - started;
  }

  function applyRanking(r) {
    if (!bands) bands = new Int8Array(prep.n);
    for (let i = 0; i < prep.n; i++) bands[i] = band(r.score[i], layers.SCORE_BREAKS);
    active = activeLayer();
    flushBands(active);
  }
  let active = null;
  map.on('zoom', () => {
    const a = activeLayer();
    if (bands && active !== a) {
      active = a;
      flushBands(a);
    }
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

  /** The transport points (off unless the store says on): added once, on load, in their slots. */
  function transportTips() {
    for (const id of layers.TRANSPORT_LAYERS.filter((x) => x.endsWith('-points'))) {
      map.on('mousemove', id, transportTip);
      map.on('mouseleave', id, () => popup.remove());
    }
  }

  function transportTip(e) {
    if (drawing()) return;
    const f = e.features?.[0];
    if (!f) return;
    // a site under the pointer keeps its own tip
    if (map.queryRenderedFeatures(e.point, { layers: layers.SITE_LAYERS.filter((x) => map.getLayer(x)) }).length) return;
    const p = f.properties;
    const el = document.createElement('div');
    const name = document.createElement('strong');
    name.textContent = p.name || p.ref || p.iata || '';
    const sub = document.createElement('div');
    sub.textContent = t(`transport.${transportKind(f)}`);
    el.append(name, sub);
    popup.setLngLat(e.lngLat).setDOMContent(el).addTo(map);
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

  const drawing = () => document.body.classList.contains('drawing');
  /** A site feature's site_id: points carry only their fid (layers/tiles.py), polygons the id. */
  const siteIdOf = (f) => (f.sourceLayer === 'site_points' ? prep.ids[prep.rowOfFid.get(f.id)] : f.id ?? f.properties.site_id);

  function tip(e) {
    if (drawing()) return;
    const f = e.features?.[0];
    if (!f) return;
    const id = siteIdOf(f);
    store.hover(id);
    const row = prep.rowOf.get(id);
    if (row === undefined) return;
    const r = store.state.ranking;
    const rk = r?.rank[row];
    const el = document.createElement('div');
    const name = document.createElement('strong');
    name.textContent = prep.columns.name[row] || id;
    const sub = document.createElement('div');
    sub.textContent = rk ? t('map.tip', { score: num1(t, r.score[row]), rank: rk })
      : t('map.tip_excluded');
    el.append(name, sub);
    popup.setLngLat(e.lngLat).setDOMContent(el).addTo(map);
  }

  const pinned = new maplibregl.Popup({ closeButton: true, closeOnClick: true, offset: 10, className: 'site-pop', maxWidth: '260px' });
  function clickPopup(id, lngLat) {
    const row = prep.rowOf.get(id);
    if (row === undefined) return;
    popup.remove();
    pinned.setLngLat(lngLat).setDOMContent(popupContent(id, row)).addTo(map);
  }
  function popupContent(id, row) {
    const el = document.createElement('div');
    const name = document.createElement('strong');
    name.textContent = prep.columns.name[row] || id;
    const r = store.state.ranking;
    const sub = document.createElement('div');
    sub.textContent = r?.rank[row] ? t('map.tip', { score: num1(t, r.score[row]), rank: r.rank[row] }) : t('map.tip_excluded');
    const bar = document.createElement('div');
    bar.className = 'pop-actions';
    const mk = (action, on, keyOn, keyOff) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'btn small';
      b.textContent = t(on ? keyOn : keyOff);
      b.setAttribute('aria-pressed', String(on));
      b.addEventListener('click', () => {
        if (action === 'shortlist') store.toggleShortlist(id);
        else if (store.toggleCompare(id) === false) ctx.toast?.(t('compare.full'));
        pinned.setDOMContent(popupContent(id, row));
      });
      return b;
    };
    bar.append(mk('shortlist', store.state.shortlist.includes(id), 'map.unshortlist', 'map.shortlist'),
      mk('compare', store.state.cmp.includes(id), 'map.uncompare', 'map.compare'));
    el.append(name, sub, bar);
    return el;
  }

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
    const go = () => { loaded = true; resolve(); };
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
      transportTips();
      applyLayers(store.state.layers);
      for (const id of layers.SITE_LAYERS.concat(['site-points'])) {
        map.on('mousemove', id, tip);
        map.on('mouseleave', id, () => { store.hover(null); popup.remove(); });
        map.on('click', id, (e) => {
          const f = e.features?.[0];
          if (!f || drawing()) return;
          const sid = siteIdOf(f);
          store.select(sid);
          clickPopup(sid, e.lngLat);
        });
      }
      map.on('mouseenter', 'site-points', () => { map.getCanvas().style.cursor = 'pointer'; });
      map.on('mouseleave', 'site-points', () => { map.getCanvas().style.cursor = ''; });
      map.on('mouseenter', 'site-fill', () => { map.getCanvas().style.cursor = 'pointer'; });
      map.on('mouseleave', 'site-fill', () => { map.getCanvas().style.cursor = ''; });
      resolve();
    });
  });

  store.addEventListener('change', (ev) => {
    const { keys, state } = ev.detail;
    if (!loaded) return; // sync() applies the whole state on load
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
  });

  // The H2 year filters the network in the worker: a new value re-parses every tile of the
  // source, 50,000 site points included, so the same value is never set again (the style
  // starts with it).
  let h2Year = store.state.year;
  function setYear(year) {
    if (year === h2Year) return;
    h2Year = year;
    map.setGlobalStateProperty('h2Year', year);
  }

  /** Apply the whole current state (after load). */
  function sync() {
    const s = store.state;
    if (s.ranking) applyRanking(s.ranking);
    prev.sel = applyFlag('sel', s.sel, prev.sel);
    applyCompare(s.cmp);
    applyLayers(s.layers);
    setYear(s.year);
    updateMarks();
  }

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
    styleReady,
    tilesRequested,
    ready,
    sync,
    idle,
    loadNeighbours,
    setT(next) {
      t = next;
      relabelControls(container, t);
      labelNeighbours();
      popup.remove();
      pinned.remove();
    },
    fitTo(bbox) { map.fitBounds(bbox, { padding: 60, maxZoom: 14 }); },
  };
}

/** The i18n suffix (`transport.<kind>`) of a transport feature. */
export function transportKind(f) {
  const p = f.properties || {};
  switch (f.sourceLayer) {
    case 'motorway_junctions': return 'junction';
    case 'rail_stations': return p.long_distance === true || p.traffic === 'FV' ? 'station_fv' : 'station_rv';
    case 'rail_freight': return 'freight';
    case 'ports': return 'port';
    case 'airports': return p.commercial === true ? 'airport' : 'airfield';
    default: return 'other';
  }
}

function num1(t, x) {
  return new Intl.NumberFormat(t.locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(x);
}

function attributionText(ctx) {
  const seen = new Set();
  const parts = [];
  for (const a of ctx.attribution || []) {
    if (a.attribution && !seen.has(a.attribution)) {
      seen.add(a.attribution);
      parts.push(a.attribution);
    }
  }
  parts.push(ctx.t('source.natural_earth_short'));
  return parts;
}

/**
 * A small static map of one site for the exposé: the same style, the site highlighted, the
 * canvas kept for printing. Resolves with the map when idle.
 */
export function createSiteMap(container, { cfg, siteId, bounds, bandValue = null }) {
  const tiles = registerPmtiles(cfg.tiles);
  const map = new maplibregl.Map({
    container,
    style: layers.style({ tiles, basemap: cfg.basemap }),
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
