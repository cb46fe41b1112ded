// The shortlist: sites added from the list (M), the map popup or the detail panel; kept in the
// store (and so in the link and in localStorage). Downloads come from the API's export of chosen
// sites (GET api/exports/sites.{csv,geojson,gpkg}?ids=…), scored with the page's profile, weights
// and horizon: the same labelled columns, indicators, SYNTHETIC label and licences as every export.

import * as api from './api.js';
import { points, weightVector } from './scoring.js';
import { num } from './i18n.js';

/** The export URL of `ids` under the page's state `s` (profile, weights, year) in `lang`. Pure. */
export function exportUrl(fmt, ids, s, criteria, lang, name) {
  const q = new URLSearchParams({ ids: ids.join(','), profile: s.profile });
  for (const c of criteria) if (s.weights?.[c] != null) q.set(`w_${c}`, String(s.weights[c]));
  if (s.year != null) q.set('h2_year', String(s.year));
  q.set('lang', lang);
  if (name) q.set('name', name);
  return `api/exports/sites.${fmt}?${q}`;
}

/** The shortlist's rows: identity, score, rank and the points per criterion. Pure. */
export function shortlistRows(ids, { prep, values, criteria, weights, ranking }) {
  const names = criteria.map((c) => c.name);
  const w = weightVector(names, weights);
  return ids.map((id) => {
    const row = prep.rowOf.get(id);
    if (row === undefined) return null;
    const c = prep.columns;
    const p = values ? points(values, names.length, w, row) : new Float64Array(names.length).fill(NaN);
    const score = ranking ? (Number.isNaN(ranking.score[row]) ? ranking.raw[row] : ranking.score[row]) : NaN;
    return {
      site_id: id, name: c.name[row], kind: c.kind[row], ags: c.ags[row], municipality: c.municipality[row],
      kreis: c.kreis[row], area_ha: c.area_ha[row], score: round(score, 3), rank: ranking?.rank[row] || null,
      ...Object.fromEntries(names.map((n, i) => [`pts_${n}`, round(p[i], 3)])),
    };
  }).filter(Boolean);
}

function round(x, d) {
  if (x === null || x === undefined || Number.isNaN(x)) return null;
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export class Shortlist {
  constructor(dialog, ctx) {
    this.dialog = dialog;
    this.ctx = ctx; // {store, prep, criteria, getT, getValues, toast, exposeUrl}
    this.list = dialog.querySelector('[data-shortlist-items]');
    this.empty = dialog.querySelector('[data-shortlist-empty]');
    const { store } = ctx;
    store.addEventListener('change', (ev) => {
      const k = ev.detail.keys;
      if (k.has('shortlist') || k.has('lang') || (k.has('ranking') && dialog.open)) this.render();
    });
    dialog.addEventListener('click', (e) => {
      const b = e.target.closest('[data-action],[data-remove],[data-show]');
      if (!b) return;
      if (b.dataset.remove) store.toggleShortlist(b.dataset.remove, false);
      else if (b.dataset.show) { store.select(b.dataset.show); dialog.close(); }
      else if (b.dataset.action.startsWith('download-')) this.download(b.dataset.action.slice(9));
      else if (b.dataset.action === 'shortlist-clear') store.clearShortlist();
    });
    this.render();
  }

  rows() {
    const { store, prep, criteria, getValues } = this.ctx;
    return shortlistRows(store.state.shortlist, { prep, values: getValues(), criteria, weights: store.state.weights,
      ranking: store.state.ranking });
  }

  render() {
    const t = this.ctx.getT();
    const rows = this.rows();
    this.empty.hidden = rows.length > 0;
    this.list.replaceChildren(...rows.map((r) => {
      const li = document.createElement('li');
      const show = document.createElement('button');
      show.type = 'button';
      show.className = 'linklike';
      show.dataset.show = r.site_id;
      show.textContent = r.name || r.site_id;
      const sub = document.createElement('span');
      sub.className = 'cmp-sub';
      sub.textContent = `${r.municipality ?? ''} · ${t('detail.score')} ${num(t.lang, r.score, 1)}${r.rank ? ` · ${t('compare.rank')} ${r.rank}` : ''}`;
      const ex = document.createElement('a');
      ex.className = 'btn small';
      ex.textContent = t('detail.expose');
      ex.href = this.ctx.exposeUrl(r.site_id);
      ex.target = '_blank';
      ex.rel = 'noopener';
      const rm = document.createElement('button');
      rm.type = 'button';
      rm.className = 'btn small';
      rm.dataset.remove = r.site_id;
      rm.textContent = t('compare.remove');
      rm.setAttribute('aria-label', t('compare.remove_named', { name: r.name || r.site_id }));
      li.append(show, sub, ex, rm);
      return li;
    }));
    document.querySelectorAll('[data-shortlist-count]').forEach((e) => { e.textContent = String(rows.length); });
    this.dialog.querySelectorAll('[data-action^=download]').forEach((b) => { b.disabled = rows.length === 0; });
    const ex = this.dialog.querySelector('[data-shortlist-expose]');
    ex.hidden = rows.length === 0;
    ex.href = this.ctx.exposeUrl(rows.map((r) => r.site_id), t('shortlist.title'));
  }

  /** Download the shortlist as `fmt` (csv, geojson, gpkg) from the API's selection export. */
  async download(fmt) {
    const t = this.ctx.getT();
    const ids = this.ctx.store.state.shortlist.filter((id) => this.ctx.prep.rowOf.has(id));
    if (!ids.length) return;
    const names = this.ctx.criteria.map((c) => c.name);
    const file = `${t('shortlist.file')}.${fmt}`;
    try {
      const r = await fetch(exportUrl(fmt, ids, this.ctx.store.state, names, t.lang, t('shortlist.title')));
      if (!r.ok) throw new api.ApiError(r.status, (await r.json().catch(() => ({}))).detail);
      save(await r.blob(), file);
    } catch (e) {
      this.ctx.toast(e.detail || e.message);
    }
  }
}
