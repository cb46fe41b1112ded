// The shortlist: sites added from the list (M), the map popup or the detail panel; kept in the
// store (and so in the link and in localStorage). Downloads as GeoJSON (the API's features plus
// the current score, rank and points) and CSV (German: ';' and decimal comma; English: ',' and '.').

import * as api from './api.js';
import { points, weightVector } from './scoring.js';
import { num } from './i18n.js';

/** CSV text of rows (arrays) in the language's convention. Pure. */
export function csv(rows, lang) {
  const sep = lang === 'de' ? ';' : ',';
  const cell = (v) => {
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return '';
    let s = typeof v === 'number' ? (lang === 'de' ? String(v).replace('.', ',') : String(v)) : String(v);
    if (/^[=+\-@\t\r]/.test(s) && typeof v !== 'number') s = `'${s}`; // no formula injection
    return s.includes(sep) || /["\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `\ufeff${rows.map((r) => r.map(cell).join(sep)).join('\r\n')}\r\n`;
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

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
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
    this.ctx = ctx; // {store, prep, criteria, getT, getValues, profileLabel, snapshot, synthetic, toast, exposeUrl}
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
      else if (b.dataset.action === 'download-geojson') this.geojson();
      else if (b.dataset.action === 'download-csv') this.csv();
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
  }

  meta() {
    const { store, snapshot, synthetic } = this.ctx;
    return { profile: store.state.profile, weights: store.state.weights, h2_year: store.state.year,
      snapshot, synthetic, generated: new Date().toISOString() };
  }

  async geojson() {
    const t = this.ctx.getT();
    const rows = this.rows();
    try {
      const feats = await Promise.all(rows.map(async (r) => {
        const f = await api.siteFeature(r.site_id);
        return { type: 'Feature', id: r.site_id, geometry: f.geometry,
          properties: { ...(f.properties || {}), ...r } };
      }));
      const fc = { type: 'FeatureCollection', name: t('shortlist.file'), ...this.meta(),
        attribution: t('shortlist.attribution'), features: feats };
      download(`${t('shortlist.file')}.geojson`, JSON.stringify(fc, null, 1), 'application/geo+json');
    } catch (e) {
      this.ctx.toast(e.detail || e.message);
    }
  }

  csv() {
    const t = this.ctx.getT();
    const rows = this.rows();
    if (!rows.length) return;
    const keys = Object.keys(rows[0]);
    const header = keys.map((k) => (t.has(`csv.${k}`) ? t(`csv.${k}`) : k));
    const text = csv([header, ...rows.map((r) => keys.map((k) => r[k]))], t.lang);
    download(`${t('shortlist.file')}.csv`, text, 'text/csv;charset=utf-8');
  }
}
