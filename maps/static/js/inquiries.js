// The "Anfragen" dialog of signed-in staff (api/routes_inquiries.py): the saved investor
// inquiries with how many sites newly match since this browser last opened each (the last look
// is kept in localStorage; GET …/matches?since=<that snapshot>), a form that saves the page's
// current ranking (profile, weights, filters incl. available_by, H2 year) with a minimum score
// and/or a top N, a name and a confidential note; opening one restores its ranking into the page
// and marks its newly matching sites in the list and on the map; deleting; the Atom feed link.
// Requests go through api.json, which adds the session's CSRF header (session.js) as the shared
// shortlists do (staff-lists.js).

import * as api from './api.js';
import { effectiveFilters } from './scoring.js';
import { showOverlay, hideOverlay } from './map-overlay.js';
import {
  MARK_SOURCE, inquiryBody, markData, markLayers, markSeen, matchesQuery, pruneSeen, readSeen, restoreOf,
} from './inquiry-data.js';

const base = 'api/inquiries';
const path = (id, rest = '') => `${base}/${encodeURIComponent(id)}${rest}`;
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
const storage = () => { try { return globalThis.localStorage; } catch { return null; } };

export class Inquiries {
  /**
   * @param {HTMLDialogElement} dialog the [data-dialog=inquiries]
   * @param {{store, prep, names, filters, profileOf, horizon, years, profiles, getT, toast, map,
   *   button: HTMLElement}} ctx  names: the criteria; filters: the registry
   */
  constructor(dialog, ctx) {
    this.dialog = dialog;
    this.ctx = ctx;
    this.list = dialog.querySelector('[data-inquiry-list]');
    this.empty = dialog.querySelector('[data-inquiry-empty]');
    this.form = dialog.querySelector('[data-inquiry-form]');
    this.error = dialog.querySelector('[data-inquiry-error]');
    this.summaryEl = dialog.querySelector('[data-inquiry-summary]');
    this.markedEl = dialog.querySelector('[data-inquiry-marked]');
    this.items = [];
    this.news = new Map(); // inquiry id → site ids newly matching since the last look
    this.seen = readSeen(storage());
    this.marked = null; // {name, ids}
    ctx.button.hidden = false;
    ctx.button.addEventListener('click', () => { this.dialog.showModal(); this.refresh(); });
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.create(); });
    dialog.addEventListener('click', (e) => this.onClick(e));
    ctx.store.addEventListener('change', (ev) => {
      const k = ev.detail.keys;
      if (k.has('lang')) this.render();
      if (k.has('lang') || k.has('profile') || k.has('filters') || k.has('weights')) this.renderSummary();
    });
    this.refresh();
  }

  async refresh() {
    try {
      this.items = (await api.json(base)).inquiries;
      this.seen = pruneSeen(storage(), this.seen, this.items.map((i) => i.id));
      const found = await Promise.all(this.items.map((i) => api.json(`${path(i.id, '/matches')}?${matchesQuery(this.seen, i.id)}`)
        .then((m) => [i.id, m.new_sites]).catch(() => [i.id, []])));
      this.news = new Map(found);
    } catch (e) {
      this.ctx.toast(e.detail || e.message);
    }
    this.render();
  }

  async create() {
    const t = this.ctx.getT();
    const { store, prep, filters, profileOf, horizon } = this.ctx;
    const s = store.state;
    const p = profileOf(s.profile);
    const f = new FormData(this.form);
    const body = inquiryBody(s, effectiveFilters(prep, s.filters), filters, { weights: p.weights, year: horizon(p) }, {
      name: f.get('name'), note: f.get('note'), minScore: f.get('min_score'), topN: f.get('top_n'),
    });
    this.error.hidden = true;
    if (body.min_score === undefined && body.top_n === undefined) {
      this.error.textContent = t('inquiries.need_threshold');
      this.error.hidden = false;
      return;
    }
    try {
      const made = await api.json(base, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      this.seen = markSeen(storage(), this.seen, made.id, made.snapshot, new Date().toISOString());
      this.form.reset();
      this.ctx.toast(t('inquiries.saved', { name: made.name }));
      await this.refresh();
    } catch (e) {
      this.error.textContent = `${t('inquiries.not_saved')} ${e.detail || e.message}`;
      this.error.hidden = false;
    }
  }

  async onClick(e) {
    const b = e.target.closest('[data-inquiry-action]');
    if (!b) return;
    const t = this.ctx.getT();
    const item = this.items.find((i) => i.id === b.dataset.inquiry);
    const a = b.dataset.inquiryAction;
    if (a === 'open' && item) await this.open(item);
    else if (a === 'delete' && item && confirm(t('inquiries.delete_confirm', { name: item.name }))) {
      try {
        await api.json(`${path(item.id)}?version=${item.version}`, { method: 'DELETE' });
        if (this.marked?.id === item.id) this.unmark();
      } catch (err) {
        this.ctx.toast(err.status === 409 ? t('shared.conflict') : err.detail || err.message);
      }
      await this.refresh();
    } else if (a === 'token' && item) {
      try {
        const tok = await api.json(path(item.id, '/feed-token'), { method: 'POST' });
        const out = b.parentElement.querySelector('[data-feed-url]');
        out.value = tok.feed;
        out.hidden = false;
        out.select();
      } catch (err) {
        this.ctx.toast(err.detail || err.message);
      }
    } else if (a === 'unmark') this.unmark();
  }

  /** Restore the inquiry's ranking into the page and mark the sites newly matching since the last look. */
  async open(item) {
    const t = this.ctx.getT();
    const { store, names, filters, profileOf, horizon, years, profiles, prep } = this.ctx;
    const known = { profiles: profiles.map((p) => p.name), criteria: names, years, filters };
    store.setView(restoreOf(item, known, profileOf, horizon));
    const ids = this.news.get(item.id) || [];
    this.marked = { id: item.id, name: item.name, ids };
    store.setMarked(ids);
    if (ids.length) showOverlay(this.ctx.map, MARK_SOURCE, markData(ids, prep), markLayers());
    else hideOverlay(this.ctx.map, MARK_SOURCE, markLayers());
    try {
      const full = await api.json(path(item.id));
      this.seen = markSeen(storage(), this.seen, item.id, full.snapshot, new Date().toISOString());
    } catch { /* the marks stay; the last look is not moved */ }
    this.dialog.close();
    this.ctx.toast(t('inquiries.opened', { name: item.name, n: ids.length }));
    this.renderMarked();
  }

  unmark() {
    this.marked = null;
    this.ctx.store.setMarked([]);
    hideOverlay(this.ctx.map, MARK_SOURCE, markLayers());
    this.renderMarked();
  }

  renderSummary() {
    const t = this.ctx.getT();
    const s = this.ctx.store.state;
    const set = Object.values(effectiveFilters(this.ctx.prep, s.filters))
      .filter((v) => (Array.isArray(v) ? v.length : v !== null && v !== undefined)).length;
    this.summaryEl.textContent = t('inquiries.from_view', { profile: this.profileLabel(s.profile), n: set });
  }

  renderMarked() {
    const t = this.ctx.getT();
    this.markedEl.hidden = !this.marked?.ids.length;
    if (this.markedEl.hidden) return;
    const b = el('button', 'btn small', t('inquiries.unmark'));
    b.type = 'button';
    b.dataset.inquiryAction = 'unmark';
    this.markedEl.replaceChildren(el('span', null, t('inquiries.marked', { name: this.marked.name, n: this.marked.ids.length })), ' ', b);
  }

  profileLabel(name) {
    const p = this.ctx.profileOf(name);
    return (this.ctx.getT().lang === 'de' ? p.label_de : p.label_en) || p.name;
  }

  sinceText(id) {
    const t = this.ctx.getT();
    const at = this.seen[id]?.at;
    if (!at) return t('inquiries.since_start');
    return new Date(at).toLocaleString(t.locale, { dateStyle: 'medium', timeStyle: 'short' });
  }

  render() {
    const t = this.ctx.getT();
    this.renderSummary();
    this.renderMarked();
    this.empty.hidden = this.items.length > 0;
    let total = 0;
    this.list.replaceChildren(...this.items.map((i) => {
      const n = (this.news.get(i.id) || []).length;
      total += n;
      const li = el('li', 'inquiry');
      li.dataset.inquiryId = i.id;
      const head = el('div', 'inquiry-head');
      head.append(el('strong', 'inquiry-name', i.name));
      const badge = el('span', `badge${n ? ' on' : ''}`, t('inquiries.new_since', { n, since: this.sinceText(i.id) }));
      badge.dataset.inquiryNew = String(n);
      head.append(badge);
      const crit = [this.profileLabel(i.profile),
        i.min_score != null ? t('inquiries.min_score_is', { score: i.min_score }) : '',
        i.top_n != null ? t('inquiries.top_n_is', { n: i.top_n }) : '',
        i.last_run ? t('inquiries.matches', { n: i.last_run.count }) : ''].filter(Boolean).join(' · ');
      const actions = el('div', 'inquiry-actions');
      const btn = (action, key) => {
        const b = el('button', 'btn small', t(key));
        b.type = 'button';
        Object.assign(b.dataset, { inquiryAction: action, inquiry: i.id });
        b.setAttribute('aria-label', `${t(key)}: ${i.name}`);
        return b;
      };
      const feed = el('a', 'btn small', t('inquiries.feed'));
      feed.href = path(i.id, '/feed.atom');
      feed.target = '_blank';
      feed.rel = 'noopener';
      feed.type = 'application/atom+xml';
      feed.dataset.feed = '';
      const url = el('input', 'feed-url');
      url.readOnly = true;
      url.hidden = true;
      url.dataset.feedUrl = '';
      url.setAttribute('aria-label', t('inquiries.feed_url'));
      actions.append(btn('open', 'inquiries.open'), feed, btn('token', 'inquiries.token'), btn('delete', 'inquiries.delete'), url);
      li.append(head, el('span', 'hint', crit), actions);
      return li;
    }));
    const count = this.ctx.button.querySelector('[data-inquiry-count]');
    if (count) count.textContent = String(total);
  }
}
