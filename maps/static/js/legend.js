// Layer toggles with their legends and attributions (the "Layers" tab), the list of sources,
// and the small score legend on the map. Reads the groups from layers.groups() and the score
// classes from `bands` (bands.js, served by api/ui/config); writes only store.setLayer(); the map
// follows the store.

import { unit, sourceText } from './i18n.js';

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
};

function swatch(s) {
  const sp = el('span', `sw sw-${s.kind}${s.size ? ` sw-${s.size}` : ''}`);
  sp.style.setProperty('--c', s.color);
  if (s.stroke) sp.style.setProperty('--s', s.stroke);
  sp.setAttribute('aria-hidden', 'true');
  return sp;
}

export class Legend {
  constructor({ list, sources, floating, store, groups, bands, attribution, getT }) {
    Object.assign(this, { list, sources, floating, store, groups, bands, attribution, getT });
    list.addEventListener('change', (e) => {
      const cb = e.target.closest('input[data-layer]');
      if (cb) store.setLayer(cb.dataset.layer, cb.checked);
    });
    store.addEventListener('change', (ev) => {
      if (ev.detail.keys.has('lang')) this.render();
      if (ev.detail.keys.has('layers')) this.syncChecks();
    });
    this.render();
  }

  attributionOf(g) {
    const parts = [];
    for (const layer of g.attribution) {
      const a = this.attribution.find((x) => x.layer === layer);
      if (a?.attribution) parts.push(a.attribution);
    }
    if (g.text) parts.push(g.text);
    if (g.textKey) parts.push(this.getT()(g.textKey));
    return [...new Set(parts)].map((x) => sourceText(this.getT(), x)).join('; ');
  }

  render() {
    const t = this.getT();
    const vis = this.store.state.layers;
    this.list.replaceChildren(...this.groups.map((g) => {
      const li = el('li', 'layer');
      const id = `layer-${g.id}`;
      const head = el('div', 'layer-head');
      const cb = el('input');
      cb.type = 'checkbox';
      cb.id = id;
      cb.dataset.layer = g.id;
      cb.checked = vis[g.id] ?? g.on;
      const lab = el('label', null, t.has(g.key) ? t(g.key) : g.title || g.id);
      lab.htmlFor = id;
      head.append(cb, lab);
      li.append(head);
      if (g.legend.length) {
        const ul = el('ul', 'legend');
        for (const row of g.legend) {
          const r = el('li');
          if (row.ramp) {
            const bar = el('span', 'sw-ramp');
            bar.style.background = `linear-gradient(to right, ${row.ramp.join(', ')})`;
            bar.setAttribute('aria-hidden', 'true');
            r.append(el('span', null, unit(t.lang, row.from, 'percent', 0)), bar, el('span', null, unit(t.lang, row.to, 'percent', 0)));
          } else {
            if (row.swatch) r.append(swatch(row.swatch));
            const text = row.label ? row.label(t.lang)
              : row.text ?? (t.has(row.key) || !row.fallback ? t(row.key, row.params) : row.fallback);
            r.append(el('span', row.swatch ? null : 'hint', text));
          }
          ul.append(r);
        }
        li.append(ul);
      }
      const a = this.attributionOf(g);
      if (a) li.append(el('p', 'attr', `© ${a}`));
      return li;
    }));
    const seen = new Set();
    this.sources.replaceChildren(...this.attribution.filter((a) => {
      const k = `${a.attribution}|${a.licence}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    }).map((a) => {
      const li = el('li');
      li.append(el('strong', null, t.has(`source_layer.${a.layer}`) ? t(`source_layer.${a.layer}`) : a.layer), ': ',
        sourceText(t, a.attribution), a.licence ? ` (${sourceText(t, a.licence)})` : '', a.date ? ` · ${t('detail.as_of', { date: a.date })}` : '');
      if (a.synthetic) li.append(' ', el('span', 'badge warn', t('synthetic.label')));
      return li;
    }), (() => {
      const li = el('li');
      li.append(el('strong', null, t('layer.neighbours')), ': ', t('source.natural_earth'));
      return li;
    })());
    this.renderFloating(t);
  }

  renderFloating(t) {
    const { colors } = this.bands;
    const rows = colors.map((c, i) => {
      const [from, to] = this.bands.range(i);
      return [c, i === 0 ? `< ${to}` : i === colors.length - 1 ? `≥ ${from}` : `${from}–${to}`];
    }).reverse();
    const box = [el('p', 'legend-title', t('legend.score_title'))];
    const ul = el('ul', 'legend-ramp');
    for (const [c, text] of rows) {
      const li = el('li');
      li.append(swatch({ kind: 'dot', color: c }), el('span', null, text));
      ul.append(li);
    }
    const li = el('li');
    li.append(swatch({ kind: 'dot', color: this.bands.noScore }), el('span', null, t('legend.excluded_short')));
    ul.append(li);
    box.push(ul);
    this.floating.replaceChildren(...box);
  }

  syncChecks() {
    const vis = this.store.state.layers;
    for (const g of this.groups) {
      const cb = this.list.querySelector(`#layer-${CSS.escape(g.id)}`);
      if (cb) cb.checked = vis[g.id] ?? g.on;
    }
  }
}
