// What only signed-in staff see of a site (geo/access.py: owner contact, asking price, notes, and
// whether the site is public). The API sends these fields to staff only, so the page shows
// whatever of them an answer holds and nothing when they are absent (the public's answers).

import { num } from './i18n.js';

export const CONFIDENTIAL = ['owner_contact', 'asking_price_eur_m2', 'notes'];

/** True when an API answer (site score, OGC item properties) carries the staff fields. */
export const hasConfidential = (d) => !!d && (CONFIDENTIAL.some((k) => k in d) || d.public === false);

/** One field's text in the page's language. */
export function confidentialText(t, key, value) {
  if (value === null || value === undefined || value === '') return t('confidential.none');
  if (key === 'asking_price_eur_m2') return `${num(t.lang, value, 2)} €/m²`;
  return String(value);
}

/** The "confidential" box of the detail panel and the exposé, or null for the public. */
export function confidentialBlock(t, d) {
  if (!hasConfidential(d)) return null;
  const box = document.createElement('section');
  box.className = 'confidential';
  box.dataset.testid = 'confidential';
  const h = document.createElement('h3');
  h.textContent = t('confidential.title');
  box.append(h);
  if (d.public === false) {
    const badge = document.createElement('p');
    badge.className = 'badge not-public';
    badge.textContent = t('confidential.not_public');
    box.append(badge);
  }
  const dl = document.createElement('dl');
  for (const k of CONFIDENTIAL) {
    if (!(k in d)) continue;
    const dt = document.createElement('dt');
    dt.textContent = t(`confidential.${k}`);
    const dd = document.createElement('dd');
    dd.textContent = confidentialText(t, k, d[k]);
    dl.append(dt, dd);
  }
  box.append(dl);
  return box;
}
