// Compare up to four sites in a real <table> (a sort button in each column header, aria-sort),
// and say why the best of them beats each other one: the criteria that make the difference,
// in points, largest first. Points come from the client-side values, so they follow the sliders.
// Two rows of facts come from api/sites/{id}/context (once per site): the Natura 2000 areas and
// floodplains a site lies in, and the nearest substation with its voltage.

import * as api from './api.js';
import { points, weightVector, whyBeats } from './scoring.js';
import { num, unit, int } from './i18n.js';
import { formatUnit } from './units.js';

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
};

export class Compare {
  constructor(root, ctx) {
    this.root = root;
    this.body = root.querySelector('[data-compare-body]');
    this.ctx = ctx; // {store, prep, bands, criteria, getT, getValues}
    this.sort = { key: null, dir: 'ascending' }; // key: a site id whose points order the rows
    this.contexts = new Map(); // site id → api/sites/{id}/context (null while loading or failed)
    const { store } = ctx;
    store.addEventListener('change', (ev) => {
      const k = ev.detail.keys;
      if (k.has('compareOpen') || k.has('cmp')) {
        root.hidden = !(store.state.compareOpen && store.state.cmp.length);
      }
      if (!root.hidden && (k.has('cmp') || k.has('ranking') || k.has('lang') || k.has('compareOpen'))) this.render();
    });
    root.addEventListener('click', (e) => {
      const sortBtn = e.target.closest('[data-sort]');
      if (sortBtn) {
        const key = sortBtn.dataset.sort;
        this.sort = { key, dir: this.sort.key === key && this.sort.dir === 'ascending' ? 'descending' : 'ascending' };
        this.render();
        root.querySelector(`[data-sort="${CSS.escape(key)}"]`)?.focus();
        return;
      }
      const rm = e.target.closest('[data-remove]');
      if (rm) store.toggleCompare(rm.dataset.remove, false);
      const show = e.target.closest('[data-show]');
      if (show) store.select(show.dataset.show);
    });
  }

  /** Fetch the context of compared sites not asked for yet; render again when one arrives. */
  loadContexts(ids) {
    for (const id of ids) {
      if (this.contexts.has(id)) continue;
      this.contexts.set(id, null);
      api.json(`api/sites/${encodeURIComponent(id)}/context`).then((d) => {
        this.contexts.set(id, d);
        if (!this.root.hidden && this.ctx.store.state.cmp.includes(id)) this.render();
      }).catch(() => {}); // no facts: the rows say "–"
    }
  }

  /** The constraint areas of a site ("Rhein 25 %"), or "–" (none, or not known yet). */
  constraintCell(t, ctx) {
    const areas = [...(ctx?.floodplains?.areas || []), ...(ctx?.protected_areas?.areas || [])];
    if (!ctx) return el('td', null, '–');
    if (!areas.length) return el('td', null, t('compare.no_constraints'));
    const td = el('td', 'cmp-warn');
    td.textContent = `⚠ ${areas.map((a) => `${a.name} (${unit(t.lang, a.share, 'percent', 0)})`).join(', ')}`;
    return td;
  }

  label(c) {
    return this.ctx.getT().lang === 'de' ? c.label_de || c.name : c.label_en || c.name;
  }

  rows() {
    const { store, prep, criteria, getValues } = this.ctx;
    const values = getValues();
    const r = store.state.ranking;
    const C = criteria.length;
    const w = weightVector(criteria.map((c) => c.name), store.state.weights);
    return store.state.cmp.map((id) => {
      const row = prep.rowOf.get(id);
      if (row === undefined || !values || !r) return null;
      const p = points(values, C, w, row);
      const score = Number.isNaN(r.score[row]) ? r.raw[row] : r.score[row];
      return { id, row, name: prep.columns.name[row] || id, municipality: prep.columns.municipality[row],
        area: prep.columns.area_ha[row], score, rank: r.rank[row] || Infinity, excluded: r.rank[row] === 0, points: p };
    }).filter(Boolean);
  }

  /**
   * Sites side by side: one column per site (in rank order), one row per figure (score, rank,
   * area, then the points of every criterion). The button in a site's column header sorts the
   * criterion rows by that site's points (aria-sort); a second press reverses the order.
   */
  render() {
    const t = this.ctx.getT();
    const { criteria } = this.ctx;
    const rows = this.rows().sort((a, b) => a.rank - b.rank || (a.id < b.id ? -1 : 1));
    const { key, dir } = this.sort;
    const table = el('table', 'compare-table');
    table.append(el('caption', 'sr-only', t('compare.caption')));
    const head = el('tr');
    const corner = el('th', null, t('compare.criterion'));
    corner.scope = 'col';
    head.append(corner);
    for (const r of rows) {
      const th = el('th', 'site-col');
      th.scope = 'col';
      const b = el('button', 'sort', r.name);
      b.type = 'button';
      b.dataset.sort = r.id;
      b.title = t('compare.sort_by', { name: r.name });
      if (key === r.id) th.setAttribute('aria-sort', dir);
      const sub = el('span', 'cmp-sub', r.municipality || '');
      const bar = el('span', 'cmp-actions');
      const show = el('button', 'linklike small', t('compare.details'));
      show.type = 'button';
      show.dataset.show = r.id;
      show.setAttribute('aria-label', t('compare.details_named', { name: r.name }));
      const rm = el('button', 'linklike small', t('compare.remove'));
      rm.type = 'button';
      rm.dataset.remove = r.id;
      rm.setAttribute('aria-label', t('compare.remove_named', { name: r.name }));
      bar.append(show, ' · ', rm);
      th.append(b, sub, bar);
      head.append(th);
    }
    const thead = el('thead');
    thead.append(head);
    const tbody = el('tbody');
    const line = (label, cells, cls) => {
      const tr = el('tr', cls);
      const th = el('th', null, label);
      th.scope = 'row';
      tr.append(th, ...cells);
      tbody.append(tr);
    };
    line(t('compare.score'), rows.map((r) => {
      const td = el('td', 'num strong');
      const sw = el('span', 'swatch');
      sw.style.background = this.ctx.bands.colorOf(r.score);
      td.append(sw, ' ', num(t.lang, r.score, 1));
      return td;
    }), 'score-row');
    line(t('compare.rank'), rows.map((r) => el('td', 'num', r.excluded ? t('compare.excluded') : int(t.lang, r.rank))));
    line(t('compare.area'), rows.map((r) => el('td', 'num', unit(t.lang, r.area, 'hectare', 1))));
    this.loadContexts(rows.map((r) => r.id));
    line(t('compare.constraints'), rows.map((r) => this.constraintCell(t, this.contexts.get(r.id))));
    line(t('context.substation'), rows.map((r) => {
      const sub = this.contexts.get(r.id)?.substation;
      if (!sub) return el('td', null, '–');
      const kv = sub.voltage_kv != null ? formatUnit(t, 'kV', sub.voltage_kv) : null;
      return el('td', 'num', [kv, formatUnit(t, 'km', sub.distance_km)].filter(Boolean).join(' · '));
    }));
    let order = criteria.map((c, i) => i);
    const sortCol = rows.findIndex((r) => r.id === key);
    if (sortCol >= 0) {
      const p = rows[sortCol].points;
      const v = (i) => (Number.isNaN(p[i]) ? -1 : p[i]);
      order = order.sort((a, b) => (dir === 'descending' ? v(a) - v(b) : v(b) - v(a)));
    }
    for (const i of order) {
      const c = criteria[i];
      const vals = rows.map((r) => r.points[i]);
      const best = Math.max(...vals.map((p) => (Number.isNaN(p) ? -1 : p)));
      line(this.label(c), vals.map((p) => {
        const td = el('td', 'num', Number.isNaN(p) ? t('detail.no_data') : num(t.lang, p, 1));
        if (!Number.isNaN(p) && rows.length > 1 && p === best && best > 0) td.classList.add('best');
        return td;
      }));
    }
    table.append(thead, tbody);
    const wrap = el('div', 'table-scroll');
    wrap.append(table, el('p', 'hint', t('compare.points_hint')));
    this.body.replaceChildren(wrap, this.why(t, rows));
  }

  why(t, rows) {
    const box = el('div', 'why');
    if (rows.length < 2) {
      box.append(el('p', 'hint', t('compare.add_more')));
      return box;
    }
    const { criteria, getValues, store } = this.ctx;
    const values = getValues();
    const names = criteria.map((c) => c.name);
    const w = weightVector(names, store.state.weights);
    const byScore = rows.slice().sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    const a = byScore[0];
    const label = Object.fromEntries(criteria.map((c) => [c.name, this.label(c)]));
    box.append(el('h3', 'subhead', t('compare.why_title', { a: a.name })));
    for (const b of byScore.slice(1)) {
      const diffs = whyBeats(values, criteria.length, w, a.row, b.row, names).filter((d) => Math.abs(d.diff) >= 0.05);
      const p = el('div', 'why-pair');
      p.append(el('p', 'why-head', t('compare.why_pair', { a: a.name, b: b.name, diff: num(t.lang, a.score - b.score, 1) })));
      const ul = el('ul', 'why-list');
      for (const d of diffs) {
        const li = el('li', d.diff > 0 ? 'plus' : 'minus');
        const v = `${d.diff > 0 ? '+' : '−'}${num(t.lang, Math.abs(d.diff), 1)}`;
        li.append(el('span', 'why-val', v), ' ', el('span', null, label[d.criterion]));
        ul.append(li);
      }
      if (!diffs.length) ul.append(el('li', null, t('compare.equal')));
      p.append(ul);
      box.append(p);
    }
    return box;
  }
}
