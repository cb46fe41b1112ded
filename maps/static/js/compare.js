// Compare up to four sites in a real <table> (a sort button in each column header, aria-sort),
// and say why the best of them beats each other one: the criteria that make the difference,
// in points, largest first. Points come from the client-side values, so they follow the sliders.
// Two rows of facts come from api/sites/{id}/context (once per site): the Natura 2000 areas and
// floodplains a site lies in, and the nearest substation with its voltage. Under the points, the
// facts: every indicator the registry declares (api/profiles indicator_specs), with its unit
// (km, %, ha …; js/units.js), and the planning status, from api/sites/{id}/score (once per site
// and H2 horizon). An own area (drawn or dropped, id 'own:K') is compared too: its points from
// its breakdown's values at the current weights, its facts from its own score.

import * as api from './api.js';
import { CONFIDENTIAL, confidentialText, hasConfidential } from './confidential.js';
import { points, weightVector, whyBeatsPoints } from './scoring.js';
import { num, unit, int } from './i18n.js';
import { formatUnit, specLabel } from './units.js';
import { formatIndicator } from './detail.js';
import { isOwnArea } from './permalink.js';

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
    this.facts = new Map(); // `${site id}|${profile}|${year}` → api/sites/{id}/score (null while loading)
    const { store } = ctx;
    store.addEventListener('change', (ev) => {
      const k = ev.detail.keys;
      if (k.has('compareOpen') || k.has('cmp')) {
        root.hidden = !(store.state.compareOpen && store.state.cmp.length);
      }
      if (!root.hidden && ['cmp', 'ranking', 'lang', 'compareOpen', 'own'].some((x) => k.has(x))) this.render();
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

  /** Fetch the score item (indicators, planning status) of compared stored sites at the
   * current profile and H2 year; render again when one arrives. */
  loadFacts(rows) {
    const { profile, year } = this.ctx.store.state;
    for (const r of rows) {
      if (r.own) continue;
      const key = `${r.id}|${profile}|${year}`;
      if (this.facts.has(key)) continue;
      this.facts.set(key, null);
      const q = new URLSearchParams({ profile, h2_year: String(year) });
      api.json(`api/sites/${encodeURIComponent(r.id)}/score?${q}`).then((d) => {
        this.facts.set(key, d);
        if (!this.root.hidden && this.ctx.store.state.cmp.includes(r.id)) this.render();
      }).catch(() => this.facts.delete(key)); // no facts: the rows say "–"
    }
  }

  /** The score item a row's facts come from (an own area's own result), or null. */
  factsOf(r) {
    if (r.own) return r.item;
    const { profile, year } = this.ctx.store.state;
    return this.facts.get(`${r.id}|${profile}|${year}`) || null;
  }

  /** One row per declared indicator (criteria order) and the planning status, under the points. */
  factRows(t, rows, line) {
    const items = rows.map((r) => this.factsOf(r));
    const head = el('tr', 'facts-head');
    const th = el('th', null, t('compare.facts'));
    th.scope = 'rowgroup';
    th.colSpan = rows.length + 1;
    head.append(th);
    line.tbody.append(head);
    const seen = new Set();
    const cell = (item, name, spec, value) => {
      if (!item) return el('td', null, '–');
      return el('td', typeof value === 'number' ? 'num' : null, formatIndicator(t, name, value, spec));
    };
    for (const c of this.ctx.criteria) {
      for (const spec of c.indicator_specs || []) {
        if (seen.has(spec.name)) continue;
        seen.add(spec.name);
        const label = t.has(`indicator.${spec.name}`) ? t(`indicator.${spec.name}`) : specLabel(spec, t.lang);
        const tr = line(label, items.map((item) => cell(item, spec.name, spec,
          item?.breakdown?.[c.name]?.indicator?.[spec.name] ?? item?.[spec.name])), 'fact');
        tr.dataset.fact = spec.name;
      }
    }
    if (!seen.has('planning_category')) {
      const tr = line(t('detail.planning_status'), items.map((item) => cell(item, 'planning_category', null,
        item?.planning_category)), 'fact');
      tr.dataset.fact = 'planning_category';
    }
    // staff only: the confidential fields travel in the score items of a signed-in session
    if (!items.some(hasConfidential)) return;
    for (const k of CONFIDENTIAL) {
      const tr = line(`${t(`confidential.${k}`)} 🔒`, items.map((item) => el('td', 'confidential-cell',
        item && k in item ? confidentialText(t, k, item[k]) : '–')), 'fact');
      tr.dataset.fact = k;
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
      if (isOwnArea(id)) return this.ownRow(id, w);
      const row = prep.rowOf.get(id);
      if (row === undefined || !values || !r) return null;
      const p = points(values, C, w, row);
      const score = Number.isNaN(r.score[row]) ? r.raw[row] : r.score[row];
      return { id, row, name: prep.columns.name[row] || id, municipality: prep.columns.municipality[row],
        area: prep.columns.area_ha[row], score, rank: r.rank[row] || Infinity, excluded: r.rank[row] === 0, points: p };
    }).filter(Boolean);
  }

  /** An own area as a row: its points at the current weights from its breakdown's values. */
  ownRow(id, w) {
    const o = this.ctx.store.state.own?.[id];
    const d = o?.result;
    if (!d) return null;
    const { criteria } = this.ctx;
    const C = criteria.length;
    const v = new Float64Array(C + 1).fill(NaN);
    criteria.forEach((c, i) => {
      const b = d.breakdown?.[c.name];
      if (b && !b.missing && b.v !== null && b.v !== undefined) v[i] = b.v;
    });
    const p = points(v, C, w, 0);
    let score = NaN;
    for (const x of p) if (!Number.isNaN(x)) score = (Number.isNaN(score) ? 0 : score) + x;
    return { id, own: true, row: null, item: d, name: o.name || id, municipality: d.municipality,
      area: d.area_ha, score, rank: Infinity, excluded: false, points: p };
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
      if (r.own) sub.append(el('span', 'own-badge', t('compare.own')));
      const bar = el('span', 'cmp-actions');
      const rm = el('button', 'linklike small', t('compare.remove'));
      rm.type = 'button';
      rm.dataset.remove = r.id;
      rm.setAttribute('aria-label', t('compare.remove_named', { name: r.name }));
      if (!r.own) {
        const show = el('button', 'linklike small', t('compare.details'));
        show.type = 'button';
        show.dataset.show = r.id;
        show.setAttribute('aria-label', t('compare.details_named', { name: r.name }));
        bar.append(show, ' · ');
      }
      bar.append(rm);
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
      return tr;
    };
    line.tbody = tbody;
    line(t('compare.score'), rows.map((r) => {
      const td = el('td', 'num strong');
      const sw = el('span', 'swatch');
      sw.style.background = this.ctx.bands.colorOf(r.score);
      td.append(sw, ' ', num(t.lang, r.score, 1));
      return td;
    }), 'score-row');
    line(t('compare.rank'), rows.map((r) => {
      if (r.own) return el('td', null, t('compare.own_rank'));
      return el('td', 'num', r.excluded ? t('compare.excluded') : int(t.lang, r.rank));
    }));
    line(t('compare.area'), rows.map((r) => el('td', 'num', unit(t.lang, r.area, 'hectare', 1))));
    this.loadContexts(rows.filter((r) => !r.own).map((r) => r.id));
    this.loadFacts(rows);
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
    this.factRows(t, rows, line);
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
    const { criteria } = this.ctx;
    const names = criteria.map((c) => c.name);
    const byScore = rows.slice().sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    const a = byScore[0];
    const label = Object.fromEntries(criteria.map((c) => [c.name, this.label(c)]));
    box.append(el('h3', 'subhead', t('compare.why_title', { a: a.name })));
    for (const b of byScore.slice(1)) {
      const diffs = whyBeatsPoints(a.points, b.points, names).filter((d) => Math.abs(d.diff) >= 0.05);
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
