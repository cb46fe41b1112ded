// The "Flächenbilanz" view's data (GET api/statistics/reserves): the figures one can map, the
// classes of the choropleth (quantiles of the non-zero values), their colours and legend rows,
// the number format by figure kind, the download links and the bars of a unit's charts.
// Pure: no DOM, no map; tested with node --test.

import { num, unit, int } from './i18n.js';

/** The levels the map can fill: the tile layer and its key property (the feature-state id). */
export const LEVELS = {
  municipality: { sourceLayer: 'municipalities', fill: 'reserves-muni-fill', line: 'reserves-muni-line' },
  kreis: { sourceLayer: 'kreise', fill: 'reserves-kreis-fill', line: 'reserves-kreis-line' },
};
export const RESERVE_LAYERS = Object.values(LEVELS).flatMap((l) => [l.fill, l.line]);

/** The figures offered in the panel (names of the API's `figures`), the first the default. */
export const MAP_FIGURES = ['reserve_ha', 'marketable_ha', 'available_now_ha', 'brownfield_share',
  'takeup_ha_per_year', 'takeup_ha', 'sites_ge_10ha', 'sites_ge_50ha', 'sites'];

/** A sequential ramp readable with every colour vision (YlGnBu, ColorBrewer), light = low. */
export const RAMP = ['#ffffcc', '#a1dab4', '#41b6c4', '#2c7fb8', '#253494'];
export const ZERO_COLOR = '#ececec';
export const NULL_COLOR = '#b8b8b8';
/** Feature-state class of a zero and of a missing value. */
export const ZERO = -1;
export const NONE = -2;

/**
 * The reserve by planning category (API figure → colour; reserves.js passes the map's planning
 * colours, layers.js PLAN_COLORS: layers.js imports this module) and the availability buckets.
 */
export const categoryParts = (plan, brownfield, lep) => [
  ['reserve_ha_gib', plan.GIB], ['reserve_ha_gib_z', plan.GIB_Z], ['reserve_ha_large_project', plan.LARGE_PROJECT],
  ['reserve_ha_asb_ge', plan.ASB_GE], ['reserve_ha_lep', lep], ['reserve_ha_brownfield', brownfield],
  ['reserve_ha_uncategorised', '#999999'],
];
export const AVAILABILITY_PARTS = [
  ['available_now_ha', '#1a9850'], ['available_1y_ha', '#91cf60'], ['available_later_ha', '#fdae61'],
  ['available_unknown_ha', '#bdbdbd'],
];

const missing = (v) => v === null || v === undefined || Number.isNaN(v);

/**
 * Up to `k` quantile classes of the positive values (zeros and missing values have their own):
 * [{lo, hi}] ascending, each bound a value that occurs; classes that would repeat a bound are
 * merged, so fewer come back when few values differ. Class i holds lo_i ≤ v ≤ hi_i.
 */
export function classBreaks(values, k = 5) {
  const v = values.filter((x) => !missing(x) && x > 0).sort((a, b) => a - b);
  if (!v.length) return [];
  const his = [];
  for (let i = 1; i <= k; i++) {
    const hi = v[Math.ceil((i * v.length) / k) - 1];
    if (!his.length || hi > his[his.length - 1]) his.push(hi);
  }
  return his.map((hi, i) => ({ lo: i === 0 ? v[0] : v.find((x) => x > his[i - 1]), hi }));
}

/** The class of a value: its index in `classes`, ZERO for 0 (or below), NONE when missing. */
export function classOf(value, classes) {
  if (missing(value)) return NONE;
  if (value <= 0) return ZERO;
  const i = classes.findIndex((c) => value <= c.hi);
  return i >= 0 ? i : classes.length - 1;
}

/** The class colours: spread over the ramp when there are fewer than five classes. */
export function classColors(n) {
  if (n <= 0) return [];
  if (n === 1) return [RAMP[2]];
  return Array.from({ length: n }, (_, i) => RAMP[Math.round((i * (RAMP.length - 1)) / (n - 1))]);
}

/** The fill colour by feature-state class `rc` (transparent where no value was set). */
export function fillColor(n) {
  const m = ['match', ['coalesce', ['feature-state', 'rc'], -9], ZERO, ZERO_COLOR, NONE, NULL_COLOR];
  classColors(n).forEach((c, i) => m.push(i, c));
  m.push('rgba(0,0,0,0)');
  return m;
}

/** The style's (initially hidden) choropleth layers: a fill and the chosen unit's outline per level. */
export function reserveLayers() {
  const levels = Object.values(LEVELS);
  return [
    ...levels.map((l) => ({ id: l.fill, type: 'fill', source: 'nrw', 'source-layer': l.sourceLayer,
      layout: { visibility: 'none' }, paint: { 'fill-color': fillColor(5), 'fill-opacity': 0.78 } })),
    ...levels.map((l) => ({ id: l.line, type: 'line', source: 'nrw', 'source-layer': l.sourceLayer,
      layout: { visibility: 'none' },
      paint: { 'line-color': '#111111', 'line-width': ['case', ['boolean', ['feature-state', 'rsel'], false], 3, 0] } })),
  ];
}

/** A figure's value as text in the page's language, by the API's `kind` (ha, share, count, ha_per_year). */
export function formatFigure(lang, kind, v) {
  if (missing(v)) return '–';
  if (kind === 'share') return unit(lang, v, 'percent', 0);
  if (kind === 'count') return int(lang, v);
  if (kind === 'ha_per_year') return `${num(lang, v, 1)}\u00a0ha/a`;
  return unit(lang, v, 'hectare', 1);
}

/** The legend's rows, [{color, from, to}] (texts), then zero and missing as {color, key}. */
export function legendRows(lang, kind, classes) {
  const colors = classColors(classes.length);
  const rows = classes.map((c, i) => ({ color: colors[i], from: formatFigure(lang, kind, c.lo), to: formatFigure(lang, kind, c.hi) }));
  rows.push({ color: ZERO_COLOR, key: 'reserves.legend_zero' }, { color: NULL_COLOR, key: 'reserves.legend_none' });
  return rows;
}

/** The CSV and XLSX links of one level in a language (relative to the page). */
export function downloadLinks(level, lang) {
  const q = new URLSearchParams({ level, lang });
  return { csv: `api/statistics/reserves.csv?${q}`, xlsx: `api/statistics/reserves.xlsx?${q}` };
}

/** Bars [{figure, value, color, share}] of `parts` for one unit; share is of the largest bar. */
export function bars(u, parts) {
  const rows = parts.map(([figure, color]) => ({ figure, color, value: u?.[figure] ?? null }));
  const max = Math.max(0, ...rows.map((r) => r.value ?? 0));
  return rows.map((r) => ({ ...r, share: max > 0 && r.value ? r.value / max : 0 }));
}

/** Take-up per snapshot for one unit, oldest first: [{snapshot, date, value}] where the API gave one. */
export function takeupSeries(docs, key) {
  const out = [];
  for (const d of docs) {
    const u = d?.units?.find((x) => x.key === key);
    if (u && !missing(u.takeup_ha)) out.push({ snapshot: d.snapshot, date: d.created, value: u.takeup_ha, perYear: u.takeup_ha_per_year });
  }
  return out.sort((a, b) => String(a.date).localeCompare(String(b.date)));
}
