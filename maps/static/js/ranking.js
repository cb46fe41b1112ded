// The ranking list: an APG listbox. Focus stays on the role="listbox" element; the arrow keys,
// Home/End and PageUp/PageDown move aria-activedescendant and select (selection follows focus).
// Options are keyed by site (id="site-<site_id>"), so the active option survives a re-rank.
// M toggles the shortlist, V the comparison. Only the first `shown` entries (plus the
// selection) are rendered: TOP_N at first, TOP_N more per "load more" (or ArrowDown / PageDown
// on the last entry), so every ranked site can be reached; the footer says "100 of 1,898".
// The shown count survives a re-rank (the list follows the sliders live at any length).

import { num, int, unit, pluralKey } from './i18n.js';
import { SiteSearch } from './search.js';

export const TOP_N = 100;

/** How many entries a list of `ranked` sites shows when `shown` were asked for (≥ TOP_N). */
export function shownCount(shown, ranked) {
  return Math.min(Math.max(TOP_N, shown), ranked);
}

export class RankingList {
  constructor(el, countEl, tpl, { store, prep, bands, getT, toast = () => {} }) {
    this.toast = toast;
    this.bands = bands;
    this.el = el;
    this.countEl = countEl;
    this.tpl = tpl;
    this.store = store;
    this.prep = prep;
    this.getT = getT;
    this.nodes = new Map();
    this.rows = [];
    this.shown = TOP_N;
    this.more = this.footer();
    const box = el.parentElement.querySelector('[data-site-search]');
    if (box) this.search = new SiteSearch(box, el.parentElement.querySelector('[data-site-search-results]'), { store, prep, getT });
    el.addEventListener('keydown', (e) => this.onKey(e));
    el.addEventListener('click', (e) => {
      const li = e.target.closest('[data-site-id]');
      if (!li) return;
      const id = li.dataset.siteId;
      if (e.target.closest('[data-action=shortlist]')) store.toggleShortlist(id);
      else store.select(id);
      el.focus({ preventScroll: true });
    });
    el.addEventListener('mouseover', (e) => {
      const li = e.target.closest('[data-site-id]');
      if (li && store.state.hover !== li.dataset.siteId) store.hover(li.dataset.siteId);
    });
    el.addEventListener('mouseleave', () => store.hover(null));
    el.addEventListener('focus', () => {
      if (!el.getAttribute('aria-activedescendant') && this.rows.length) {
        const id = store.state.sel && this.nodes.has(store.state.sel) ? store.state.sel : this.rows[0];
        this.activate(id, false);
      }
    });
    store.addEventListener('change', (ev) => {
      const k = ev.detail.keys;
      if (k.has('ranking') || k.has('lang') || k.has('shortlist') || k.has('cmp') || k.has('sel') || k.has('marked')) this.render();
      else if (k.has('hover')) this.markHover();
    });
  }

  /** The footer after the list: "100 of 1,898" and a button that shows TOP_N more. */
  footer() {
    const p = document.createElement('p');
    p.className = 'hint ranking-more';
    p.dataset.rankingMore = '';
    const text = document.createElement('span');
    text.dataset.rankingShown = '';
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'linklike small';
    b.dataset.action = 'ranking-more';
    b.addEventListener('click', () => this.loadMore());
    p.append(text, ' ', b);
    this.el.after(p);
    return { p, text, b };
  }

  /** Show TOP_N more entries (no-op when all are shown). */
  loadMore() {
    const r = this.store.state.ranking;
    if (!r || this.shown >= r.order.length) return;
    this.shown += TOP_N;
    this.render();
  }

  option(id) {
    let li = this.nodes.get(id);
    if (!li) {
      li = this.tpl.content.firstElementChild.cloneNode(true);
      li.id = `site-${id}`;
      li.dataset.siteId = id;
      li.f = Object.fromEntries([...li.querySelectorAll('[data-f]')].map((e) => [e.dataset.f, e]));
      li.f.sr = document.createElement('span');
      li.f.sr.className = 'sr-only';
      li.append(li.f.sr);
      li.key = '';
      this.nodes.set(id, li);
    }
    return li;
  }

  render() {
    const r = this.store.state.ranking;
    if (!r) return;
    const t = this.getT();
    const { sel, shortlist, cmp } = this.store.state;
    const marked = new Set(this.store.state.marked || []);
    const c = this.prep.columns;
    const shown = shownCount(this.shown, r.order.length);
    const top = Array.from(r.order.subarray(0, shown), (row) => this.prep.ids[row]);
    const selRow = sel ? this.prep.rowOf.get(sel) : undefined;
    if (selRow !== undefined && r.rank[selRow] > shown) top.push(sel);
    const lis = top.map((id) => {
      const row = this.prep.rowOf.get(id);
      const li = this.option(id);
      const f = li.f;
      const inList = shortlist.includes(id);
      const inCmp = cmp.includes(id);
      const score = r.score[row];
      const isNew = marked.has(id);
      const key = `${t.lang}|${r.rank[row]}|${score}|${inList}|${inCmp}|${isNew}`;
      if (li.key !== key) { // only rows whose rank, score or flags changed are rewritten
        li.key = key;
        f.rank.textContent = `${r.rank[row]}.`;
        f.name.textContent = c.name[row] || id;
        f.sub.textContent = `${c.municipality[row] ?? ''} · ${unit(t.lang, c.area_ha[row], 'hectare', 1)} · ${t(`kind.${c.kind[row]}`)}`;
        if (this.prep.fid[row] === -1) { // only signed-in staff get such rows (the tiles leave them out)
          const tag = document.createElement('span');
          tag.className = 'not-public-tag';
          tag.textContent = t('confidential.not_public');
          f.name.append(' ', tag);
        }
        f.score.textContent = num(t.lang, score, 1);
        f.swatch.style.background = this.bands.colorOf(score);
        f.flags.replaceChildren();
        const star = document.createElement('span');
        star.className = `flag star${inList ? ' on' : ''}`;
        star.dataset.action = 'shortlist';
        star.textContent = inList ? '★' : '☆';
        star.title = t(inList ? 'ranking.unshortlist' : 'ranking.shortlist');
        f.flags.append(star);
        if (isNew) {
          const n = document.createElement('span');
          n.className = 'flag new';
          n.textContent = t('ranking.new_flag');
          f.flags.append(n);
        }
        if (inCmp) {
          const v = document.createElement('span');
          v.className = 'flag cmp';
          v.textContent = '⇆';
          f.flags.append(v);
        }
        f.sr.textContent = [t('ranking.score_sr', { score: num(t.lang, score, 1) }),
          inList ? t('ranking.on_shortlist') : '', inCmp ? t('ranking.in_compare') : '', isNew ? t('ranking.new_sr') : '',
          this.prep.fid[row] === -1 ? t('confidential.not_public') : ''].filter(Boolean).join(', ');
      }
      li.classList.toggle('beyond', r.rank[row] > shown);
      li.classList.toggle('marked', isNew);
      li.setAttribute('aria-selected', String(id === sel));
      return li;
    });
    // replace the children only when the order changed
    const same = lis.length === this.el.children.length && lis.every((li, i) => this.el.children[i] === li);
    this.rows = top;
    if (!same) this.el.replaceChildren(...lis);
    // for tests: changes on every render of a new ranking (wait for it after moving a slider)
    if (this.lastRanking !== r) {
      this.lastRanking = r;
      this.el.dataset.generation = String((Number(this.el.dataset.generation) || 0) + 1);
    }
    const empty = this.el.parentElement.querySelector('[data-ranking-empty]');
    if (empty) empty.hidden = top.length > 0;
    const active = this.el.getAttribute('aria-activedescendant');
    if (sel && this.nodes.has(sel) && top.includes(sel)) {
      this.el.setAttribute('aria-activedescendant', `site-${sel}`);
    } else if (active && !top.includes(active.slice(5))) {
      this.el.removeAttribute('aria-activedescendant');
    }
    // after the other panels have re-laid out (the detail panel changes the list's height)
    if (sel && top.includes(sel)) requestAnimationFrame(() => this.option(sel).scrollIntoView({ block: 'nearest' }));
    this.markHover();
    const excluded = this.prep.n - r.order.length;
    const ranked = r.order.length;
    this.countEl.textContent = t(pluralKey(t.lang, 'ranking.count', ranked), { ranked: int(t.lang, ranked), excluded: int(t.lang, excluded) });
    this.countEl.title = Object.entries(r.excluded).map(([k, v]) => `${t(`excluded.${k}`)}: ${int(t.lang, v)}`).join('\n');
    this.more.p.hidden = ranked === 0;
    this.more.text.textContent = t('ranking.shown', { shown: int(t.lang, shown), ranked: int(t.lang, ranked) });
    this.more.b.hidden = shown >= ranked;
    this.more.b.textContent = t('ranking.more', { n: int(t.lang, Math.min(TOP_N, ranked - shown)) });
    // prune the node cache now and then
    if (this.nodes.size > 4 * Math.max(TOP_N, shown)) {
      const keep = new Set(top);
      for (const id of this.nodes.keys()) if (!keep.has(id)) this.nodes.delete(id);
    }
  }

  markHover() {
    const h = this.store.state.hover;
    for (const li of this.el.children) li.classList.toggle('hover', li.dataset.siteId === h);
  }

  activate(id, select = true) {
    if (!id) return;
    this.el.setAttribute('aria-activedescendant', `site-${id}`);
    this.option(id).scrollIntoView({ block: 'nearest' });
    if (select) this.store.select(id);
  }

  onKey(e) {
    const rows = this.rows;
    if (!rows.length) return;
    const cur = (this.el.getAttribute('aria-activedescendant') || '').slice(5);
    let i = rows.indexOf(cur);
    const page = 10;
    switch (e.key) {
      case 'ArrowDown': i = i < 0 ? 0 : Math.min(rows.length - 1, i + 1); break;
      case 'ArrowUp': i = i < 0 ? 0 : Math.max(0, i - 1); break;
      case 'Home': i = 0; break;
      case 'End': i = rows.length - 1; break;
      case 'PageDown': i = Math.min(rows.length - 1, Math.max(0, i) + page); break;
      case 'PageUp': i = Math.max(0, i - page); break;
      case 'Enter': case ' ': if (cur) this.store.select(cur); e.preventDefault(); return;
      case 'm': case 'M': if (cur) this.store.toggleShortlist(cur); e.preventDefault(); return;
      case 'v': case 'V':
        if (cur && this.store.toggleCompare(cur) === false) this.toast(this.getT()('compare.full'));
        e.preventDefault();
        return;
      default: return;
    }
    e.preventDefault();
    this.activate(rows[i]);
    if ((e.key === 'ArrowDown' || e.key === 'PageDown') && i === rows.length - 1) this.loadMore();
  }
}
