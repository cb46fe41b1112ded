// Score your own area: draw a polygon (terra-draw) or drop / open a GeoJSON file; the polygon is
// scored by POST api/score and shown in the detail panel (store.setAdhoc + select('adhoc')).
// A refused polygon shows the API's own message (problem+json `detail`). A drawn polygon is
// named "Own area N" (N counts up per page), a file's polygon by the file. A polygon larger than
// MAX_OWN_AREA_HA is refused here, in the page's language, before it is sent: the API refuses
// it too (geo/areas.py MAX_OWN_AREA_HA, the same limit; tests/api/test_own_area_limit.py).
// terra-draw (~260 kB) is imported on first use, not at page load.

import * as api from './api.js';
import { apiQuery } from './permalink.js';
import { unit } from './i18n.js';

const MAX_FILE_BYTES = 5 * 1024 * 1024;
/** The largest polygon scored as one site, in ha (geo/areas.py MAX_OWN_AREA_HA: why 2,000). */
export const MAX_OWN_AREA_HA = 2000;
const EARTH_RADIUS_M = 6371008.8;
let scored = 0; // own areas scored in this page: their ids own:1, own:2, …

/** Area of a ring of [lon, lat] in m²: the shoelace formula on a local equirectangular
 * projection (within a few per mille of the geodesic area at the size of a site or a region). */
function ringArea(ring, lat0) {
  const k = Math.PI / 180;
  const cx = EARTH_RADIUS_M * Math.cos(lat0 * k) * k;
  const cy = EARTH_RADIUS_M * k;
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    a += (ring[j][0] * cx) * (ring[i][1] * cy) - (ring[i][0] * cx) * (ring[j][1] * cy);
  }
  return Math.abs(a) / 2;
}

/** Area in ha of a GeoJSON Polygon or MultiPolygon (outer rings less their holes); NaN if unreadable. */
export function areaHa(geometry) {
  try {
    const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
    let m2 = 0;
    for (const rings of polys) {
      const lat0 = rings[0].reduce((s, p) => s + p[1], 0) / rings[0].length;
      rings.forEach((ring, i) => { m2 += (i === 0 ? 1 : -1) * ringArea(ring, lat0); });
    }
    return Number.isFinite(m2) ? m2 / 1e4 : NaN;
  } catch {
    return NaN; // malformed coordinates: the API will say what is wrong
  }
}

/** The first Polygon / MultiPolygon of parsed GeoJSON (Feature, FeatureCollection or geometry). */
export function firstPolygon(gj) {
  if (!gj || typeof gj !== 'object') return null;
  if (gj.type === 'Polygon' || gj.type === 'MultiPolygon') return { type: 'Feature', properties: {}, geometry: gj };
  if (gj.type === 'Feature') return firstPolygon(gj.geometry) && { type: 'Feature', properties: gj.properties || {}, geometry: gj.geometry };
  if (gj.type === 'FeatureCollection') {
    for (const f of gj.features || []) {
      const p = firstPolygon(f);
      if (p) return p;
    }
  }
  return null;
}

function bbox(geom) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else c.forEach(walk);
  };
  walk(geom.coordinates);
  return [[b[0], b[1]], [b[2], b[3]]];
}

export class Draw {
  constructor({ mapApi, store, criteria, getT, toast, button, fileInput, hint, dropZone, container }) {
    Object.assign(this, { mapApi, store, criteria, getT, toast, button, hint });
    this.draw = null;
    this.feature = null;
    this.name = null; // the scored polygon's name: "Own area N" or the file's name
    this.drawn = 0; // polygons drawn so far (their number N)
    this.id = null; // 'own:K', the id an own area has in the comparison
    this.abort = null;
    this.timer = null;
    button.addEventListener('click', () => (this.active ? this.stop() : this.start()));
    fileInput.addEventListener('change', () => {
      const f = fileInput.files?.[0];
      if (f) this.readFile(f);
      fileInput.value = '';
    });
    const wrap = container;
    wrap.addEventListener('dragover', (e) => {
      if (![...(e.dataTransfer?.types || [])].includes('Files')) return;
      e.preventDefault();
      dropZone.hidden = false;
    });
    dropZone.addEventListener('dragleave', () => { dropZone.hidden = true; });
    wrap.addEventListener('drop', (e) => {
      e.preventDefault();
      dropZone.hidden = true;
      const f = e.dataTransfer?.files?.[0];
      if (f) this.readFile(f);
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.active) this.stop();
    });
    store.addEventListener('change', (ev) => {
      const k = ev.detail.keys;
      if (this.feature && (k.has('weights') || k.has('profile') || k.has('year'))) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.score(this.feature, false), 400);
      }
      if (k.has('sel') && store.state.sel !== 'adhoc' && this.feature && !this.active) this.clearShape();
    });
  }

  get active() {
    return this.button.getAttribute('aria-pressed') === 'true';
  }

  async ensure() {
    if (this.draw) return this.draw;
    const [{ TerraDraw, TerraDrawPolygonMode }, { TerraDrawMapLibreGLAdapter }] = await Promise.all([
      import('terra-draw'), import('terra-draw-maplibre-gl-adapter')]);
    if (this.draw) return this.draw;
    const map = this.mapApi.map;
    this.draw = new TerraDraw({
      adapter: new TerraDrawMapLibreGLAdapter({ map }),
      modes: [new TerraDrawPolygonMode({
        styles: { fillColor: '#d55e00', fillOpacity: 0.25, outlineColor: '#d55e00', outlineWidth: 3,
          closingPointColor: '#ffffff', closingPointOutlineColor: '#d55e00', closingPointWidth: 5 },
      })],
    });
    this.draw.start();
    this.draw.on('finish', (id) => {
      const f = this.draw.getSnapshotFeature(id);
      this.stop(true);
      if (f) this.score({ type: 'Feature', properties: {}, geometry: f.geometry }, true, this.getT()('draw.own_name', { n: ++this.drawn }));
    });
    return this.draw;
  }

  async start() {
    const d = await this.ensure();
    d.clear();
    d.setMode('polygon');
    this.button.setAttribute('aria-pressed', 'true');
    document.body.classList.add('drawing');
    this.hint.hidden = false;
    this.mapApi.map.getCanvas().focus();
  }

  stop(keep = false) {
    if (!this.draw) return;
    this.draw.setMode('static');
    if (!keep) this.draw.clear();
    this.button.setAttribute('aria-pressed', 'false');
    // the click that closes the polygon is still on its way to the map's site layers
    setTimeout(() => document.body.classList.remove('drawing'), 300);
    this.hint.hidden = true;
  }

  clearShape() {
    this.feature = null;
    this.draw?.clear();
  }

  async readFile(file) {
    const t = this.getT();
    if (file.size > MAX_FILE_BYTES) {
      this.toast(t('draw.file_too_large'));
      return;
    }
    let gj;
    try {
      gj = JSON.parse(await file.text());
    } catch {
      this.store.setAdhoc({ error: t('draw.not_json'), name: file.name });
      this.store.select('adhoc');
      return;
    }
    const f = firstPolygon(gj);
    if (!f) {
      this.store.setAdhoc({ error: t('draw.no_polygon'), name: file.name });
      this.store.select('adhoc');
      return;
    }
    this.stop();
    const d = await this.ensure();
    d.clear();
    if (f.geometry.type === 'Polygon') {
      try {
        d.addFeatures([{ type: 'Feature', geometry: f.geometry, properties: { mode: 'polygon' } }]);
      } catch { /* shown only if terra-draw accepts it; the API decides validity */ }
    }
    try { this.mapApi.fitTo(bbox(f.geometry)); } catch { /* malformed coordinates: the API will say */ }
    this.score(f, true, file.name);
  }

  /**
   * Score `feature` (POST api/score). A new polygon (`select`) comes with its `name` and a new
   * id; a re-score (weights, profile or year changed) keeps the polygon's name and id.
   */
  async score(feature, select, name) {
    const t = this.getT();
    this.feature = feature;
    this.abort?.abort();
    this.abort = new AbortController();
    if (select) {
      this.name = name ?? null;
      this.id = `own:${++scored}`;
    }
    const label = this.name;
    const id = this.id;
    if (select) {
      this.store.setAdhoc({ pending: true, feature, name: label, id });
      this.store.select('adhoc');
    }
    const ha = areaHa(feature.geometry);
    if (ha > MAX_OWN_AREA_HA) {
      this.store.setAdhoc({ error: t('draw.too_large', { area: unit(t.lang, ha, 'hectare', 0),
        limit: unit(t.lang, MAX_OWN_AREA_HA, 'hectare', 0) }), feature, name: label, id });
      return;
    }
    const q = apiQuery(this.store.state, this.criteria.map((c) => c.name));
    try {
      const result = await api.scorePolygon(feature, q, this.abort.signal);
      this.store.setAdhoc({ result, feature, name: label, id });
    } catch (e) {
      if (e.name === 'AbortError') return;
      this.store.setAdhoc({ error: e.detail || e.message || t('draw.failed'), feature, name: label, id });
    }
  }
}
