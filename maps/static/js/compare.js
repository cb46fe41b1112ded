// Compare up to four sites in a real <table> (a sort button in each column header, aria-sort),
// and say why the best of them beats each other one: the criteria that make the difference,
// in points, largest first. Points come from the client-side values, so they follow the sliders.

import { points, weightVector, whyBeats, band } from './scoring.js';
import { SCORE_BREAKS, SCORE_COLORS } from './layers.js';
import { num, unit, int, collator } from './i18n.js';

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
    this.ctx = ctx; // {store, prep, criteria, getT, getValues}
    this.sort = { key: 'rank', dir: 'ascending' };
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

  render() {
    const t = this.ctx.getT();
    const { criteria } = this.ctx;
    const rows = this.rows();
    const coll = collator(t.lang);
    const { key, dir } = this.sort;
    const sign = dir === 'ascending' ? 1 : -1;
    const val = (r) => {
      if (key === 'name') return r.name;
      if (key === 'score') return r.score;
      if (key === 'rank') return r.rank;
      if (key === 'area') return r.area;
      const i = criteria.findIndex((c) => c.name === key);
      return Number.isNaN(r.points[i]) ? -1 : r.points[i];
    };
    const sorted = rows.slice().sort((a, b) => {
      const x = val(a);
      const y = val(b);
      return sign * (typeof x === 'string' ? coll.compare(x, y) : x - y);
    });
    const table = el('table', 'compare-table');
    table.append(el('caption', 'sr-only', t('compare.caption')));
    const head = el('tr');
    const cols = [
      ['name', t('compare.site')], ['score', t('compare.score')], ['rank', t('compare.rank')], ['area', t('compare.area')],
      ...criteria.map((c) => [c.name, this.label(c)]),
    ];
    for (const [k, text] of cols) {
      const th = el('th');
      th.scope = 'col';
      const b = el('button', 'sort', text);
      b.type = 'button';
      b.dataset.sort = k;
      th.append(b);
      if (k === key) th.setAttribute('aria-sort', dir);
      head.append(th);
    }
    head.append(el('th', 'sr-only-th', t('compare.actions')));
    head.lastChild.scope = 'col';
    const thead = el('thead');
    thead.append(head);
    const tbody = el('tbody');
    const best = {};
    criteria.forEach((c, i) => {
      best[c.name] = Math.max(...rows.map((r) => (Number.isNaN(r.points[i]) ? -1 : r.points[i])));
    });
    for (const r of sorted) {
      const tr = el('tr');
      const th = el('th');
      th.scope = 'row';
      const link = el('button', 'linklike', r.name);
      link.type = 'button';
      link.dataset.show = r.id;
      th.append(link, el('span', 'cmp-sub', r.municipality || ''));
      tr.append(th);
      const sc = el('td', 'num');
      const b = band(r.score, SCORE_BREAKS);
      const sw = el('span', 'swatch');
      sw.style.background = b >= 0 ? SCORE_COLORS[b] : '#aaa';
      sc.append(sw, num(t.lang, r.score, 1));
      tr.append(sc, el('td', 'num', r.excluded ? t('compare.excluded') : int(t.lang, r.rank)),
        el('td', 'num', unit(t.lang, r.area, 'hectare', 1)));
      criteria.forEach((c, i) => {
        const p = r.points[i];
        const td = el('td', 'num', Number.isNaN(p) ? t('detail.no_data') : num(t.lang, p, 1));
        if (!Number.isNaN(p) && rows.length > 1 && p === best[c.name]) td.classList.add('best');
        tr.append(td);
      });
      const act = el('td');
      const rm = el('button', 'btn small', t('compare.remove'));
      rm.type = 'button';
      rm.dataset.remove = r.id;
      rm.setAttribute('aria-label', t('compare.remove_named', { name: r.name }));
      act.append(rm);
      tr.append(act);
      tbody.append(tr);
    }
    table.append(thead, tbody);
    const wrap = el('div', 'table-scroll');
    wrap.append(table);
    const why = this.why(t, rows);
    this.body.replaceChildren(wrap, why);
    const hint = el('p', 'hint', t('compare.points_hint'));
    this.body.append(hint);
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
