// Staff sign-in (api/routes_session.py): the key is typed once into a password field and posted
// in a request body; the server answers with an HttpOnly session cookie the page cannot read and
// a CSRF token the page keeps in memory only (api.setCsrf). Signing in or out reloads the page, so
// that every cached answer (table, values, tiles' neighbours) is fetched again in the new role.

import * as api from './api.js';

/** The session state from GET api/session ({signed_in, role, name, csrf, expires}). */
export async function current() {
  try {
    const s = await api.json('api/session');
    api.setCsrf(s.signed_in ? s.csrf : null);
    return s;
  } catch {
    return { signed_in: false, role: 'public' };
  }
}

export class SessionUI {
  /**
   * @param {HTMLButtonElement} button header button (sign in / sign out)
   * @param {HTMLDialogElement} dialog the sign-in form
   * @param {{session: object, getT: Function, store: EventTarget, beforeSignOut?: Function,
   *   reload?: Function}} ctx  beforeSignOut takes non-public sites out of the page's state
   */
  constructor(button, dialog, ctx) {
    this.button = button;
    this.dialog = dialog;
    this.ctx = ctx;
    this.form = dialog.querySelector('form');
    this.input = dialog.querySelector('input[name=key]');
    this.error = dialog.querySelector('[data-signin-error]');
    this.reload = ctx.reload || (() => location.reload());
    button.addEventListener('click', () => (ctx.session.signed_in ? this.signOut() : this.open()));
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.signIn(); });
    dialog.addEventListener('close', () => { this.input.value = ''; });
    ctx.store.addEventListener('change', (ev) => { if (ev.detail.keys.has('lang')) this.render(); });
    document.body.classList.toggle('is-staff', !!ctx.session.signed_in);
    this.render();
  }

  render() {
    const t = this.ctx.getT();
    const s = this.ctx.session;
    const label = this.button.querySelector('[data-signin-label]');
    label.textContent = s.signed_in ? t('session.sign_out') : t('session.sign_in');
    this.button.title = s.signed_in ? t('session.signed_in_as', { name: s.name, role: t(`session.role_${s.role}`) }) : '';
    const who = document.querySelector('[data-session-who]');
    if (who) {
      who.hidden = !s.signed_in;
      who.textContent = s.signed_in ? t('session.badge', { name: s.name }) : '';
    }
  }

  open() {
    this.error.hidden = true;
    this.dialog.showModal();
    this.input.focus();
  }

  async signIn() {
    const t = this.ctx.getT();
    const key = this.input.value.trim();
    this.input.value = ''; // the key leaves the page's memory with this request
    if (!key) return;
    try {
      await api.json('api/session', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ key }),
      });
      this.dialog.close();
      this.reload();
    } catch (e) {
      this.error.textContent = e.status === 401 ? t('session.invalid') : `${t('session.failed')} ${e.detail || e.message}`;
      this.error.hidden = false;
      this.input.focus();
    }
  }

  async signOut() {
    this.ctx.beforeSignOut?.();
    try {
      await fetch('api/session', { method: 'DELETE', headers: api.csrfHeaders() });
    } finally {
      api.setCsrf(null);
      this.reload();
    }
  }
}
