// Find a site by name, id or municipality: the search box of the ranking panel, an APG combobox
// with a listbox of at most MAX_HITS matches. Case and diacritics do not matter ("munster",
// "muenster" and "Münster" find Münster; "ß" = "ss"). Enter (or a click) opens the site's
// detail, which also moves the map to it (map-sync.js pans to the selection). Every stored site
// is searched, the ranked ones first by rank, then those the filters exclude.
// The matching (fold, buildIndex, findSites) is pure and runs under node --test.

import { int } from './i18n.js';

export const MAX_HITS = 8;
export const FLY_ZOOM = 13; // the map shows a found site at least this close

/** The camera fragment (MapLibre's hash: #map=zoom/lat/lng[/bearing/pitch]) centred on a site,
 * zoomed in to at least FLY_ZOOM; setting it moves the map (MapLibre follows hashchange). */
export function cameraHash(hash, lon, lat) {
  const m = /map=([\d.]+)\/-?[\d.]+\/-?[\d.]+((?:\/-?[\d.]+)*)/.exec(hash || '');
  const z = Math.max(FLY_ZOOM, m ? Number(m[1]) : 0);
  const cam = `map=${z}/${lat.toFixed(5)}/${lon.toFixed(5)}${m ? m[2] : ''}`;
  const rest = (hash || '').replace(/^#/, '').split('&').filter((x) => x && !x.startsWith('map='));
  return `#${[cam, ...rest].join('&')}`;
}

/** Lower case without diacritics: "Münster-Hiltrup" → "munster-hiltrup", "Straße" → "strasse". */
export function fold(s) {
  return String(s ?? '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/ß/g, 'ss');
}

/** German umlauts written out (ä → ae …), then folded: "Münster" → "muenster". */
function spelledOut(s) {
  return fold(String(s ?? '').replace(/[äÄ]/g, 'ae').replace(/[öÖ]/g, 'oe').replace(/[üÜ]/g, 'ue'));
}

/** Per row the text a query is matched against: name, municipality, Kreis and site id, folded
 * both ways (umlaut dropped and spelled out). */
export function buildIndex(columns) {
  const n = columns.site_id.length;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const raw = [columns.name?.[i], columns.municipality?.[i], columns.kreis?.[i], columns.site_id[i]]
      .filter((x) => x !== null && x !== undefined).join(' ');
    const a = fold(raw);
    const b = spelledOut(raw);
    out[i] = a === b ? a : `${a} ${b}`;
  }
  return out;
}

/**
 * Rows matching every word of `query`, best first: the exact site id, then names that start with
 * the query, then by rank (ranked sites first; `rank[row]` 0 = excluded), then by name.
 */
export function findSites(index, columns, query, rank = null, limit = MAX_HITS) {
  const q = fold(query).trim();
  if (!q) return [];
  const words = q.split(/\s+/);
  const hits = [];
  for (let i = 0; i < index.length; i++) {
    if (words.every((w) => index[i].includes(w))) hits.push(i);
  }
  const key = (i) => {
    const id = fold(columns.site_id[i]);
    const name = fold(columns.name?.[i] ?? '');
    const rk = rank ? rank[i] || Infinity : Infinity;
    return [id === q ? 0 : 1, name.startsWith(q) ? 0 : 1, rk, name];
  };
  const keyed = hits.map((i) => [key(i), i]);
  keyed.sort(([a], [b]) => {
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
    return 0;
  });
  return keyed.slice(0, limit).map(([, i]) => i);
}

export class SiteSearch {
  /** `input` the combobox, `list` its listbox; ctx {store, prep, getT}. */
  constructor(input, list, { store, prep, getT }) {
    Object.assign(this, { input, list, store, prep, getT });
    this.index = null; // built on first use
    this.hits = [];
    this.active = -1;
    input.addEventListener('input', () => this.update());
    input.addEventListener('focus', () => { if (input.value) this.update(); });
    input.addEventListener('keydown', (e) => this.onKey(e));
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    list.addEventListener('mousedown', (e) => e.preventDefault()); // keep the focus in the box
    list.addEventListener('click', (e) => {
      const li = e.target.closest('[data-hit]');
      if (li) this.open(Number(li.dataset.hit));
    });
    store.addEventListener('change', (ev) => { if (ev.detail.keys.has('lang') && !list.hidden) this.update(); });
  }

  update() {
    const t = this.getT();
    const { columns } = this.prep;
    this.index ??= buildIndex(columns);
    const r = this.store.state.ranking;
    this.hits = findSites(this.index, columns, this.input.value, r?.rank ?? null);
    this.active = this.hits.length ? 0 : -1;
    const items = this.hits.map((row, k) => {
      const li = document.createElement('li');
      li.id = `site-search-hit-${k}`;
      li.className = 'search-hit';
      li.setAttribute('role', 'option');
      li.dataset.hit = String(k);
      const name = document.createElement('span');
      name.className = 'search-name';
      name.textContent = columns.name[row] || columns.site_id[row];
      const sub = document.createElement('span');
      sub.className = 'search-sub';
      const rk = r?.rank[row];
      sub.textContent = [columns.municipality[row], columns.site_id[row],
        rk ? t('search.rank', { rank: int(t.lang, rk) }) : t('search.excluded')].filter(Boolean).join(' · ');
      li.append(name, sub);
      return li;
    });
    if (this.input.value.trim() && !items.length) {
      const li = document.createElement('li');
      li.className = 'search-none';
      li.textContent = t('search.none');
      items.push(li);
    }
    this.list.replaceChildren(...items);
    this.show(items.length > 0);
    this.mark();
  }

  show(on) {
    this.list.hidden = !on;
    this.input.setAttribute('aria-expanded', String(on));
  }

  close() {
    this.show(false);
    this.input.removeAttribute('aria-activedescendant');
  }

  mark() {
    for (const li of this.list.children) li.setAttribute('aria-selected', String(Number(li.dataset.hit) === this.active));
    if (this.active >= 0) this.input.setAttribute('aria-activedescendant', `site-search-hit-${this.active}`);
    else this.input.removeAttribute('aria-activedescendant');
  }

  /** Open the k-th hit: move the map to it and select it (detail panel and list follow). */
  open(k) {
    const row = this.hits[k];
    if (row === undefined) return;
    const c = this.prep.columns;
    const id = c.site_id[row];
    this.input.value = c.name[row] || id;
    this.close();
    if (Number.isFinite(c.lon?.[row]) && Number.isFinite(c.lat?.[row])) {
      location.hash = cameraHash(location.hash, c.lon[row], c.lat[row]);
    }
    this.store.select(id);
  }

  onKey(e) {
    const n = this.hits.length;
    if (e.key === 'ArrowDown' && n) this.active = (this.active + 1) % n;
    else if (e.key === 'ArrowUp' && n) this.active = (this.active - 1 + n) % n;
    else if (e.key === 'Enter') {
      if (this.list.hidden) this.update();
      this.open(Math.max(0, this.active));
    } else if (e.key === 'Escape') {
      if (this.list.hidden) this.input.value = '';
      this.close();
    } else return;
    e.preventDefault();
    this.mark();
  }
}
