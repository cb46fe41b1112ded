// Investor controls: panel tabs (roving tabindex, activate on Enter/Space), profile selector,
// weight presets and reset, one native range slider per criterion (value = the API weight
// w_<criterion>), the filters with a Kreis / municipality autocomplete, and the H2 year slider.
// Built from the API's lists (profiles, criteria, the filter registry of GET api/sites/table):
// no criterion and no filter is named here. A min/max filter is a text field read by
// filters.js parseNumber ('20,5' = 20.5 in every language; unreadable text is marked invalid
// with a message and leaves the filter as it was), an any_of filter with choices a checkbox
// group, one without choices a comma-separated text field — unless a picker in the markup
// takes it (data-picks="ags kreis": the place autocomplete).

import { unit, num, int, collator } from './i18n.js';
import { NOTHING, emptyFilters, fromTicked, isMonth, isShare, list, readValue, showValue } from './filters.js';

export const WEIGHT_MAX = 5;
const STEP = 0.1;

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
};

/** APG tabs, manual activation. */
export function tabs(root) {
  const list = root.querySelector('[role=tablist]');
  const all = [...list.querySelectorAll('[role=tab]')];
  const activate = (tab) => {
    for (const x of all) {
      const on = x === tab;
      x.setAttribute('aria-selected', String(on));
      x.tabIndex = on ? 0 : -1;
      document.getElementById(x.getAttribute('aria-controls')).hidden = !on;
    }
  };
  list.addEventListener('click', (e) => {
    const tab = e.target.closest('[role=tab]');
    if (tab) activate(tab);
  });
  list.addEventListener('keydown', (e) => {
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    let j = null;
    if (e.key === 'ArrowRight') j = (i + 1) % all.length;
    if (e.key === 'ArrowLeft') j = (i - 1 + all.length) % all.length;
    if (e.key === 'Home') j = 0;
    if (e.key === 'End') j = all.length - 1;
    if (j !== null) {
      e.preventDefault();
      all.forEach((x, k) => { x.tabIndex = k === j ? 0 : -1; });
      all[j].focus();
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      activate(all[i]);
    }
  });
}

export class Controls {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx; // {store, profiles, criteria, filters (the registry), prep, getT, profileOf(name), horizon}
    const { store } = ctx;
    this.profileSelect = root.querySelector('[data-control=profile]');
    this.sliderBox = root.querySelector('[data-sliders]');
    this.presetBox = root.querySelector('[data-presets]');
    this.year = document.querySelector('[data-control=h2-year]');
    this.yearOut = document.querySelector('[data-year-output]');
    this.placeInput = root.querySelector('#place-input');
    this.placeList = root.querySelector('#place-options');
    this.chips = root.querySelector('[data-place-chips]');
    this.summary = root.querySelector('[data-filter-summary]');
    this.places = this.placeIndex();
    this.buildSliders();
    this.profileSelect.addEventListener('change', () => {
      const p = ctx.profileOf(this.profileSelect.value);
      store.setProfile(p.name, this.weightsOf(p), ctx.horizon(p));
    });
    root.querySelector('[data-action=reset-weights]').addEventListener('click', () => {
      store.setWeights(this.weightsOf(ctx.profileOf(store.state.profile)));
    });
    this.presetBox.addEventListener('change', () => {
      const v = this.presetBox.value;
      if (v) store.setWeights(this.weightsOf(ctx.profileOf(v)));
      this.presetBox.value = '';
    });
    root.querySelector('[data-action=equal-weights]').addEventListener('click', () => {
      store.setWeights(Object.fromEntries(ctx.criteria.map((c) => [c.name, 1])));
    });
    this.sliderBox.addEventListener('input', (e) => {
      const s = e.target.closest('input[data-criterion]');
      if (s) store.setWeight(s.dataset.criterion, Number(s.value));
    });
    this.sliderBox.addEventListener('keydown', (e) => this.sliderKey(e));
    this.year.addEventListener('input', () => store.setYear(Number(this.year.value)));
    this.fieldBox = root.querySelector('[data-filter-fields]');
    this.picked = new Set((root.querySelector('[data-picks]')?.dataset.picks || '').split(/\s+/).filter(Boolean));
    this.buildFilters();
    this.fieldBox.addEventListener('input', (e) => this.readFilter(e.target));
    this.fieldBox.addEventListener('change', (e) => this.readFilter(e.target));
    root.querySelector('[data-action=reset-filters]').addEventListener('click', () => {
      for (const inp of this.fieldBox.querySelectorAll('[data-filter]')) this.markInvalid(inp, null);
      store.setFilters(emptyFilters(ctx.filters));
      this.syncFilters();
    });
    this.combobox();
    this.chips.addEventListener('click', (e) => {
      const b = e.target.closest('[data-chip]');
      if (!b) return;
      const [kind, key] = b.dataset.chip.split(':');
      const f = store.state.filters;
      store.setFilters({ [kind]: f[kind].filter((x) => x !== key) });
      this.placeInput.focus();
    });
    store.addEventListener('change', (ev) => {
      const k = ev.detail.keys;
      if (k.has('lang')) { this.buildSliders(); this.fillProfiles(); this.buildFilters(); }
      if (k.has('profile') || k.has('lang')) this.fillProfiles();
      if (k.has('weights') || k.has('profile') || k.has('lang')) this.syncSliders();
      if (k.has('year') || k.has('lang')) this.syncYear();
      if (k.has('filters') || k.has('lang') || k.has('profile')) this.syncFilters();
      if (k.has('ranking') || k.has('filters') || k.has('lang')) this.syncSummary();
    });
  }

  label(c) {
    return this.ctx.getT().lang === 'de' ? c.label_de || c.name : c.label_en || c.name;
  }

  /** A profile's weights for every criterion (0 where the profile names none). */
  weightsOf(p) {
    return Object.fromEntries(this.ctx.criteria.map((c) => [c.name, p.weights?.[c.name] ?? 0]));
  }

  fillProfiles() {
    const t = this.ctx.getT();
    const cur = this.ctx.store.state.profile;
    this.profileSelect.replaceChildren(...this.ctx.profiles.map((p) => {
      const o = el('option', null, t.lang === 'de' ? p.label_de || p.name : p.label_en || p.name);
      o.value = p.name;
      o.selected = p.name === cur;
      return o;
    }));
    const p = this.ctx.profileOf(cur);
    const key = `profile_desc.${p.name}`;
    this.root.querySelector('[data-profile-description]').textContent = t.has(key) ? t(key) : p.description || '';
    const none = el('option', null, t('weights.preset_choose'));
    none.value = '';
    this.presetBox.title = t('weights.preset_title');
    this.presetBox.replaceChildren(none, ...this.ctx.profiles.map((q) => {
      const o = el('option', null, t.lang === 'de' ? q.label_de || q.name : q.label_en || q.name);
      o.value = q.name;
      return o;
    }));
  }

  buildSliders() {
    const t = this.ctx.getT();
    const rows = this.ctx.criteria.map((c) => {
      const row = el('div', 'slider-row');
      const id = `w-${c.name}`;
      const lab = el('label', 'slider-label', this.label(c));
      lab.htmlFor = id;
      const key = `crit_desc.${c.name}`;
      lab.title = t.has(key) ? t(key) : c.description || '';
      const input = el('input');
      input.type = 'range';
      input.id = id;
      input.min = '0';
      input.max = String(WEIGHT_MAX);
      input.step = 'any';
      input.dataset.criterion = c.name;
      input.setAttribute('aria-describedby', `${id}-out`);
      const out = el('output', 'slider-out');
      out.id = `${id}-out`;
      out.htmlFor = id;
      row.append(lab, input, out);
      return row;
    });
    this.sliderBox.replaceChildren(...rows);
    this.syncSliders();
  }

  syncSliders() {
    const t = this.ctx.getT();
    const w = this.ctx.store.state.weights;
    const total = Object.values(w).reduce((a, b) => a + b, 0);
    for (const input of this.sliderBox.querySelectorAll('input[data-criterion]')) {
      const v = w[input.dataset.criterion] ?? 0;
      if (Number(input.value) !== v) input.value = String(v);
      const share = total > 0 ? v / total : 0;
      const text = t('weights.valuetext', { w: num(t.lang, v, 1), share: unit(t.lang, share, 'percent', 0) });
      input.setAttribute('aria-valuetext', text);
      input.style.setProperty('--fill', `${(100 * v) / WEIGHT_MAX}%`);
      const out = this.sliderBox.querySelector(`#${CSS.escape(input.id)}-out`);
      out.textContent = `${num(t.lang, v, 1)} · ${unit(t.lang, share, 'percent', 0)}`;
    }
  }

  /** Arrows ±0.1, PageUp/PageDown ±1, Home 0, End max (the slider has step="any"). */
  sliderKey(e) {
    const s = e.target.closest('input[data-criterion]');
    if (!s) return;
    const v = Number(s.value);
    const big = 1;
    const map = { ArrowRight: STEP, ArrowUp: STEP, ArrowLeft: -STEP, ArrowDown: -STEP, PageUp: big, PageDown: -big };
    let next = null;
    if (e.key in map) next = Math.round((v + map[e.key]) * 10) / 10;
    if (e.key === 'Home') next = 0;
    if (e.key === 'End') next = WEIGHT_MAX;
    if (next === null) return;
    e.preventDefault();
    next = Math.max(0, Math.min(WEIGHT_MAX, next));
    s.value = String(next);
    this.ctx.store.setWeight(s.dataset.criterion, next);
  }

  syncYear() {
    const y = this.ctx.store.state.year;
    if (Number(this.year.value) !== y) this.year.value = String(y);
    this.yearOut.textContent = String(y);
    this.year.setAttribute('aria-valuetext', this.ctx.getT()('timeline.valuetext', { year: y }));
  }

  /** The filter's label: an i18n override (filter_label.<name>) or the registry's de/en. */
  filterLabel(f) {
    const t = this.ctx.getT();
    const key = `filter_label.${f.name}`;
    if (t.has(key)) return t(key);
    return this.label(f) + (isShare(f) ? ' (%)' : '');
  }

  /** One field per registry filter not taken by a picker: numbers first, then the lists. */
  buildFilters() {
    const t = this.ctx.getT();
    const specs = (this.ctx.filters || []).filter((f) => !this.picked.has(f.name));
    const nums = specs.filter((f) => f.kind !== 'any_of').map((f) => {
      const row = el('label', 'field');
      const inp = el('input');
      inp.type = isMonth(f) ? 'month' : 'text'; // a month picker; its value is YYYY-MM
      if (!isMonth(f)) inp.inputMode = 'decimal';
      inp.autocomplete = 'off';
      inp.id = `filter-${f.name}`;
      inp.dataset.filter = f.name;
      const err = el('span', 'field-error',
        t(isMonth(f) ? 'filters.invalid_month' : isShare(f) ? 'filters.invalid_share' : 'filters.invalid_number'));
      err.id = `filter-${f.name}-error`;
      err.hidden = true;
      row.append(el('span', null, this.filterLabel(f)), inp, err);
      return row;
    });
    const lists = specs.filter((f) => f.kind === 'any_of').map((f) => {
      if (!f.choices) { // free keys, comma-separated
        const row = el('label', 'field');
        const inp = el('input');
        inp.type = 'text';
        inp.autocomplete = 'off';
        inp.dataset.filterList = f.name;
        inp.placeholder = t('filters.list_placeholder');
        row.append(el('span', null, this.filterLabel(f)), inp);
        return row;
      }
      const box = el('fieldset', 'field kinds');
      box.dataset.filterGroup = f.name;
      box.append(el('legend', null, this.filterLabel(f)));
      for (const code of f.choices) {
        const lab = el('label');
        const cb = el('input');
        cb.type = 'checkbox';
        cb.value = code;
        cb.dataset.filterChoice = f.name;
        const key = `${f.name}.${code}`;
        lab.append(cb, ' ', el('span', null, t.has(key) ? t(key) : code));
        box.append(lab);
      }
      return box;
    });
    this.fieldBox.replaceChildren(...nums, ...lists);
    this.syncFilters();
  }

  /** Mark a number field invalid with its message (error: an i18n key), or valid (null). */
  markInvalid(inp, error) {
    const err = this.fieldBox.querySelector(`#${CSS.escape(inp.id)}-error`);
    if (!err) return;
    if (error) {
      err.textContent = this.ctx.getT()(error);
      err.hidden = false;
      inp.setAttribute('aria-invalid', 'true');
      inp.setAttribute('aria-describedby', err.id);
    } else {
      err.hidden = true;
      inp.removeAttribute('aria-invalid');
      inp.removeAttribute('aria-describedby');
    }
  }

  readFilter(inp) {
    const { store, filters } = this.ctx;
    const f = filters.find((x) => x.name === (inp.dataset.filter || inp.dataset.filterChoice || inp.dataset.filterList));
    if (!f) return;
    let v;
    if (inp.dataset.filter) {
      const r = readValue(f, inp.value);
      this.markInvalid(inp, r.error || null);
      if (r.error) return; // visibly invalid; the filter stays as it was
      v = r.value;
    } else if (inp.dataset.filterChoice) {
      const boxes = [...this.fieldBox.querySelectorAll('[data-filter-choice]')].filter((x) => x.dataset.filterChoice === f.name);
      v = fromTicked(f, boxes.filter((x) => x.checked).map((x) => x.value));
    } else {
      v = [...new Set(list(inp.value))];
    }
    if (JSON.stringify(store.state.filters[f.name]) !== JSON.stringify(v)) store.setFilters({ [f.name]: v });
  }

  syncFilters() {
    const t = this.ctx.getT();
    const f = this.ctx.store.state.filters;
    const p = this.ctx.profileOf(this.ctx.store.state.profile);
    for (const spec of this.ctx.filters || []) {
      const v = f[spec.name];
      const inp = this.fieldBox.querySelector(`[data-filter="${spec.name}"], [data-filter-list="${spec.name}"]`);
      if (inp && document.activeElement !== inp && inp.getAttribute('aria-invalid') !== 'true') {
        inp.value = inp.dataset.filter ? showValue(spec, v, t.lang) : (v || []).join(', ');
      }
      if (inp?.dataset.filter) {
        const d = spec.profile_default ? p.parameters?.[spec.profile_default] : null;
        inp.placeholder = d != null ? t('filters.profile_default_value', { v: num(t.lang, d, 0) }) : t('filters.any');
      }
      for (const cb of this.fieldBox.querySelectorAll(`[data-filter-choice="${spec.name}"]`)) {
        cb.checked = !v?.length || (v.includes(cb.value) && !v.includes(NOTHING));
      }
    }
    const chips = [...(f.kreis || []).map((k) => ['kreis', k]), ...(f.ags || []).map((k) => ['ags', k])].map(([kind, key]) => {
      const place = this.places.find((x) => x.kind === kind && x.key === key);
      const li = el('li');
      const b = el('button', 'chip');
      b.type = 'button';
      b.dataset.chip = `${kind}:${key}`;
      const label = place ? place.name : key;
      b.append(el('span', null, label), el('span', 'chip-x', '×'));
      b.setAttribute('aria-label', t('filters.remove_place', { name: label }));
      li.append(b);
      return li;
    });
    this.chips.replaceChildren(...chips);
  }

  syncSummary() {
    const t = this.ctx.getT();
    const r = this.ctx.store.state.ranking;
    if (!r) return;
    const spec = (k) => (this.ctx.filters || []).find((f) => f.name === k);
    const why = (k) => (t.has(`excluded.${k}`) || !spec(k) ? t(`excluded.${k}`) : this.filterLabel(spec(k)));
    const parts = Object.entries(r.excluded).map(([k, v]) => `${why(k)}: ${int(t.lang, v)}`);
    this.summary.textContent = parts.length ? t('filters.excluded', { list: parts.join(' · ') }) : t('filters.none_excluded');
  }

  /** Municipalities and Kreise from the site table (only places that have sites). */
  placeIndex() {
    const c = this.ctx.prep.columns;
    const seen = new Map();
    for (let i = 0; i < this.ctx.prep.n; i++) {
      const a = c.ags[i];
      if (a && !seen.has(`ags:${a}`)) seen.set(`ags:${a}`, { kind: 'ags', key: a, name: c.municipality[i] || a, parent: c.kreis[i] });
      const k = c.kreis_ags[i];
      if (k && !seen.has(`kreis:${k}`)) seen.set(`kreis:${k}`, { kind: 'kreis', key: k, name: c.kreis[i] || k });
    }
    return [...seen.values()];
  }

  combobox() {
    const { store } = this.ctx;
    const input = this.placeInput;
    const list = this.placeList;
    let items = [];
    let active = -1;
    const close = () => {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      active = -1;
    };
    const show = () => {
      const t = this.ctx.getT();
      const q = input.value.trim().toLocaleLowerCase(t.locale);
      if (!q) { close(); return; }
      const coll = collator(t.lang);
      items = this.places.filter((p) => p.name.toLocaleLowerCase(t.locale).includes(q))
        .sort((a, b) => (a.name.toLocaleLowerCase(t.locale).startsWith(q) ? 0 : 1) - (b.name.toLocaleLowerCase(t.locale).startsWith(q) ? 0 : 1)
          || coll.compare(a.name, b.name) || (a.kind < b.kind ? 1 : -1))
        .slice(0, 12);
      list.replaceChildren(...items.map((p, i) => {
        const li = el('li', 'combo-option');
        li.id = `place-opt-${i}`;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        li.dataset.index = String(i);
        li.append(el('span', null, p.name), el('span', 'combo-kind',
          p.kind === 'kreis' ? t('filters.kreis') : t('filters.municipality_in', { kreis: p.parent || '' })));
        return li;
      }));
      if (!items.length) list.append(el('li', 'combo-none', t('filters.no_place')));
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
      active = -1;
    };
    const choose = (i) => {
      const p = items[i];
      if (!p) return;
      const f = store.state.filters;
      if (!f[p.kind].includes(p.key)) store.setFilters({ [p.kind]: [...f[p.kind], p.key] });
      input.value = '';
      close();
    };
    const mark = (i) => {
      active = i;
      [...list.children].forEach((li, k) => li.setAttribute('aria-selected', String(k === i)));
      if (i >= 0 && list.children[i]) {
        input.setAttribute('aria-activedescendant', list.children[i].id);
        list.children[i].scrollIntoView({ block: 'nearest' });
      }
    };
    input.addEventListener('input', show);
    input.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') { e.preventDefault(); if (list.hidden) show(); mark(Math.min(items.length - 1, active + 1)); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); mark(Math.max(0, active - 1)); }
      else if (e.key === 'Enter') { if (!list.hidden && items.length) { e.preventDefault(); choose(active >= 0 ? active : 0); } }
      else if (e.key === 'Escape') { if (!list.hidden) { e.preventDefault(); e.stopPropagation(); close(); } }
    });
    // Closed a moment after the focus leaves (a click on an option lands first), but not when the
    // focus came back meanwhile: typing right after a click elsewhere kept a closed list.
    input.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== input) close(); }, 150));
    list.addEventListener('mousedown', (e) => {
      const li = e.target.closest('[data-index]');
      if (li) { e.preventDefault(); choose(Number(li.dataset.index)); }
    });
  }

  /** First fill (after the store has its initial state). */
  init() {
    this.fillProfiles();
    this.syncSliders();
    this.syncYear();
    this.syncFilters();
  }
}
