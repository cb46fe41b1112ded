// The exposé of one site (?site=<id>) or of several (?sites=<id>,<id>…&name=<list>: a cover with
// the sites side by side, then a sheet per site; &list=<id>: a shared list's notes); &profile=&w_<criterion>=&h2_year=&<filters>&lang=
// The page's own map image (a MapLibre canvas kept as a PNG for printing), the score with rank
// and rank stability, the breakdown, every indicator with its source, and the licence lines.
// <html data-ready="true"> once everything is drawn (for PDF printing in tests).

import * as api from './api.js';
import * as i18n from './i18n.js';
import { createSiteMap } from './map.js';
import { breakdownChart, rowsFromBreakdown, formatIndicator } from './detail.js';
import { specMap } from './units.js';
import { scoreBands } from './bands.js';
import { confidentialBlock } from './confidential.js';

const $ = (s) => document.querySelector(s);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
};

function bboxOf(geom) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else c.forEach(walk);
  };
  walk(geom.coordinates);
  return [[b[0], b[1]], [b[2], b[3]]];
}

/** A <thead> whose column headers are the strings of `keys`. */
function tableHead(t, keys) {
  const head = el('tr');
  for (const k of keys) {
    const th = el('th', null, t(k));
    th.scope = 'col';
    head.append(th);
  }
  const thead = el('thead');
  thead.append(head);
  return thead;
}

/** Fill one sheet (a clone of the page's <main class="sheet">) with site `d`. */
async function fillSheet(sheet, d, feature, ctx) {
  const { t, lang, cfg, prof, bands } = ctx;
  const $$ = (sel) => sheet.querySelector(sel);
  const criteria = prof.criteria;
  const specs = specMap(criteria); // each indicator's declared unit and decimals
  $$('[data-name]').textContent = d.name || d.site_id;
  $$('[data-sub]').textContent = [d.municipality, d.kreis && d.kreis !== d.municipality ? d.kreis : null,
    t(`kind.${d.kind}`)].filter(Boolean).join(' · ');
  $$('[data-synthetic]').hidden = !d.synthetic;

  // score, rank, stability
  const scoreBox = $$('[data-score]');
  const line = el('div', 'score-line');
  const big = el('span', 'score-big', i18n.num(lang, d.score, 1));
  const b = bands.of(d.score);
  if (b >= 0) big.style.setProperty('--band', bands.colors[b]);
  line.append(big, el('span', 'score-label', t('detail.score')));
  if (d.rank) line.append(el('span', 'rank', t('detail.rank', { rank: i18n.int(lang, d.rank), of: i18n.int(lang, d.numberRanked ?? 0) })));
  scoreBox.append(line);
  const st = d.stability;
  if (st && st.probability != null && d.rank) {
    const level = st.probability >= 0.8 ? 'high' : st.probability >= 0.5 ? 'mid' : 'low';
    const p = el('p', `stability stability-${level}`);
    p.append(el('span', 'badge', t(`stability.${level}`)), ' ', el('span', 'stability-text', t('stability.meaning', {
      p: i18n.unit(lang, st.probability, 'percent', 0), top: st.top ?? 10, draws: st.draws ?? 200,
      spread: i18n.unit(lang, st.spread ?? 0.25, 'percent', 0) })));
    scoreBox.append(p);
  }
  const facts = $$('[data-facts]');
  const fact = (k, v) => facts.append(el('dt', null, k), el('dd', null, v));
  fact(t('expose.area'), formatIndicator(t, 'area_ha', d.area_ha));
  fact(t('detail.planning_status'), formatIndicator(t, 'planning_category', d.planning_category));
  fact(t('expose.h2'), `${formatIndicator(t, 'h2_distance_km', d.h2_distance_km)}${d.h2_commissioning_year ? ` (${t('indicator.h2_commissioning_year')} ${d.h2_commissioning_year})` : ''}`);
  if (d.nearest_lep) fact(t('detail.nearest_lep'), `${d.nearest_lep} · ${formatIndicator(t, 'nearest_lep_km', d.nearest_lep_km)}`);
  fact(t('expose.location'), `${d.municipality ?? ''} (AGS ${d.ags ?? '–'})`);
  const conf = confidentialBlock(t, d); // staff only: the API sends these fields to a signed-in session
  if (conf) facts.after(conf);
  if (d.team_note) { // a shared list's note on this site (staff)
    const note = el('section', 'confidential team-note');
    note.append(el('h3', null, t('expose.team_note')), el('p', null, d.team_note));
    (conf || facts).after(note);
  }

  // breakdown and sources
  const rows = rowsFromBreakdown(criteria, d.breakdown || {}, lang);
  $$('[data-breakdown]').append(...breakdownChart(t, rows));
  const table = $$('[data-sources]');
  const thead = tableHead(t, ['expose.criterion', 'expose.value', 'expose.points', 'detail.source']);
  const tbody = el('tbody');
  for (const c of criteria) {
    const e = d.breakdown?.[c.name];
    if (!e) continue;
    const tr = el('tr');
    const label = lang === 'de' ? c.label_de || c.name : c.label_en || c.name;
    const val = Object.entries(e.indicator || {}).map(([k, v]) => formatIndicator(t, k, v, specs.get(k))).join(' · ');
    const src = e.source || {};
    tr.append(el('th', null, label), el('td', null, val || t('detail.no_data')),
      el('td', 'num', e.missing ? t('detail.no_data') : i18n.num(lang, e.points, 1)),
      el('td', null, [src.title, src.resolution, src.date && t('detail.as_of', { date: src.date }), src.licence]
        .filter(Boolean).map((x) => i18n.sourceText(t, x)).join(' · ')));
    tr.firstChild.scope = 'row';
    tbody.append(tr);
  }
  table.append(thead, tbody);
  footer(sheet, d, ctx);

  // the map: drawn live, then kept as an image for printing (and its WebGL context freed)
  if (cfg.tiles && feature?.geometry) {
    const bounds = bboxOf(feature.geometry);
    const box = $$('.expose-map');
    const map = await createSiteMap(box, { cfg, bands, siteId: d.site_id, bounds, bandValue: b });
    const img = $$('[data-map-img]');
    img.src = map.getCanvas().toDataURL('image/png');
    img.alt = t('expose.map_alt');
    img.hidden = false;
    const scale = box.querySelector('.maplibregl-ctrl-scale');
    if (scale) $$('[data-map-frame]').append(Object.assign(scale.cloneNode(true), { className: 'maplibregl-ctrl-scale expose-scale' }));
    box.hidden = true;
    map.remove();
    await img.decode().catch(() => {});
  }
}

/** Profile, weights, date and licences at the foot of a sheet. */
function footer(sheet, d, { t, lang, cfg, prof }) {
  const p = prof.profiles.find((x) => x.name === d.profile);
  const pl = p ? (lang === 'de' ? p.label_de : p.label_en) || p.name : d.profile;
  const weights = Object.entries(d.weights || {}).map(([k, w]) => {
    const c = prof.criteria.find((x) => x.name === k);
    return `${c ? (lang === 'de' ? c.label_de : c.label_en) || k : k} ${i18n.num(lang, w, 1)}`;
  }).join(', ');
  sheet.querySelector('[data-profile]').textContent = `${t('expose.profile', { profile: pl, year: d.h2_year ?? '' })} · ${t('expose.weights')}: ${weights}`;
  sheet.querySelector('[data-generated]').textContent = t('expose.generated', {
    date: new Intl.DateTimeFormat(t.locale, { dateStyle: 'long' }).format(new Date()), snapshot: d.snapshot ?? cfg.snapshot });
  const lic = [];
  const seen = new Set();
  for (const a of d.attribution || prof.attribution || []) {
    const s = [a.attribution, a.licence].filter(Boolean).map((x) => i18n.sourceText(t, x)).join(', ');
    if (s && !seen.has(s)) { seen.add(s); lic.push(s); }
  }
  lic.push(t('source.natural_earth'));
  sheet.querySelector('[data-licences]').textContent = `${t('expose.sources')}: ${lic.join(' · ')}`;
}

/** The cover of a several-site exposé: the list's name and the sites side by side. */
function cover(items, name, ctx) {
  const { t, lang } = ctx;
  const sec = el('section', 'sheet cover');
  sec.dataset.testid = 'expose-cover';
  sec.append(el('p', 'sheet-kicker', `${t('expose.title')} · ${t('app.title')}`), el('h1', null, name));
  if (items.some((d) => d.synthetic)) sec.append(el('p', 'sheet-synthetic', t('expose.synthetic')));
  sec.append(el('p', 'sheet-sub', t('expose.cover_sub', { n: items.length })));
  const table = el('table', 'sources-table cover-table');
  const thead = tableHead(t, ['expose.rank_col', 'compare.site', 'expose.location', 'detail.score', 'expose.area',
    'detail.planning_status', 'expose.h2']);
  const tbody = el('tbody');
  for (const d of items) {
    const tr = el('tr');
    const nameCell = el('th', null, d.name || d.site_id);
    nameCell.scope = 'row';
    tr.append(el('td', 'num', d.rank ? i18n.int(lang, d.rank) : '–'), nameCell, el('td', null, d.municipality ?? ''),
      el('td', 'num', i18n.num(lang, d.score, 1)), el('td', 'num', formatIndicator(t, 'area_ha', d.area_ha)),
      el('td', null, formatIndicator(t, 'planning_category', d.planning_category)),
      el('td', 'num', formatIndicator(t, 'h2_distance_km', d.h2_distance_km)));
    tbody.append(tr);
  }
  table.append(thead, tbody);
  const foot = el('footer', 'sheet-foot');
  foot.append(el('p', null, ''), el('p', null, ''), el('p', 'licences', ''));
  foot.children[0].dataset.profile = '';
  foot.children[1].dataset.generated = '';
  foot.children[2].dataset.licences = '';
  sec.append(table, foot);
  footer(sec, items[0], ctx);
  return sec;
}

async function main() {
  const q = new URLSearchParams(location.search);
  const lang = i18n.LANGS.includes(q.get('lang')) ? q.get('lang') : i18n.DEFAULT_LANG;
  const ids = (q.get('sites') || q.get('site') || '').split(',').map((x) => x.trim()).filter(Boolean).slice(0, 100);
  const [t, cfg, prof] = await Promise.all([i18n.load(lang), api.config(), api.profiles()]);
  i18n.render(document, t);
  document.documentElement.lang = lang;
  const back = new URLSearchParams(q);
  back.delete('site');
  back.delete('sites');
  if (ids.length === 1) back.set('sel', ids[0]);
  $('[data-back]').href = `./?${back}`;
  $('[data-action=print]').addEventListener('click', () => window.print());
  if (!ids.length) throw new Error(t('expose.not_found'));
  const query = new URLSearchParams();
  // the view's profile, weights, horizon and hard filters (rank among the filtered sites)
  for (const [k, v] of q) if (!['site', 'sites', 'lang', 'name', 'list'].includes(k)) query.set(k, v);
  const notes = new Map(); // a shared list (?list=<id>, staff): each site's note
  if (q.get('list')) {
    const lst = await api.json(`api/shortlists/${encodeURIComponent(q.get('list'))}`);
    lst.sites.forEach((x) => notes.set(x.site_id, x.note));
  }
  const got = await Promise.all(ids.map((id) => Promise.all([api.siteScore(id, query), api.siteFeature(id)])));
  const ctx = { t, lang, cfg, prof, bands: scoreBands(cfg.bands) };
  const first = $('main.sheet');
  const blank = first.cloneNode(true);
  const items = got.map(([d], k) => ({ ...d, site_id: d.site_id || ids[k], team_note: notes.get(ids[k]) || null }));
  if (ids.length > 1) {
    const listName = q.get('name') || t('shortlist.title');
    first.before(cover(items, listName, ctx));
    document.title = `${t('expose.title')}: ${listName}`;
  } else document.title = `${t('expose.title')}: ${items[0].name || ids[0]}`;
  let prev = first;
  for (let k = 0; k < items.length; k++) { // one after another: one WebGL context at a time
    const sheet = k === 0 ? first : blank.cloneNode(true);
    if (k > 0) prev.after(sheet);
    const h1 = sheet.querySelector('h1');
    h1.id = `expose-name-${k}`;
    sheet.setAttribute('aria-labelledby', h1.id);
    sheet.querySelector('.expose-map').removeAttribute('id');
    await fillSheet(sheet, items[k], got[k][1], ctx);
    prev = sheet;
  }
  document.documentElement.dataset.ready = 'true';
}

main().catch((e) => {
  console.error(e);
  const el2 = document.querySelector('[data-toast]');
  el2.textContent = e.detail || e.message;
  el2.hidden = false;
  document.documentElement.dataset.ready = 'error';
});
