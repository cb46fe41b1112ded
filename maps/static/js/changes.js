// The "Changes" view (issue 19): what changed since an earlier snapshot (GET api/changes),
// opened from the header. Choose the snapshot to compare with (default: the live one's
// predecessor) and, optionally, only the Kreis or municipality of the place filter; it shows
// the counts and the lists of new, removed (taken up or dropped), changed and re-keyed sites —
// for a changed site the fields from → to and the score change under the page's profile with the
// criteria that moved it. The map shows new sites as green rings and removed ones (no longer in
// the tiles) as red crosses from the answer's points; closing the view takes them off. A click
// on a list entry flies there and, for a site of the live snapshot, opens its detail.

import * as api from './api.js';
import { num, unit } from './i18n.js';
import { showOverlay, hideOverlay } from './map-overlay.js';
import {
  OVERLAY_SOURCE, boundsOf, changesQuery, defaultSince, fieldChanges, olderThanLive, overlayData,
  overlayLayers, scopeOf, scoreChange, signed, splitChanged,
} from './changes-data.js';
import { FONT } from './layers.js';

const LIST_MAX = 200; // entries shown per list (the counts say how many there are)
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

export class ChangesView {
  /**
   * @param {HTMLElement} root the [data-changes] section
   * @param {{store, prep, criteria, getT, toast, map, button: HTMLElement}} ctx
   */
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.since = root.querySelector('[data-changes-since]');
    this.scopeBox = root.querySelector('[data-changes-scope]');
    this.scopeLabel = root.querySelector('[data-changes-scope-label]');
    this.note = root.querySelector('[data-changes-note]');
    this.counts = root.querySelector('[data-changes-counts]');
    this.lists = root.querySelector('[data-changes-lists]');
    this.snapshots = null;
    this.doc = null;
    this.layers = overlayLayers(FONT);
    ctx.button.addEventListener('click', () => (root.hidden ? this.open() : this.close()));
    root.querySelector('[data-action=changes-close]').addEventListener('click', () => this.close());
    this.since.addEventListener('change', () => this.load());
    this.scopeBox.addEventListener('change', () => this.load());
    this.lists.addEventListener('click', (e) => {
      const b = e.target.closest('[data-change-site]');
      if (b) this.show(b.dataset.changeSite, b.dataset.change);
    });
    ctx.store.addEventListener('change', (ev) => {
      const k = ev.detail.keys;
      if (root.hidden) return;
      if (k.has('lang')) { this.renderForm(); this.render(); }
      else if (k.has('profile')) this.render();
      if (k.has('filters')) {
        const was = this.scopeBox.checked;
        this.renderForm();
        if (was) this.load(); // the place changed (or is gone): compare again
      }
    });
  }

  async open() {
    this.root.hidden = false;
    this.ctx.button.setAttribute('aria-expanded', 'true');
    document.body.classList.add('changes-open');
    try {
      this.snapshots ??= await api.json('api/snapshots');
    } catch (e) {
      this.ctx.toast(e.detail || e.message);
      return;
    }
    this.renderForm(defaultSince(this.snapshots));
    await this.load();
    this.root.querySelector('h2')?.focus?.();
  }

  close() {
    this.root.hidden = true;
    this.ctx.button.setAttribute('aria-expanded', 'false');
    document.body.classList.remove('changes-open');
    hideOverlay(this.ctx.map, OVERLAY_SOURCE, this.layers);
    this.doc = null;
  }

  /** The place the comparison can be restricted to (the filter's one Kreis or municipality). */
  scope() {
    return scopeOf(this.ctx.store.state.filters);
  }

  placeName(scope) {
    const { prep } = this.ctx;
    const c = prep.columns;
    for (let i = 0; i < prep.n; i++) {
      if (scope.ags && c.ags[i] === scope.ags) return c.municipality[i] || scope.ags;
      if (scope.kreis && c.kreis_ags[i] === scope.kreis) return c.kreis[i] || scope.kreis;
    }
    return scope.ags || scope.kreis;
  }

  renderForm(select = this.since.value) {
    const t = this.ctx.getT();
    const older = olderThanLive(this.snapshots);
    this.since.replaceChildren(...older.map((s) => {
      const o = el('option', null, this.snapshotLabel(s));
      o.value = s.id;
      o.selected = s.id === select;
      return o;
    }));
    this.since.disabled = !older.length;
    const scope = this.scope();
    this.scopeBox.disabled = !scope;
    if (!scope) this.scopeBox.checked = false;
    this.scopeLabel.textContent = scope ? t('changes.only_place', { name: this.placeName(scope) }) : t('changes.only_place_none');
  }

  snapshotLabel(s) {
    const t = this.ctx.getT();
    const day = (iso) => (iso ? new Date(iso).toLocaleDateString(t.locale, { dateStyle: 'medium', timeZone: 'UTC' }) : '–');
    return t('changes.snapshot_option', { date: day(s.data_date || s.created), id: s.id });
  }

  async load() {
    const t = this.ctx.getT();
    const from = this.since.value || null;
    if (!from) {
      this.doc = null;
      this.note.textContent = t('changes.no_predecessor');
      this.render();
      return;
    }
    const scope = this.scopeBox.checked ? this.scope() : null;
    this.root.setAttribute('aria-busy', 'true');
    try {
      const doc = await api.json(`api/changes?${changesQuery(from, scope)}`);
      if (this.root.hidden) return;
      this.doc = doc;
      this.render();
      const fc = overlayData(doc);
      showOverlay(this.ctx.map, OVERLAY_SOURCE, fc, this.layers);
      if (scope) this.fitScope(scope, fc);
    } catch (e) {
      this.ctx.toast(e.detail || e.message);
    } finally {
      this.root.removeAttribute('aria-busy');
    }
  }

  /** Fly to a site of the lists; a site of the live snapshot is selected (its detail opens). */
  show(id, change) {
    const { prep, store, map } = this.ctx;
    const row = prep.rowOf.get(id);
    let at = null;
    if (row !== undefined) at = [prep.columns.lon[row], prep.columns.lat[row]];
    else {
      const e = [...(this.doc?.added || []), ...(this.doc?.removed || [])].find((x) => x.site_id === id);
      if (e) at = [e.lon, e.lat];
    }
    if (change !== 'removed' && row !== undefined) store.select(id);
    if (at && Number.isFinite(at[0])) map.flyTo({ center: at, zoom: Math.max(map.getZoom(), 13), duration: 800, padding: this.uncovered() });
    this.lists.querySelectorAll('[data-change-site]').forEach((b) => b.setAttribute('aria-current', String(b.dataset.changeSite === id)));
  }

  /** Show the place: its live sites and the removed ones, beside this panel. */
  fitScope(scope, fc) {
    const { prep, map } = this.ctx;
    const c = prep.columns;
    const pts = { type: 'FeatureCollection', features: [...fc.features] };
    for (let i = 0; i < prep.n; i++) {
      if ((scope.ags && c.ags[i] === scope.ags) || (scope.kreis && c.kreis_ags[i] === scope.kreis)) {
        pts.features.push({ geometry: { coordinates: [c.lon[i], c.lat[i]] } });
      }
    }
    const b = boundsOf(pts);
    if (!b) return;
    const pad = this.uncovered();
    for (const k of Object.keys(pad)) pad[k] += 50;
    map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: pad, maxZoom: 11 });
  }

  /** The map padding that keeps a flown-to site out from under this panel (left of it, or below it on a phone). */
  uncovered() {
    const m = this.ctx.map.getContainer().getBoundingClientRect();
    const p = this.root.getBoundingClientRect();
    const pad = { top: 0, bottom: 0, left: 0, right: 0 };
    if (p.width < m.width * 0.6) pad.left = Math.max(0, p.right - m.left);
    else pad.top = Math.max(0, Math.min(p.bottom - m.top, m.height * 0.6));
    return pad;
  }

  render() {
    const t = this.ctx.getT();
    const d = this.doc;
    if (!d) {
      this.counts.replaceChildren();
      this.lists.replaceChildren();
      return;
    }
    this.note.textContent = [
      t('changes.between', { from: d.from, to: d.to }),
      d.note ? t('changes.no_predecessor') : '',
      d.synthetic ? t('changes.synthetic') : '',
    ].filter(Boolean).join(' ');
    const c = d.counts;
    this.counts.replaceChildren(...['added', 'removed', 'changed', 'rekeyed', 'unchanged'].flatMap((k) => {
      const dd = el('dd', null, String(c[k] ?? 0));
      dd.dataset.count = k;
      return [el('dt', `count-${k}`, t(`changes.count_${k}`)), dd];
    }));
    const { changed, rekeyed } = splitChanged(d);
    this.lists.replaceChildren(
      this.section('added', d.added, (e) => this.summary(e)),
      this.section('removed', d.removed, (e) => this.summary(e)),
      this.section('changed', changed, (e) => this.changeLines(e)),
      this.section('rekeyed', rekeyed, (e) => [t('changes.rekeyed_from', { id: e.rekeyed_from }), ...this.changeLines(e)]),
    );
  }

  section(kind, entries, lines) {
    const t = this.ctx.getT();
    const s = el('section', `changes-list changes-${kind}`);
    s.dataset.changesList = kind;
    s.append(el('h3', null, `${t(`changes.list_${kind}`)} (${entries.length})`));
    if (!entries.length) {
      s.append(el('p', 'hint', t('changes.none')));
      return s;
    }
    const ol = el('ul');
    for (const e of entries.slice(0, LIST_MAX)) {
      const li = el('li');
      const b = el('button', 'linklike', this.nameOf(e));
      b.type = 'button';
      Object.assign(b.dataset, { changeSite: e.site_id, change: kind });
      li.append(b);
      for (const line of lines(e)) li.append(el('span', 'change-line', line));
      ol.append(li);
    }
    s.append(ol);
    if (entries.length > LIST_MAX) s.append(el('p', 'hint', t('changes.more', { n: entries.length - LIST_MAX })));
    return s;
  }

  nameOf(e) {
    if (e.name) return e.name;
    const row = this.ctx.prep.rowOf.get(e.site_id);
    return row === undefined ? e.site_id : this.ctx.prep.columns.name[row] || e.site_id;
  }

  /** An added or removed site: municipality, area, planning, its score under the page's profile. */
  summary(e) {
    const t = this.ctx.getT();
    const score = e.score?.[this.ctx.store.state.profile];
    return [[e.municipality, this.value('area_ha', e.area_ha), this.value('planning_category', e.planning_category),
      score == null ? '' : t('changes.score', { score: num(t.lang, score, 1) })].filter(Boolean).join(' · ')];
  }

  /** A changed site: each field from → to, then the score change and the criteria behind it. */
  changeLines(e) {
    const t = this.ctx.getT();
    const out = fieldChanges(e).map((f) => `${t(`changes.field_${f.field}`)}: ${this.value(f.field, f.from)} → ${this.value(f.field, f.to)}`);
    const s = scoreChange(e, this.ctx.store.state.profile);
    if (s) {
      const fmt = (v) => num(t.lang, v, 1);
      const why = s.criteria.map((c) => `${this.criterionLabel(c.criterion)} ${signed(c.delta, fmt)}`).join(', ');
      out.push(t('changes.score_moved', { from: fmt(s.from), to: fmt(s.to), delta: signed(s.delta, fmt) })
        + (why ? ` (${why})` : ''));
    }
    return out;
  }

  criterionLabel(name) {
    const c = this.ctx.criteria.find((x) => x.name === name);
    const t = this.ctx.getT();
    return (t.lang === 'de' ? c?.label_de : c?.label_en) || name;
  }

  value(field, v) {
    const t = this.ctx.getT();
    if (v === null || v === undefined) return '–';
    if (field === 'area_ha') return unit(t.lang, v, 'hectare', 1);
    if (field === 'planning_category') return t.has(`planning.${v}`) ? t(`planning.${v}`) : String(v);
    if (field === 'availability') return t.has(`availability.${v}`) ? t(`availability.${v}`) : String(v);
    if (field === 'marketable') return t(v ? 'changes.yes' : 'changes.no');
    return String(v);
  }
}
