// The one-page exposé of one site: ?site=<id>&profile=&w_<criterion>=&h2_year=&lang=
// The page's own map image (a MapLibre canvas kept as a PNG for printing), the score with rank
// and rank stability, the breakdown, every indicator with its source, and the licence lines.
// <html data-ready="true"> once everything is drawn (for PDF printing in tests).

import * as api from './api.js';
import * as i18n from './i18n.js';
import { createSiteMap } from './map.js';
import { breakdownChart, rowsFromBreakdown, formatIndicator } from './detail.js';
import { specMap } from './units.js';
import { scoreBands } from './bands.js';

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

async function main() {
  const q = new URLSearchParams(location.search);
  const lang = i18n.LANGS.includes(q.get('lang')) ? q.get('lang') : i18n.DEFAULT_LANG;
  const id = q.get('site');
  const [t, cfg, prof] = await Promise.all([i18n.load(lang), api.config(), api.profiles()]);
  i18n.render(document, t);
  document.documentElement.lang = lang;
  const back = new URLSearchParams(q);
  back.delete('site');
  back.set('sel', id || '');
  $('[data-back]').href = `./?${back}`;
  $('[data-action=print]').addEventListener('click', () => window.print());
  if (!id) throw new Error(t('expose.not_found'));
  const query = new URLSearchParams();
  // the view's profile, weights, horizon and hard filters (rank among the filtered sites)
  for (const [k, v] of q) if (k !== 'site' && k !== 'lang') query.set(k, v);
  const [d, feature] = await Promise.all([api.siteScore(id, query), api.siteFeature(id)]);
  const criteria = prof.criteria;
  const specs = specMap(criteria); // each indicator's declared unit and decimals
  document.title = `${t('expose.title')}: ${d.name || id}`;
  $('[data-name]').textContent = d.name || id;
  $('[data-sub]').textContent = [d.municipality, d.kreis && d.kreis !== d.municipality ? d.kreis : null,
    t(`kind.${d.kind}`)].filter(Boolean).join(' · ');
  $('[data-synthetic]').hidden = !d.synthetic;

  // score, rank, stability
  const scoreBox = $('[data-score]');
  const line = el('div', 'score-line');
  const big = el('span', 'score-big', i18n.num(lang, d.score, 1));
  const bands = scoreBands(cfg.bands);
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
  const facts = $('[data-facts]');
  const fact = (k, v) => facts.append(el('dt', null, k), el('dd', null, v));
  fact(t('expose.area'), formatIndicator(t, 'area_ha', d.area_ha));
  fact(t('detail.planning_status'), formatIndicator(t, 'planning_category', d.planning_category));
  fact(t('expose.h2'), `${formatIndicator(t, 'h2_distance_km', d.h2_distance_km)}${d.h2_commissioning_year ? ` (${t('indicator.h2_commissioning_year')} ${d.h2_commissioning_year})` : ''}`);
  if (d.nearest_lep) fact(t('detail.nearest_lep'), `${d.nearest_lep} · ${formatIndicator(t, 'nearest_lep_km', d.nearest_lep_km)}`);
  fact(t('expose.location'), `${d.municipality ?? ''} (AGS ${d.ags ?? '–'})`);

  // breakdown and sources
  const rows = rowsFromBreakdown(criteria, d.breakdown || {}, lang);
  $('[data-breakdown]').append(...breakdownChart(t, rows));
  const table = $('[data-sources]');
  const head = el('tr');
  for (const k of ['compare.site', 'detail.indicators', 'compare.score', 'detail.source']) {
    const th = el('th', null, k === 'compare.site' ? t('expose.criterion') : k === 'detail.indicators' ? t('expose.value') : k === 'compare.score' ? t('expose.points') : t('detail.source'));
    th.scope = 'col';
    head.append(th);
  }
  const thead = el('thead');
  thead.append(head);
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

  // footer: profile, weights, date, licences
  const p = prof.profiles.find((x) => x.name === d.profile);
  const pl = p ? (lang === 'de' ? p.label_de : p.label_en) || p.name : d.profile;
  const weights = Object.entries(d.weights || {}).map(([k, w]) => {
    const c = criteria.find((x) => x.name === k);
    return `${c ? (lang === 'de' ? c.label_de : c.label_en) || k : k} ${i18n.num(lang, w, 1)}`;
  }).join(', ');
  $('[data-profile]').textContent = `${t('expose.profile', { profile: pl, year: d.h2_year ?? '' })} · ${t('expose.weights')}: ${weights}`;
  $('[data-generated]').textContent = t('expose.generated', {
    date: new Intl.DateTimeFormat(t.locale, { dateStyle: 'long' }).format(new Date()), snapshot: d.snapshot ?? cfg.snapshot });
  const lic = [];
  const seen = new Set();
  for (const a of d.attribution || prof.attribution || []) {
    const s = [a.attribution, a.licence].filter(Boolean).map((x) => i18n.sourceText(t, x)).join(', ');
    if (s && !seen.has(s)) { seen.add(s); lic.push(s); }
  }
  lic.push(t('source.natural_earth'));
  $('[data-licences]').textContent = `${t('expose.sources')}: ${lic.join(' · ')}`;

  // the map: drawn live, then kept as an image for printing
  if (cfg.tiles && feature?.geometry) {
    const bounds = bboxOf(feature.geometry);
    const map = await createSiteMap($('#expose-map'), { cfg, bands, siteId: id, bounds, bandValue: b });
    const img = $('[data-map-img]');
    img.src = map.getCanvas().toDataURL('image/png');
    img.alt = t('expose.map_alt');
    img.hidden = false;
    const scale = $('#expose-map .maplibregl-ctrl-scale');
    if (scale) $('[data-map-frame]').append(Object.assign(scale.cloneNode(true), { className: 'maplibregl-ctrl-scale expose-scale' }));
    $('#expose-map').hidden = true;
    await img.decode().catch(() => {});
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
