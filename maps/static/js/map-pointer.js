// Pointer interaction on the map: the hover tip of a site or transport point, the pinned popup
// of a clicked site (with its shortlist and compare buttons), the pointer cursor. Writes only
// through the store (hover, select, toggleShortlist, toggleCompare).

import * as maplibregl from 'maplibre-gl';
import * as layers from './layers.js';

/**
 * The pointer handlers of `map`. `ctx` = {store, prep, points (map-points.js: the point layers,
 * bottom first), getT (the current translator), toast}.
 * Returns {attachTransport(), attachSites() (both called once, on load), close() (the popups)}.
 */
export function createPointer(map, ctx) {
  const { store, prep, points, getT } = ctx;
  const popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false, offset: 10, className: 'hover-tip' });
  const pinned = new maplibregl.Popup({ closeButton: true, closeOnClick: true, offset: 10, className: 'site-pop', maxWidth: '260px' });

  const drawing = () => document.body.classList.contains('drawing');
  /** The table row of the site point under `point` (the top layer's first), or -1. */
  const pickPoint = (point) => {
    for (let i = points.length - 1; i >= 0; i--) {
      const row = points[i].pick(map, point);
      if (row >= 0) return row;
    }
    return -1;
  };
  /** A site polygon's site_id (its promoted id). */
  const siteIdOf = (f) => f.id ?? f.properties.site_id;

  /** The transport points (off unless the store says on): added once, on load, in their slots. */
  function attachTransport() {
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
    if (pickPoint(e.point) >= 0) return;
    if (map.queryRenderedFeatures(e.point, { layers: layers.SITE_LAYERS.filter((x) => map.getLayer(x)) }).length) return;
    const t = getT();
    const p = f.properties;
    const el = document.createElement('div');
    const name = document.createElement('strong');
    name.textContent = p.name || p.ref || p.iata || '';
    const sub = document.createElement('div');
    sub.textContent = t(`transport.${transportKind(f)}`);
    el.append(name, sub);
    popup.setLngLat(e.lngLat).setDOMContent(el).addTo(map);
  }

  function tip(e) {
    if (drawing() || pickPoint(e.point) >= 0) return; // a point above the polygon has the tip
    const f = e.features?.[0];
    if (f) tipOf(siteIdOf(f), e.lngLat);
  }

  function tipOf(id, lngLat) {
    store.hover(id);
    const row = prep.rowOf.get(id);
    if (row === undefined) return;
    const t = getT();
    const r = store.state.ranking;
    const rk = r?.rank[row];
    const el = document.createElement('div');
    const name = document.createElement('strong');
    name.textContent = prep.columns.name[row] || id;
    const sub = document.createElement('div');
    sub.textContent = rk ? t('map.tip', { score: num1(t, r.score[row]), rank: rk })
      : t('map.tip_excluded');
    el.append(name, sub);
    popup.setLngLat(lngLat).setDOMContent(el).addTo(map);
  }

  function clickPopup(id, lngLat) {
    const row = prep.rowOf.get(id);
    if (row === undefined) return;
    popup.remove();
    pinned.setLngLat(lngLat).setDOMContent(popupContent(id, row)).addTo(map);
  }

  function popupContent(id, row) {
    const t = getT();
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
        else if (store.toggleCompare(id) === false) ctx.toast?.(getT()('compare.full'));
        pinned.setDOMContent(popupContent(id, row));
      });
      return b;
    };
    bar.append(mk('shortlist', store.state.shortlist.includes(id), 'map.unshortlist', 'map.shortlist'),
      mk('compare', store.state.cmp.includes(id), 'map.uncompare', 'map.compare'));
    el.append(name, sub, bar);
    return el;
  }

  /** Hover tips, click to select (and pin a popup), and the pointer cursor on the sites. */
  function attachSites() {
    for (const id of layers.SITE_LAYERS) {
      map.on('mousemove', id, tip);
      map.on('mouseleave', id, () => { store.hover(null); popup.remove(); });
      map.on('click', id, (e) => {
        const f = e.features?.[0];
        if (!f || drawing() || pickPoint(e.point) >= 0) return;
        const sid = siteIdOf(f);
        store.select(sid);
        clickPopup(sid, e.lngLat);
      });
    }
    // the points are custom layers (map-points.js): found under the pointer by their own index
    let overPoint = null; // the site id of the point under the pointer
    const leavePoint = () => {
      if (overPoint === null) return;
      map.getCanvas().style.cursor = '';
      if (store.state.hover === overPoint) { // not a polygon's hover that took over
        store.hover(null);
        popup.remove();
      }
      overPoint = null;
    };
    map.on('mousemove', (e) => {
      const row = drawing() ? -1 : pickPoint(e.point);
      if (row < 0) return leavePoint();
      overPoint = prep.ids[row];
      map.getCanvas().style.cursor = 'pointer';
      tipOf(overPoint, e.lngLat);
    });
    map.on('mouseout', leavePoint);
    map.on('click', (e) => {
      if (drawing()) return;
      const row = pickPoint(e.point);
      if (row < 0) return;
      store.select(prep.ids[row]);
      clickPopup(prep.ids[row], e.lngLat);
    });
    map.on('mouseenter', 'site-fill', () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', 'site-fill', () => { map.getCanvas().style.cursor = ''; });
  }

  return {
    attachTransport,
    attachSites,
    close() {
      popup.remove();
      pinned.remove();
    },
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
