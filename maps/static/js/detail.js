// The detail panel of the selected site (or of a drawn / dropped polygon): score, rank and rank
// stability, the breakdown as a bar chart of points per criterion, every indicator with its unit,
// and the source of every value. The breakdown of a stored site is drawn at once from the
// client-side values and follows the sliders live; indicators, stability and sources come from
// GET api/sites/{id}/score (refetched, debounced, when the weights change). The site's
// surroundings (warning for Natura 2000 areas and floodplains, nearest installations, nearest
// substation) come once per selection from GET api/sites/{id}/context (js/context.js).

import * as api from './api.js';
import { points, weightVector, reasonOf, effectiveFilters } from './scoring.js';
import { num, unit, int, sourceText } from './i18n.js';
import { apiQuery } from './permalink.js';
import { formatBySpec, specLabel, specMap } from './units.js';
import { constraintWarning, contextFor } from './context.js';
import { confidentialBlock } from './confidential.js';

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
};

/** Format one indicator: by its declared spec (unit, decimals, codes; js/units.js) when given;
 * the UI's own words for planning categories, funding regions and other codes first. Without a
 * spec (a value no criterion declares, e.g. nearest_lep_km) the unit comes from the name's suffix. */
export function formatIndicator(t, name, value, spec = null) {
  const lang = t.lang;
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return t('detail.no_data');
  if (typeof value === 'string') {
    if (name === 'planning_category' && t.has(`planning.${value}`)) return t(`planning.${value}`);
    if (name === 'funding_region' && t.has(`funding.${value}`)) return t(`funding.${value}`);
    const k = `${name.replace(/_(category|region)$/, '')}.${value}`;
    if (t.has(k)) return t(k);
  }
  if (spec) return formatBySpec(t, spec, value);
  if (name === 'area_ha' || name.endsWith('_ha')) return unit(lang, value, 'hectare', 1);
  if (name.endsWith('_km')) return unit(lang, value, 'kilometer', 1);
  if (name.endsWith('_share')) return unit(lang, value, 'percent', 0);
  if (name.endsWith('_year')) return String(value);
  if (typeof value === 'boolean') return t(value ? 'detail.yes' : 'detail.no');
  return typeof value === 'number' ? num(lang, value, 2) : String(value);
}

/** Bars: points per criterion, against the most the criterion could give (its weight share). */
export function breakdownChart(t, rows) {
  const fig = el('figure', 'chart');
  const cap = el('figcaption', 'chart-cap', t('detail.breakdown'));
  const list = el('ul', 'bars');
  const max = Math.max(1e-9, ...rows.map((r) => (Number.isNaN(r.max) ? 0 : r.max)));
  for (const r of rows) {
    const li = el('li', `bar-row${r.missing ? ' missing' : ''}`);
    const label = el('span', 'bar-label', r.label);
    const track = el('span', 'bar-track');
    const possible = el('span', 'bar-possible');
    possible.style.width = `${(100 * (Number.isNaN(r.max) ? 0 : r.max)) / max}%`;
    const fill = el('span', 'bar-fill');
    fill.style.width = r.missing ? '0%' : `${(100 * r.points) / max}%`;
    possible.append(fill);
    track.append(possible);
    const val = el('span', 'bar-value', r.missing ? t('detail.no_data') : t('detail.points', { points: num(t.lang, r.points, 1) }));
    li.append(label, track, val);
    li.title = r.missing ? t('detail.missing_hint') : t('detail.bar_hint', {
      v: num(t.lang, r.v, 2), w: num(t.lang, r.w, 1), points: num(t.lang, r.points, 1), max: num(t.lang, r.max, 1) });
    list.append(li);
  }
  fig.append(cap, list);
  const note = el('p', 'hint', t('detail.breakdown_hint'));
  return [fig, note];
}


const TRANSPORT_SOURCE_LAYERS = new Set(['motorway_junctions', 'rail_stations', 'rail_freight', 'ports', 'airports']);

/** A <details> with the source of one value: title, resolution, date, licence, attribution. */
export function sourceDetails(t, src) {
  const det = el('details', 'source');
  det.append(el('summary', null, t('detail.source')));
  const p = el('p', 'source-text');
  // the transport distances: the API's resolution text is English; say it in the UI's language
  // the API's provenance texts are English: the page says them in its own language (i18n.sourceText)
  const say = (x) => (x ? sourceText(t, x) : x);
  const res = TRANSPORT_SOURCE_LAYERS.has(src.layer) && t.has('resolution.straight_line') ? t('resolution.straight_line') : say(src.resolution);
  const line = [say(src.title), res, src.date && t('detail.as_of', { date: src.date })].filter(Boolean).join(' · ');
  p.append(el('span', null, line));
  if (src.licence) {
    p.append(el('br'));
    if (src.licence_url && /^https?:\/\//.test(src.licence_url)) {
      const a = el('a', null, say(src.licence));
      a.href = src.licence_url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      p.append(t('detail.licence'), ' ', a);
    } else p.append(`${t('detail.licence')} ${say(src.licence)}`);
  }
  if (src.attribution) {
    p.append(el('br'), `© ${say(src.attribution)}`);
  }
  det.append(p);
  return det;
}


/** Chart rows from a server breakdown (points, v, weight, the most the criterion could give). */
export function rowsFromBreakdown(criteria, breakdown, lang) {
  let den = 0;
  for (const c of criteria) if (breakdown[c.name] && !breakdown[c.name].missing) den += breakdown[c.name].weight;
  return criteria.filter((c) => breakdown[c.name]).map((c) => {
    const b = breakdown[c.name];
    return { name: c.name, label: lang === 'de' ? c.label_de || c.name : c.label_en || c.name,
      points: b.points ?? NaN, v: b.v ?? NaN, w: b.weight,
      max: den > 0 && !b.missing ? (100 * b.weight) / den : 0, missing: !!b.missing };
  });
}

export class Detail {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx; // {store, prep, bands, criteria, getT, getValues, profiles}
    this.empty = root.querySelector('[data-detail-empty]');
    this.body = root.querySelector('[data-detail-body]');
    this.chart = root.querySelector('[data-breakdown]');
    this.rest = root.querySelector('[data-detail-rest]');
    this.server = null; // last server answer for the selected site
    this.serverFor = null;
    this.abort = null;
    this.timer = null;
    this.context = null; // GET api/sites/{id}/context of the selected site
    this.contextFor = null;
    this.contextAbort = null;
    this.specs = specMap(ctx.criteria);
    const { store } = ctx;
    store.addEventListener('change', (ev) => {
      const k = ev.detail.keys;
      if (k.has('sel') || k.has('adhoc')) {
        this.server = null;
        this.serverFor = null;
        this.render();
        this.fetchSoon(0);
        this.fetchContext();
        if (k.has('sel') && store.state.sel) this.root.scrollTop = 0;
      } else if (k.has('ranking') || k.has('lang') || k.has('shortlist') || k.has('cmp')) {
        this.render();
      }
      if (k.has('weights') || k.has('profile') || k.has('year') || k.has('filters')) this.fetchSoon(350);
    });
    root.addEventListener('click', (e) => {
      const b = e.target.closest('[data-detail-action]');
      if (!b) return;
      const id = store.state.sel;
      const a = b.dataset.detailAction;
      if (a === 'shortlist') store.toggleShortlist(id);
      if (a === 'compare') {
        if (store.toggleCompare(id) === false) ctx.toast(ctx.getT()('compare.full'));
        else if (store.state.cmp.includes(id)) store.openCompare(true);
      }
      if (a === 'compare-own') {
        const adhoc = store.state.adhoc;
        const was = store.state.cmp.includes(adhoc?.id);
        if (store.toggleCompareOwn(adhoc) === false && !was) ctx.toast(ctx.getT()('compare.full'));
        else if (store.state.cmp.includes(adhoc?.id)) store.openCompare(true);
        this.render();
      }
      if (a === 'close') store.select(null);
    });
  }

  /** The API query of the page's view, with its hard filters: the site's rank and rank
   * stability are among the sites the list shows (as GET api/ranking with the same filters). */
  query() {
    const s = this.ctx.store.state;
    const { prep } = this.ctx;
    return apiQuery(s, this.ctx.criteria.map((c) => c.name), prep.filters, effectiveFilters(prep, s.filters));
  }

  fetchSoon(ms) {
    clearTimeout(this.timer);
    const s = this.ctx.store.state;
    if (!s.sel || s.sel === 'adhoc') return;
    this.timer = setTimeout(() => this.fetch(), ms);
  }

  async fetch() {
    const id = this.ctx.store.state.sel;
    if (!id || id === 'adhoc') return;
    this.abort?.abort();
    this.abort = new AbortController();
    try {
      const d = await api.siteScore(id, this.query(), this.abort.signal);
      if (this.ctx.store.state.sel !== id) return;
      this.server = d;
      this.serverFor = id;
      this.render();
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (this.ctx.store.state.sel !== id) return;
      this.server = { error: e.detail || e.message };
      this.serverFor = id;
      this.render();
    }
  }

  async fetchContext() {
    const id = this.ctx.store.state.sel;
    this.contextAbort?.abort();
    this.context = null;
    this.contextFor = null;
    if (!id || id === 'adhoc') return;
    this.contextAbort = new AbortController();
    try {
      const d = await api.json(`api/sites/${encodeURIComponent(id)}/context`, { signal: this.contextAbort.signal });
      if (this.ctx.store.state.sel !== id) return;
      this.context = d;
      this.contextFor = id;
      this.render();
    } catch (e) {
      // no context: the panel shows the rest; the score request reports errors
      if (e.name !== 'AbortError' && this.ctx.store.state.sel === id) this.contextFor = null;
    }
  }

  render() {
    const t = this.ctx.getT();
    const s = this.ctx.store.state;
    this.root.setAttribute('aria-labelledby', s.sel ? 'detail-name' : 'detail-title');
    this.root.parentElement.classList.toggle('no-sel', !s.sel);
    if (!s.sel) {
      this.empty.hidden = false;
      this.body.hidden = true;
      this.body.replaceChildren();
      this.chart.replaceChildren();
      this.rest.replaceChildren();
      return;
    }
    this.empty.hidden = true;
    this.body.hidden = false;
    if (s.sel === 'adhoc') this.renderAdhoc(t, s.adhoc);
    else this.renderSite(t, s.sel);
  }

  header(t, title, sub) {
    const head = el('div', 'detail-head');
    const h = el('h2', 'detail-name', title);
    h.id = 'detail-name';
    const close = el('button', 'btn small icon', '×');
    close.type = 'button';
    close.dataset.detailAction = 'close';
    close.setAttribute('aria-label', t('detail.close'));
    head.append(h, close);
    return [head, el('p', 'detail-sub', sub)];
  }

  scoreLine(t, score, rankText, percentileText) {
    const box = el('div', 'score-line');
    const big = el('span', 'score-big', num(t.lang, score, 1));
    if (this.ctx.bands.of(score) >= 0) big.style.setProperty('--band', this.ctx.bands.colorOf(score));
    const lab = el('span', 'score-label', t('detail.score'));
    box.append(big, lab);
    if (rankText) box.append(el('span', 'rank', rankText));
    if (percentileText) box.append(el('span', 'rank', percentileText));
    return box;
  }

  stability(t, st) {
    if (!st) return null;
    const p = typeof st === 'number' ? st : st.probability;
    if (p === null || p === undefined) return null;
    const top = st.top ?? 10;
    const level = p >= 0.8 ? 'high' : p >= 0.5 ? 'mid' : 'low';
    const wrap = el('p', `stability stability-${level}`);
    const badge = el('span', 'badge', t(`stability.${level}`));
    const pct = unit(t.lang, p, 'percent', 0);
    const meaning = el('span', 'stability-text', t('stability.meaning', {
      p: pct, top, draws: st.draws ?? 200, spread: unit(t.lang, st.spread ?? 0.25, 'percent', 0) }));
    wrap.append(badge, ' ', meaning);
    return wrap;
  }

  actions(t, id, isStored) {
    const s = this.ctx.store.state;
    const bar = el('div', 'detail-actions');
    if (!isStored) return bar;
    const inList = s.shortlist.includes(id);
    const inCmp = s.cmp.includes(id);
    const b1 = el('button', 'btn small', t(inList ? 'detail.unshortlist' : 'detail.shortlist'));
    b1.type = 'button';
    b1.dataset.detailAction = 'shortlist';
    b1.setAttribute('aria-pressed', String(inList));
    const b2 = el('button', 'btn small', t(inCmp ? 'detail.uncompare' : 'detail.compare'));
    b2.type = 'button';
    b2.dataset.detailAction = 'compare';
    b2.setAttribute('aria-pressed', String(inCmp));
    const a = el('a', 'btn small', t('detail.expose'));
    const q = this.query();
    q.set('site', id);
    q.set('lang', t.lang);
    a.href = `expose.html?${q}`;
    a.target = '_blank';
    a.rel = 'noopener';
    bar.append(b1, b2, a);
    return bar;
  }

  breakdownChart(t, rows) {
    return breakdownChart(t, rows);
  }

  rowsFromClient(id) {
    const { prep, criteria, getValues, store } = this.ctx;
    const values = getValues();
    const row = prep.rowOf.get(id);
    if (!values || row === undefined) return null;
    const C = criteria.length;
    const w = weightVector(criteria.map((c) => c.name), store.state.weights);
    const p = points(values, C, w, row);
    let den = 0;
    for (let i = 0; i < C; i++) if (!Number.isNaN(values[row * (C + 1) + i])) den += w[i];
    return criteria.map((c, i) => ({
      name: c.name, label: this.label(c), points: p[i], v: values[row * (C + 1) + i], w: w[i],
      max: den > 0 ? (100 * w[i]) / den : 0, missing: Number.isNaN(p[i]),
    }));
  }

  rowsFromServer(breakdown) {
    return rowsFromBreakdown(this.ctx.criteria, breakdown, this.ctx.getT().lang);
  }

  label(c) {
    return this.ctx.getT().lang === 'de' ? c.label_de || c.name : c.label_en || c.name;
  }

  /** Indicators with units, grouped by criterion, each with its source. */
  indicators(t, d) {
    const frag = [];
    frag.push(el('h3', 'subhead', t('detail.indicators')));
    const dl = el('dl', 'indicators');
    const bd = d.breakdown || {};
    for (const c of this.ctx.criteria) {
      const b = bd[c.name];
      if (!b) continue;
      const dt = el('dt', null, this.label(c));
      const dd = el('dd');
      const ind = Object.entries(b.indicator || {});
      const parts = ind.map(([k, v]) => {
        const spec = this.specs.get(k);
        // the UI's word for the indicator, else the declared label of a number ("Outside
        // protected areas: 0 %" alone would read as the opposite of the share); a code or a
        // yes/no reads well under the criterion's name
        const word = t.has(`indicator.${k}`) ? t(`indicator.${k}`)
          : spec && (spec.type === 'float' || spec.type === 'int') && !spec.codes ? specLabel(spec, t.lang) : '';
        return (word ? `${word}: ` : '') + formatIndicator(t, k, v, spec);
      });
      dd.append(el('span', 'ind-value', parts.join(' · ') || t('detail.no_data')));
      if (b.missing) dd.append(el('span', 'badge warn', t('detail.missing')));
      const around = this.contextFor === d.site_id ? contextFor(t, c, this.context) : null;
      if (around) dd.append(around);
      if (b.source) dd.append(this.source(t, b.source));
      dl.append(dt, dd);
    }
    if (d.nearest_lep) {
      dl.append(el('dt', null, t('detail.nearest_lep')),
        el('dd', null, `${d.nearest_lep} · ${formatIndicator(t, 'nearest_lep_km', d.nearest_lep_km)}`));
    }
    if (d.planning_category) {
      dl.append(el('dt', null, t('detail.planning_status')), el('dd', null, formatIndicator(t, 'planning_category', d.planning_category)));
    }
    if (d.restrictions !== undefined && d.kind !== 'adhoc') { // null: not checked; []: checked, none
      const r = d.restrictions;
      dl.append(el('dt', null, t('detail.restrictions')), el('dd', null,
        r === null ? t('detail.not_checked') : r.length ? r.map((x) => t(`restrictions.${x}`)).join(', ') : t('detail.no_restrictions')));
    }
    if (typeof d.marketable === 'boolean') {
      dl.append(el('dt', null, t('detail.marketable')), el('dd', null, t(d.marketable ? 'detail.yes' : 'detail.no')));
    }
    frag.push(dl);
    return frag;
  }

  source(t, src) {
    return sourceDetails(t, src);
  }

  renderSite(t, id) {
    const { prep, store } = this.ctx;
    const row = prep.rowOf.get(id);
    const c = prep.columns;
    const r = store.state.ranking;
    const d = this.serverFor === id ? this.server : null;
    const name = row !== undefined ? c.name[row] || id : d?.name || id;
    const sub = row !== undefined
      ? [c.municipality[row], c.kreis[row] !== c.municipality[row] ? c.kreis[row] : null, t(`kind.${c.kind[row]}`)].filter(Boolean).join(' · ')
      : '';
    const body = [...this.header(t, name, sub)];
    const score = r && row !== undefined ? r.score[row] : d?.score ?? NaN;
    const rk = r && row !== undefined ? r.rank[row] : 0;
    let rankText;
    if (rk) rankText = t('detail.rank', { rank: int(t.lang, rk), of: int(t.lang, r.order.length) });
    else if (r && row !== undefined) rankText = t(`excluded.${reasonOf(r, row) || 'no_data'}`);
    body.push(this.scoreLine(t, Number.isNaN(score) ? (r?.raw?.[row] ?? NaN) : score, rankText));
    if (rk && r.why[row] === 0 && d?.stability) {
      const st = this.stability(t, d.stability);
      if (st) body.push(st);
    }
    const warn = this.contextFor === id ? constraintWarning(t, this.context, sourceDetails) : null;
    if (warn) body.push(warn);
    const conf = confidentialBlock(t, d);
    if (conf) body.push(conf);
    body.push(this.actions(t, id, row !== undefined));
    this.body.replaceChildren(...body);
    const rows = this.rowsFromClient(id) || (d?.breakdown ? this.rowsFromServer(d.breakdown) : []);
    this.chart.replaceChildren(...this.breakdownChart(t, rows));
    const rest = [];
    if (d?.error) rest.push(el('p', 'alert', d.error));
    else if (d) rest.push(...this.indicators(t, d));
    else rest.push(el('p', 'hint', t('detail.loading')));
    this.rest.replaceChildren(...rest);
  }

  renderAdhoc(t, adhoc) {
    // titled by its own name ("Own area 2", or the file's), never by an earlier polygon's
    const body = [...this.header(t, adhoc?.name || t('detail.adhoc_title'), t('detail.adhoc_sub'))];
    if (!adhoc || adhoc.pending) {
      this.body.replaceChildren(...body, el('p', 'hint', t('detail.scoring')));
      this.chart.replaceChildren();
      this.rest.replaceChildren();
      return;
    }
    if (adhoc.error) {
      const alert = el('p', 'alert', adhoc.error);
      alert.setAttribute('role', 'alert');
      this.body.replaceChildren(...body, el('p', 'detail-sub', t('draw.refused')), alert);
      this.chart.replaceChildren();
      this.rest.replaceChildren();
      return;
    }
    const d = adhoc.result;
    const sub = [d.municipality, d.kreis && d.kreis !== d.municipality ? d.kreis : null, formatIndicator(t, 'area_ha', d.area_ha)].filter(Boolean).join(' · ');
    body[1] = el('p', 'detail-sub', sub);
    const pct = d.percentile != null ? t('detail.percentile', { p: num(t.lang, d.percentile, 0) }) : null;
    body.push(this.scoreLine(t, d.score ?? NaN, null, pct));
    if (d.excluded_by) body.push(el('p', 'alert', t(`excluded.${d.excluded_by}`)));
    if (adhoc.id) { // an own area can be compared with the stored sites
      const inCmp = this.ctx.store.state.cmp.includes(adhoc.id);
      const bar = el('div', 'detail-actions');
      const b = el('button', 'btn small', t(inCmp ? 'detail.uncompare' : 'detail.compare'));
      b.type = 'button';
      b.dataset.detailAction = 'compare-own';
      b.setAttribute('aria-pressed', String(inCmp));
      bar.append(b);
      body.push(bar);
    }
    this.body.replaceChildren(...body);
    this.chart.replaceChildren(...this.breakdownChart(t, d.breakdown ? this.rowsFromServer(d.breakdown) : []));
    this.rest.replaceChildren(...this.indicators(t, d));
  }
}
