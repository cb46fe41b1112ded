// Entry point: loads the config, profiles, site table and strings, builds the store from the
// permalink, wires the modules to the store, and re-ranks in the browser (coalesced with
// requestAnimationFrame) whenever the weights, filters, profile or year change.
// Test hook: <html data-ready="true"> once the sites are drawn and the map is idle.

import { Store } from './state.js';
import * as api from './api.js';
import * as i18n from './i18n.js';
import { prepareTable, rank, weightVector, effectiveFilters } from './scoring.js';
import { encode, decode, apiQuery } from './permalink.js';
import { emptyFilters } from './filters.js';
import { scoreBands } from './bands.js';
import { createMap } from './map.js';
import { warmUp } from './map-tiles.js';
import { tabs, Controls } from './controls.js';
import { RankingList } from './ranking.js';
import { Detail } from './detail.js';
import { Compare } from './compare.js';
import { Shortlist } from './shortlist.js';
import { Legend } from './legend.js';
import { Draw } from './draw.js';
import * as session from './session.js';
import { SharedLists } from './staff-lists.js';
import { initSheets } from './sheets.js';
import { ChangesView } from './changes.js';
import { Inquiries } from './inquiries.js';
import { ReservesView } from './reserves.js';

const doc = document.documentElement;
const $ = (sel) => document.querySelector(sel);
const tables = new Map();
const timings = { start: performance.now() };

async function translatorFor(lang) {
  if (!tables.has(lang)) tables.set(lang, i18n.load(lang));
  return tables.get(lang);
}

let toastTimer = null;
function toast(text) {
  const el = $('[data-toast]');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
}

// the largest download first, in parallel with config, profiles, table and strings
// (index.html's inline script has usually started it already: window.nrwPrefetch)
const early = (() => {
  const pre = window.nrwPrefetch;
  if (pre?.response) return api.prefetchValues(pre.profile, pre.year, pre.response);
  const q = new URLSearchParams(location.search);
  const y = Number(q.get('h2_year'));
  return api.prefetchValues(q.get('profile'), Number.isInteger(y) && y > 0 ? y : null);
})();

async function main() {
  const q = new URLSearchParams(location.search);
  const firstLang = i18n.LANGS.includes(q.get('lang')) ? q.get('lang') : i18n.DEFAULT_LANG;
  const config = api.config();
  config.then((c) => warmUp(c.tiles)).catch(() => {});
  const [cfg, prof, table, coverage, t0, who] = await Promise.all([
    config, api.profiles(), api.table(), api.coverage(), translatorFor(firstLang), session.current(),
  ]);
  timings.data = performance.now();
  let t = t0;
  const byName = new Map(prof.criteria.map((c) => [c.name, c]));
  // the value array's column order is the table's `criteria`; labels come from /api/profiles
  const criteria = (table.criteria || prof.criteria.map((c) => c.name)).map((n) => byName.get(n) || { name: n });
  const names = criteria.map((c) => c.name);
  const C = names.length;
  const profiles = prof.profiles;
  const profileOf = (name) => profiles.find((p) => p.name === name) || profiles.find((p) => p.name === prof.default) || profiles[0];
  const years = table.h2_years?.length ? [Math.min(...table.h2_years), Math.max(...table.h2_years)] : [2025, 2032];

  const filterSpecs = table.filters || []; // the registry (geo/filters.py): every filter by its API name
  const link = decode(location.search, { profiles: profiles.map((p) => p.name), criteria: names, years, langs: i18n.LANGS,
    filters: filterSpecs });
  const p0 = profileOf(link.profile || prof.default);
  const horizon = (p) => Math.min(years[1], Math.max(years[0], p.parameters?.h2_horizon ?? years[1]));
  const store = new Store({
    lang: firstLang,
    profile: p0.name,
    weights: { ...Object.fromEntries(names.map((n) => [n, p0.weights[n] ?? 0])), ...(link.weights || {}) },
    year: link.year ?? horizon(p0),
    filters: { ...emptyFilters(filterSpecs), ...(link.filters || {}) },
    sel: link.sel || null,
    cmp: link.cmp || [],
    shortlist: link.shortlist || Store.savedShortlist(),
    compareOpen: !!link.cmp?.length,
  });
  if ((early.profile || prof.default) === store.state.profile && (early.year ?? horizon(p0)) === store.state.year) {
    api.seedValues(store.state.profile, store.state.year, early.promise);
  }
  const valuesFirst = api.values(store.state.profile, store.state.year);
  const getT = () => t;

  // static strings, language, synthetic banner
  i18n.render(document, t);
  doc.lang = t.lang;
  if (cfg.synthetic ?? table.synthetic) {
    $('[data-testid=synthetic]').hidden = false;
    document.body.classList.add('is-synthetic');
  }
  const year = $('[data-control=h2-year]');
  year.min = String(years[0]);
  year.max = String(years[1]);

  const prep = prepareTable(table);
  const bands = scoreBands(cfg.bands);
  timings.prepared = performance.now();
  let currentValues = null;
  const getValues = () => currentValues;

  const mapApi = createMap($('#map'), { store, t, cfg, bands, coverage, prep, timings, toast, attribution: prof.attribution || [] });
  tabs($('.panel-left'));
  const controls = new Controls($('.panel-left'), { store, profiles, criteria, filters: filterSpecs, prep, getT, profileOf, horizon });
  controls.init();
  new RankingList($('[data-testid=ranking]'), $('[data-ranking-count]'), $('#tpl-option'), { store, prep, bands, getT, toast });
  new Detail($('[data-testid=detail]'), { store, prep, bands, criteria, getT, getValues, toast });
  new Compare($('#compare'), { store, prep, bands, criteria, getT, getValues });
  // the exposé of one site or (ids: an array) of several, ranked as the page ranks (filters too)
  const exposeUrl = (ids, name = null) => {
    const s = store.state;
    const qq = apiQuery(s, names, prep.filters, effectiveFilters(prep, s.filters));
    if (Array.isArray(ids)) qq.set('sites', ids.join(','));
    else qq.set('site', ids);
    if (name) qq.set('name', name);
    qq.set('lang', t.lang);
    return `expose.html?${qq}`;
  };
  const shortlistDialog = $('[data-dialog=shortlist]');
  new Shortlist(shortlistDialog, { store, prep, criteria, getT, getValues, toast, exposeUrl });
  // signing out leaves no non-public site id in the link or this browser's shortlist
  const dropHidden = () => {
    const hidden = (id) => prep.rowOf.has(id) && prep.fid[prep.rowOf.get(id)] === -1;
    if (hidden(store.state.sel)) store.select(null);
    store.state.cmp.filter(hidden).forEach((id) => store.toggleCompare(id, false));
    store.state.shortlist.filter(hidden).forEach((id) => store.toggleShortlist(id, false));
    writeLink();
  };
  new session.SessionUI($('[data-signin]'), $('[data-dialog=signin]'), { session: who, getT, store,
    beforeSignOut: dropHidden });
  if (who.signed_in) {
    const shared = new SharedLists($('[data-shared-lists]'), { store, prep, getT, toast, exposeUrl });
    $('[data-action=shortlist-open]').addEventListener('click', () => shared.refresh());
  }
  new ChangesView($('[data-changes]'), { store, prep, criteria, getT, toast, map: mapApi.map, button: $('[data-changes-open]') });
  new ReservesView($('[data-reserves]'), { store, getT, toast, map: mapApi.map, button: $('[data-reserves-open]') });
  if (who.signed_in) {
    new Inquiries($('[data-dialog=inquiries]'), { store, prep, names, filters: filterSpecs, profileOf, horizon, years, profiles,
      getT, toast, map: mapApi.map, button: $('[data-inquiries-open]') });
  }
  new Legend({ list: $('[data-layer-list]'), sources: $('[data-sources]'), floating: $('[data-score-legend]'),
    store, groups: mapApi.groups, bands, attribution: prof.attribution || [], getT });
  new Draw({ mapApi, store, criteria, getT, toast, button: $('[data-action=draw]'), fileInput: $('[data-action=file]'),
    hint: $('[data-draw-hint]'), dropZone: $('[data-drop-zone]'), container: $('.map-wrap') });

  // the phone layout's sheets and header menu, and the skip link
  initSheets({ store, getT, toast, nav: $('[data-sheet-nav]'), menu: $('#bar-menu'), menuButton: $('[data-menu-toggle]'),
    skip: $('.skip'), ranking: $('#ranking') });

  // -- re-ranking, coalesced per animation frame --------------------------------------------
  const rankNow = (values) => {
    const s = store.state;
    const started = performance.now();
    const minArea = profileOf(s.profile).parameters?.min_area_ha ?? null;
    const r = rank(prep, values, C, weightVector(names, s.weights), effectiveFilters(prep, s.filters), minArea);
    r.key = `${s.profile}|${s.year}`;
    currentValues = values;
    timings.lastRankMs = performance.now() - started;
    store.setRanking(r);
    timings.lastUpdateMs = performance.now() - started;
    return r;
  };
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(async () => {
      scheduled = false;
      const s = store.state;
      const key = `${s.profile}|${s.year}`;
      let values;
      try {
        values = await api.values(s.profile, s.year);
      } catch (e) {
        toast(e.detail || e.message);
        return;
      }
      if (`${store.state.profile}|${store.state.year}` !== key) return; // a newer run follows
      rankNow(values);
    });
  };
  store.addEventListener('change', (ev) => {
    const k = ev.detail.keys;
    if (k.has('weights') || k.has('filters') || k.has('profile') || k.has('year')) schedule();
  });

  // -- permalink: the query holds the shareable state; MapLibre's hash holds the camera --------
  let linkTimer = null;
  const writeLink = () => {
    const s = store.state;
    const p = profileOf(s.profile);
    const url = new URL(location.href);
    url.search = encode({ ...s, shortlist: s.shortlist }, {
      profile: prof.default, weights: Object.fromEntries(names.map((n) => [n, p.weights[n] ?? 0])),
      year: horizon(p), lang: i18n.DEFAULT_LANG, filters: filterSpecs });
    if (url.href !== location.href) history.replaceState(history.state, '', url);
  };
  store.addEventListener('change', (ev) => {
    const k = ev.detail.keys;
    if (['profile', 'weights', 'year', 'filters', 'sel', 'cmp', 'shortlist', 'lang'].some((x) => k.has(x))) {
      clearTimeout(linkTimer);
      linkTimer = setTimeout(writeLink, 250);
    }
  });

  // printing the page prints the detail with every source shown
  window.addEventListener('beforeprint', () => document.querySelectorAll('[data-testid=detail] details').forEach((d) => { d.open = true; }));

  // -- header actions -----------------------------------------------------------------------
  document.addEventListener('click', async (e) => {
    const b = e.target.closest('[data-action]');
    if (!b) return;
    const a = b.dataset.action;
    if (a === 'lang') {
      const next = t.lang === 'de' ? 'en' : 'de';
      t = await translatorFor(next);
      i18n.render(document, t);
      doc.lang = next;
      mapApi.setT(t);
      store.setLang(next);
    } else if (a === 'shortlist-open') {
      shortlistDialog.showModal();
    } else if (a === 'help-open') {
      $('[data-dialog=help]').showModal();
    } else if (a === 'dialog-close') {
      b.closest('dialog')?.close();
    } else if (a === 'compare-open') {
      if (!store.state.cmp.length) toast(t('compare.none'));
      else store.openCompare(!store.state.compareOpen);
    } else if (a === 'compare-close') {
      store.openCompare(false);
    } else if (a === 'compare-clear') {
      store.clearCompare();
    } else if (a === 'permalink') {
      writeLink();
      try {
        await navigator.clipboard.writeText(location.href);
        toast(t('permalink.copied'));
      } catch {
        toast(location.href);
      }
    }
  });
  store.addEventListener('change', (ev) => {
    const k = ev.detail.keys;
    if (k.has('cmp') || k.has('lang')) document.querySelectorAll('[data-compare-count]').forEach((x) => { x.textContent = String(store.state.cmp.length); });
    if (k.has('compareOpen') || k.has('cmp')) {
      $('[data-action=compare-open]').setAttribute('aria-expanded', String(store.state.compareOpen && store.state.cmp.length > 0));
      document.body.classList.toggle('compare-open', store.state.compareOpen && store.state.cmp.length > 0);
    }
    if (k.has('cmp') && store.state.cmp.length === 0) store.openCompare(false);
  });
  document.querySelectorAll('[data-compare-count]').forEach((x) => { x.textContent = String(store.state.cmp.length); });

  // -- first ranking, then ready --------------------------------------------------------------
  mapApi.styleReady.then(() => { timings.styleReady = performance.now(); });
  valuesFirst.then(() => { timings.valuesArrived = performance.now(); });
  const [values] = await Promise.all([valuesFirst, mapApi.styleReady]);
  await mapApi.tilesRequested;
  timings.values = performance.now();
  mapApi.sync();
  rankNow(values);
  timings.firstRanked = performance.now();
  await mapApi.ready;
  timings.load = performance.now();
  store._emit(['compareOpen', 'cmp']);
  if (store.state.sel) store._emit(['sel']);
  await mapApi.idle();
  timings.ready = performance.now();
  doc.dataset.ready = 'true';
  mapApi.loadNeighbours();

  // for benchmarks and browser tests: the JavaScript call behind a slider move
  window.nrwSites = {
    store, timings, prep, map: mapApi.map, points: mapApi.points,
    rankNow: () => rankNow(currentValues),
    /** Set weights and re-rank synchronously (list and map feature-state); returns ms. */
    setWeights(w) {
      const started = performance.now();
      store.setWeights({ ...store.state.weights, ...w });
      rankNow(currentValues);
      return performance.now() - started;
    },
  };
}

// a request cut off because the page is being left (reload, navigation) is no failure
let leaving = false;
addEventListener('pagehide', () => { leaving = true; });

main().catch((e) => {
  if (leaving || e?.name === 'AbortError') return;
  console.error(e);
  const el = document.querySelector('[data-toast]');
  if (el) {
    el.textContent = `${e.detail || e.message}`;
    el.hidden = false;
    el.classList.add('fatal');
  }
});
