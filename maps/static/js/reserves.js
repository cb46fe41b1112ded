// The "Flächenbilanz" view (issue 19 §3): the reserves of GET api/statistics/reserves as a
// choropleth of one figure per municipality or Kreis, opened from the header. The panel (the
// Changes view's panel, css/changes.css) chooses level and figure, links the CSV and XLSX of the
// level in the page's language and shows the legend; a click on a unit (or the unit list, for
// the keyboard) shows its charts — reserve by planning category, by availability, take-up per
// snapshot — as inline SVG with the same figures in a table. The fill is feature-state on the
// tiles' boundaries (promoteId ags / kreis_ags, layers hidden in the style until the panel
// opens), under the sites; closing the panel hides it and clears the state.

import * as api from './api.js';
import { PLAN_COLORS, BROWNFIELD_COLOR, LEP_COLOR } from './layers.js';
import {
  AVAILABILITY_PARTS, LEVELS, MAP_FIGURES, RESERVE_LAYERS, bars, categoryParts, classBreaks, classOf, downloadLinks,
  fillColor, formatFigure, legendRows, takeupSeries,
} from './reserves-data.js';

const SVG = 'http://www.w3.org/2000/svg';
const SNAPSHOTS_MAX = 6; // take-up is drawn for at most the newest six snapshots
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
const svg = (tag, attrs) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
};

export class ReservesView {
  /** @param {HTMLElement} root the [data-reserves] section; ctx = {store, getT, toast, map, button} */
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.level = root.querySelector('[data-reserves-level]');
    this.figure = root.querySelector('[data-reserves-figure]');
    this.unitSel = root.querySelector('[data-reserves-unit]');
    this.docs = new Map(); // `${level}|${snapshot or ''}` → answer
    this.doc = null;
    this.shown = null; // {level, keys} whose feature-state is set
    this.key = null; // the chosen unit
    this.parts = categoryParts(PLAN_COLORS, BROWNFIELD_COLOR, LEP_COLOR);
    ctx.button.addEventListener('click', () => (root.hidden ? this.open() : this.close()));
    root.querySelector('[data-action=reserves-close]').addEventListener('click', () => this.close());
    this.level.addEventListener('change', () => { this.key = null; this.load(); });
    this.figure.addEventListener('change', () => this.paint());
    this.unitSel.addEventListener('change', () => this.choose(this.unitSel.value || null));
    root.querySelector('[data-reserves-filter]').addEventListener('click', () => this.filterRanking());
    const map = ctx.map;
    for (const l of Object.values(LEVELS)) {
      map.on('click', l.fill, (e) => {
        if (this.root.hidden || this.level.value !== this.levelOf(l)) return;
        const f = e.features?.[0];
        if (f?.id !== undefined) this.choose(String(f.id));
      });
      map.on('mouseenter', l.fill, () => { map.getCanvas().style.cursor = 'pointer'; });
      map.on('mouseleave', l.fill, () => { map.getCanvas().style.cursor = ''; });
    }
    ctx.store.addEventListener('change', (ev) => {
      if (!root.hidden && ev.detail.keys.has('lang')) this.render();
    });
  }

  levelOf(l) {
    return Object.keys(LEVELS).find((k) => LEVELS[k] === l);
  }

  async open() {
    this.root.hidden = false;
    this.ctx.button.setAttribute('aria-expanded', 'true');
    document.body.classList.add('reserves-open');
    await this.load();
    this.root.querySelector('h2')?.focus?.();
  }

  close() {
    this.root.hidden = true;
    this.ctx.button.setAttribute('aria-expanded', 'false');
    document.body.classList.remove('reserves-open');
    this.clearMap();
    for (const id of RESERVE_LAYERS) if (this.ctx.map.getLayer(id)) this.ctx.map.setLayoutProperty(id, 'visibility', 'none');
  }

  async fetchDoc(level, snapshot = null) {
    const k = `${level}|${snapshot || ''}`;
    if (!this.docs.has(k)) {
      const q = new URLSearchParams({ level });
      if (snapshot) q.set('snapshot', snapshot);
      const p = api.json(`api/statistics/reserves?${q}`);
      this.docs.set(k, p);
      p.catch(() => this.docs.delete(k));
    }
    return this.docs.get(k);
  }

  async load() {
    this.root.setAttribute('aria-busy', 'true');
    try {
      const doc = await this.fetchDoc(this.level.value);
      if (this.root.hidden) return;
      this.doc = doc;
      this.root.dataset.loaded = doc.level;
      this.render();
    } catch (e) {
      this.ctx.toast(e.detail || e.message);
    } finally {
      this.root.removeAttribute('aria-busy');
    }
  }

  /** Figure options, unit list, downloads, synthetic label; then the fill and the chart. */
  render() {
    const t = this.ctx.getT();
    const d = this.doc;
    if (!d) return;
    const label = (f) => (t.lang === 'de' ? f.label_de : f.label_en) || f.name;
    const figs = new Map(d.figures.map((f) => [f.name, f]));
    const chosen = this.figure.value || MAP_FIGURES[0];
    this.figure.replaceChildren(...MAP_FIGURES.filter((n) => figs.has(n)).map((n) => {
      const o = el('option', null, label(figs.get(n)));
      o.value = n;
      o.selected = n === chosen;
      return o;
    }));
    const coll = new Intl.Collator(t.lang);
    const units = [...d.units].sort((a, b) => coll.compare(a.name, b.name));
    const none = el('option', null, t('reserves.unit_none'));
    none.value = '';
    this.unitSel.replaceChildren(none, ...units.map((u) => {
      const o = el('option', null, this.level.value === 'municipality' ? `${u.name} (${u.key})` : u.name);
      o.value = u.key;
      return o;
    }));
    this.unitSel.value = this.key || '';
    const links = downloadLinks(d.level, t.lang);
    this.root.querySelector('[data-reserves-csv]').href = links.csv;
    this.root.querySelector('[data-reserves-xlsx]').href = links.xlsx;
    this.root.querySelector('[data-reserves-synthetic]').hidden = !d.synthetic;
    const note = [t('reserves.snapshot', { id: d.snapshot }), d.note ? t('reserves.no_predecessor') : ''].filter(Boolean);
    this.root.querySelector('[data-reserves-note]').textContent = note.join(' ');
    this.paint();
  }

  /** The fill of the chosen figure: a class per unit in feature-state, the legend. */
  paint() {
    const d = this.doc;
    if (!d) return;
    const t = this.ctx.getT();
    const map = this.ctx.map;
    const name = this.figure.value || MAP_FIGURES[0];
    const fig = d.figures.find((f) => f.name === name);
    const classes = classBreaks(d.units.map((u) => u[name]));
    this.clearMap();
    const lv = LEVELS[d.level];
    for (const u of d.units) {
      map.setFeatureState({ source: 'nrw', sourceLayer: lv.sourceLayer, id: u.key },
        { rv: u[name], rc: classOf(u[name], classes), rsel: u.key === this.key });
    }
    this.shown = { level: d.level, keys: d.units.map((u) => u.key) };
    map.setPaintProperty(lv.fill, 'fill-color', fillColor(classes.length));
    for (const [k, l] of Object.entries(LEVELS)) {
      for (const id of [l.fill, l.line]) map.setLayoutProperty(id, 'visibility', k === d.level ? 'visible' : 'none');
    }
    const legend = this.root.querySelector('[data-reserves-legend]');
    legend.replaceChildren(...legendRows(t.lang, fig.kind, classes).map((r) => {
      const li = el('li', r.key ? 'extra' : 'class');
      const sw = el('span', 'sw');
      sw.style.background = r.color;
      sw.setAttribute('aria-hidden', 'true');
      li.append(sw, el('span', null, r.key ? t(r.key) : (r.from === r.to ? r.from : `${r.from} – ${r.to}`)));
      return li;
    }));
    this.root.querySelector('[data-reserves-legend-title]').textContent = t.lang === 'de' ? fig.label_de : fig.label_en;
    this.renderUnit();
  }

  clearMap() {
    const s = this.shown;
    if (!s) return;
    const lv = LEVELS[s.level];
    if (this.ctx.map.getSource('nrw')) this.ctx.map.removeFeatureState({ source: 'nrw', sourceLayer: lv.sourceLayer });
    this.shown = null;
  }

  /** Choose a unit (map click or list): outline it, show its charts. */
  choose(key) {
    const lv = LEVELS[this.doc?.level];
    if (!lv) return;
    const map = this.ctx.map;
    if (this.key) map.setFeatureState({ source: 'nrw', sourceLayer: lv.sourceLayer, id: this.key }, { rsel: false });
    this.key = key;
    if (key) map.setFeatureState({ source: 'nrw', sourceLayer: lv.sourceLayer, id: key }, { rsel: true });
    this.unitSel.value = key || '';
    this.renderUnit();
  }

  async renderUnit() {
    const box = this.root.querySelector('[data-reserves-unit-box]');
    const u = this.doc?.units.find((x) => x.key === this.key);
    box.hidden = !u;
    if (!u) return;
    const t = this.ctx.getT();
    const figs = new Map(this.doc.figures.map((f) => [f.name, f]));
    const label = (n) => { const f = figs.get(n); return (t.lang === 'de' ? f?.label_de : f?.label_en) || n; };
    const fmt = (n, v) => formatFigure(t.lang, figs.get(n)?.kind || 'ha', v);
    box.querySelector('[data-reserves-unit-name]').textContent = u.name;
    const dl = box.querySelector('[data-reserves-figures]');
    dl.replaceChildren(...['reserve_ha', 'marketable_ha', 'available_now_ha', 'brownfield_share', 'sites',
      'sites_ge_10ha', 'sites_ge_50ha', 'takeup_ha', 'takeup_ha_per_year'].flatMap((n) => {
      const dd = el('dd', null, fmt(n, u[n]));
      dd.dataset.figure = n;
      dd.dataset.value = String(u[n] ?? '');
      return [el('dt', null, label(n)), dd];
    }));
    const charts = box.querySelector('[data-reserves-charts]');
    charts.replaceChildren(
      this.chart('category', t('reserves.chart_category'), bars(u, this.parts), label, (n, v) => fmt(n, v)),
      this.chart('availability', t('reserves.chart_availability'), bars(u, AVAILABILITY_PARTS), label, (n, v) => fmt(n, v)),
    );
    const key = u.key;
    const series = await this.takeup(key).catch(() => []);
    if (this.key !== key || !series.length) return;
    const day = (iso) => (iso ? new Date(iso).toLocaleDateString(t.locale, { dateStyle: 'medium', timeZone: 'UTC' }) : '');
    const rows = series.map((s) => ({ figure: s.snapshot, value: s.value, color: '#7b3294' }));
    const max = Math.max(0, ...rows.map((r) => r.value));
    rows.forEach((r) => { r.share = max > 0 ? r.value / max : 0; });
    const names = new Map(series.map((s) => [s.snapshot, day(s.date)]));
    charts.append(this.chart('takeup', t('reserves.chart_takeup'), rows, (n) => names.get(n) || n, (_n, v) => fmt('takeup_ha', v)));
  }

  /** Take-up of one unit per snapshot (each snapshot's answer at this level, fetched once). */
  async takeup(key) {
    this.snapshots ??= await api.json('api/snapshots');
    const list = (this.snapshots.snapshots || []).slice(0, SNAPSHOTS_MAX);
    const level = this.doc.level;
    const docs = await Promise.all(list.map((s) => (s.live ? this.fetchDoc(level) : this.fetchDoc(level, s.id)).catch(() => null)));
    return takeupSeries(docs.filter(Boolean), key);
  }

  /** A horizontal bar chart (SVG, hidden from screen readers) and the same figures as a table. */
  chart(kind, title, rows, label, fmt) {
    const fig = el('figure', 'rchart');
    fig.dataset.chart = kind;
    fig.append(el('figcaption', null, title));
    const rowH = 18;
    const labelW = 150;
    const barW = 130;
    const s = svg('svg', { viewBox: `0 0 ${labelW + barW + 70} ${rows.length * rowH}`, width: '100%', 'aria-hidden': 'true', focusable: 'false' });
    rows.forEach((r, i) => {
      const y = i * rowH;
      const name = svg('text', { x: labelW - 6, y: y + 13, 'text-anchor': 'end', class: 'lab' });
      name.textContent = shortLabel(label(r.figure));
      const bar = svg('rect', { x: labelW, y: y + 3, height: rowH - 6, width: Math.max(r.value > 0 ? 1 : 0, r.share * barW), fill: r.color });
      const val = svg('text', { x: labelW + r.share * barW + 4, y: y + 13, class: 'val' });
      val.textContent = fmt(r.figure, r.value);
      s.append(name, bar, val);
    });
    const table = el('table', 'sr-only');
    const tb = el('tbody');
    for (const r of rows) {
      const tr = el('tr');
      const td = el('td', null, fmt(r.figure, r.value));
      td.dataset.figure = r.figure;
      td.dataset.value = String(r.value ?? '');
      tr.append(el('th', null, label(r.figure)), td);
      tb.append(tr);
    }
    table.append(el('caption', null, title), tb);
    fig.append(s, table);
    return fig;
  }

  /** The ranking shows the chosen unit's sites: its Kreis or municipality becomes the place filter. */
  filterRanking() {
    if (!this.key) return;
    const kreis = this.doc.level === 'kreis';
    this.ctx.store.setFilters({ ags: kreis ? [] : [this.key], kreis: kreis ? [this.key] : [] });
    this.ctx.toast(this.ctx.getT()('reserves.filtered', { name: this.doc.units.find((u) => u.key === this.key)?.name || this.key }));
  }
}

/** A figure's label for a chart row: without the unit in brackets and the leading "Reserve". */
function shortLabel(text) {
  return text.replace(/\s*\([^()]*\)\s*$/, '').replace(/^Reserve\s+/, '');
}
