// A stored site's surroundings in the detail panel (GET api/sites/{id}/context): a warning when
// the site lies in a Natura 2000 area or a floodplain, naming the areas; the three nearest
// industrial installations with sector and excess heat; the nearest substation with its voltage.
// Text is always inserted as text.

import { unit } from './i18n.js';
import { formatUnit } from './units.js';

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
};

const FLOOD_STATUS = { festgesetzt: 'fixed', 'vorläufig gesichert': 'provisional', ermittelt: 'identified' };

/** The i18n key slug of a Hotmaps sector ("Iron and steel" → iron_and_steel). */
export const sectorSlug = (s) => String(s).toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');

function sector(t, s) {
  if (!s) return null;
  const key = `sector.${sectorSlug(s)}`;
  return t.has(key) ? t(key) : s;
}

/** The Attribution of a context block as detail.js's sourceDetails reads a source. */
export const asSource = (src) => src && { layer: src.layer, title: src.source, resolution: null, date: src.date,
  licence: src.licence, licence_url: src.licence_url, attribution: src.attribution };

/** The warning box: one line per overlapped area, largest overlap first; null when none. */
export function constraintWarning(t, ctx, sourceDetails) {
  const natura = ctx?.protected_areas?.areas || [];
  const flood = ctx?.floodplains?.areas || [];
  if (!natura.length && !flood.length) return null;
  const box = el('div', 'constraint-warn');
  box.dataset.testid = 'constraint-warning';
  box.setAttribute('role', 'note');
  box.append(el('p', 'constraint-title', `⚠ ${t('context.warn_title')}`));
  const list = el('ul', 'constraint-list');
  const share = (a) => unit(t.lang, a.share, 'percent', 0);
  for (const a of flood) {
    const li = el('li', null, t('context.flood', { share: share(a), name: a.name }));
    const st = a.statuses.map((s) => (FLOOD_STATUS[s] ? t(`flood_status.${FLOOD_STATUS[s]}`) : s));
    if (st.length) li.append(el('span', 'constraint-meta', ` — ${st.join(', ')}`));
    list.append(li);
  }
  for (const a of natura) {
    const li = el('li', null, t('context.natura', { share: share(a), name: a.name }));
    const types = a.site_types.map((s) => (t.has(`natura.${s}`) ? t(`natura.${s}`) : s));
    const meta = [...types, ...a.codes].join(', ');
    if (meta) li.append(el('span', 'constraint-meta', ` — ${meta}`));
    list.append(li);
  }
  box.append(list);
  for (const block of [ctx.floodplains, ctx.protected_areas]) {
    if (block?.areas?.length && block.source) box.append(sourceDetails(t, asSource(block.source)));
  }
  return box;
}

/** The nearest installations as a list: name, sector, excess heat (0: no estimate), distance. */
export function installationList(t, block) {
  const rows = block?.installations || [];
  if (!rows.length) return null;
  const wrap = el('div', 'context-block');
  wrap.dataset.testid = 'installations';
  wrap.append(el('span', 'context-title', t('context.installations')));
  const ol = el('ol', 'installations');
  for (const r of rows) {
    const li = el('li');
    li.append(el('span', 'inst-name', r.name || t('context.unnamed')));
    const heat = r.excess_heat_gwh ? formatUnit(t, 'GWh/a', r.excess_heat_gwh) : t('context.no_estimate');
    const facts = [sector(t, r.sector), heat, formatUnit(t, 'km', r.distance_km)].filter(Boolean);
    li.append(el('span', 'inst-facts', ` · ${facts.join(' · ')}`));
    ol.append(li);
  }
  wrap.append(ol);
  return wrap;
}

/** The nearest substation by name (and operator); its voltage and distance are the grid row's
 * indicators. */
export function substationLine(t, sub) {
  if (!sub) return null;
  const wrap = el('div', 'context-block');
  wrap.dataset.testid = 'substation';
  const facts = [sub.name || t('context.unnamed'), sub.operator].filter(Boolean);
  wrap.append(el('span', 'context-title', t('context.substation')), el('span', null, facts.join(' · ')));
  return wrap;
}

// which context block goes with the criterion reading which layer
export const BLOCK_OF_LAYER = { industrial_heat: 'industrial_heat', substations: 'substation' };

/** The context block for a criterion's detail row (by its layer), or null. */
export function contextFor(t, criterion, ctx) {
  const key = BLOCK_OF_LAYER[criterion.layer];
  if (!key || !ctx) return null;
  return key === 'industrial_heat' ? installationList(t, ctx.industrial_heat) : substationLine(t, ctx.substation);
}


