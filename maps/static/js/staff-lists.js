// Shared shortlists of staff (api/routes_shortlists.py), inside the shortlist dialog: choose or
// create a named list, add the sites of this browser's shortlist to it, write a note per site
// (saved when the field is left), take sites off. Shown only to signed-in staff; the public keeps
// the browser's own shortlist (shortlist.js).

import * as api from './api.js';

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
const base = 'api/shortlists';
const path = (id, site) => `${base}/${encodeURIComponent(id)}${site ? `/sites/${encodeURIComponent(site)}` : ''}`;

export class SharedLists {
  /** @param {HTMLElement} root the [data-shared-lists] section; ctx {store, prep, getT, toast, exposeUrl} */
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.select = root.querySelector('[data-shared-select]');
    this.items = root.querySelector('[data-shared-items]');
    this.empty = root.querySelector('[data-shared-empty]');
    this.lists = [];
    this.current = null;
    root.hidden = false;
    this.select.addEventListener('change', () => this.open(this.select.value));
    root.addEventListener('click', (e) => this.onClick(e));
    root.addEventListener('change', (e) => {
      const note = e.target.closest('textarea[data-note]');
      if (note) this.saveNote(note);
    });
    ctx.store.addEventListener('change', (ev) => { if (ev.detail.keys.has('lang')) this.render(); });
  }

  async refresh(keep = this.current?.id) {
    try {
      this.lists = (await api.json(base)).shortlists;
      const id = this.lists.some((l) => l.id === keep) ? keep : this.lists[0]?.id;
      if (id) await this.open(id);
      else { this.current = null; this.render(); }
    } catch (e) {
      this.ctx.toast(e.detail || e.message);
    }
  }

  async open(id) {
    try {
      this.current = await api.json(path(id));
    } catch (e) {
      this.ctx.toast(e.detail || e.message);
    }
    this.render();
  }

  async change(promise) {
    try {
      const list = await promise;
      if (list) this.current = list;
      await this.refresh(this.current?.id);
    } catch (e) {
      this.ctx.toast(e.status === 409 ? this.ctx.getT()('shared.conflict') : e.detail || e.message);
      await this.refresh();
    }
  }

  onClick(e) {
    const b = e.target.closest('[data-shared-action]');
    if (!b) return;
    const t = this.ctx.getT();
    const id = this.current?.id;
    const a = b.dataset.sharedAction;
    const send = (url, method, body) => api.json(url, {
      method, headers: { 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined,
    });
    if (a === 'new') {
      const name = prompt(t('shared.name_prompt'));
      if (name?.trim()) this.change(send(base, 'POST', { name }));
    } else if (a === 'add-local' && id) {
      const ids = this.ctx.store.state.shortlist.filter((s) => !this.current.sites.some((x) => x.site_id === s));
      this.change(ids.reduce((p, s) => p.then(() => send(path(id, s), 'PUT', {})), Promise.resolve(null)));
    } else if (a === 'remove' && id) {
      this.change(send(path(id, b.dataset.site), 'DELETE'));
    } else if (a === 'show') {
      this.ctx.store.select(b.dataset.site);
      this.root.closest('dialog')?.close();
    } else if (a === 'delete' && id && confirm(t('shared.delete_confirm', { name: this.current.name }))) {
      this.current = null;
      this.change(api.json(`${path(id)}?version=${b.dataset.version}`, { method: 'DELETE' }));
    }
  }

  async saveNote(field) {
    const t = this.ctx.getT();
    const status = field.parentElement.querySelector('[data-note-status]');
    try {
      await api.json(path(this.current.id, field.dataset.note), {
        method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ note: field.value }),
      });
      status.textContent = t('shared.saved');
    } catch (e) {
      status.textContent = `${t('shared.not_saved')} ${e.detail || e.message}`;
    }
  }

  render() {
    const t = this.ctx.getT();
    const { prep } = this.ctx;
    this.select.replaceChildren(...this.lists.map((l) => {
      const o = el('option', null, `${l.name} (${l.count})`);
      o.value = l.id;
      o.selected = l.id === this.current?.id;
      return o;
    }));
    this.select.disabled = !this.lists.length;
    this.root.querySelectorAll('[data-shared-action=add-local],[data-shared-action=delete]').forEach((b) => {
      b.disabled = !this.current;
      if (this.current) b.dataset.version = String(this.current.version);
    });
    const ex = this.root.querySelector('[data-shared-expose]');
    const present = (this.current?.sites || []).filter((x) => prep.rowOf.has(x.site_id)).map((x) => x.site_id);
    ex.hidden = !present.length;
    if (present.length) ex.href = `${this.ctx.exposeUrl(present, this.current.name)}&list=${this.current.id}`;
    const sites = this.current?.sites || [];
    this.empty.hidden = sites.length > 0;
    this.empty.textContent = t(this.current ? 'shared.empty' : 'shared.none');
    this.items.replaceChildren(...sites.map((s, i) => {
      const row = prep.rowOf.get(s.site_id);
      const name = row === undefined ? s.site_id : prep.columns.name[row] || s.site_id;
      const li = el('li', 'shared-item');
      const head = el('div', 'shared-head');
      const show = el('button', 'linklike', name);
      show.type = 'button';
      Object.assign(show.dataset, { sharedAction: 'show', site: s.site_id });
      show.disabled = row === undefined;
      const sub = el('span', 'cmp-sub', row === undefined ? t('shared.gone')
        : `${prep.columns.municipality[row] ?? ''} · ${t('shared.added_by', { name: s.added_by })}`);
      const rm = el('button', 'btn small', t('compare.remove'));
      rm.type = 'button';
      Object.assign(rm.dataset, { sharedAction: 'remove', site: s.site_id });
      rm.setAttribute('aria-label', t('compare.remove_named', { name }));
      head.append(show, sub, rm);
      const note = el('textarea', 'shared-note');
      note.value = s.note;
      note.rows = 2;
      note.maxLength = 4000;
      note.dataset.note = s.site_id;
      note.id = `shared-note-${i}`;
      const label = el('label', 'sr-only', t('shared.note_for', { name }));
      label.htmlFor = note.id;
      note.placeholder = t('shared.note_placeholder');
      li.append(head, label, note, el('span', 'hint', ''));
      li.lastChild.dataset.noteStatus = '';
      li.lastChild.setAttribute('aria-live', 'polite');
      return li;
    }));
  }
}
