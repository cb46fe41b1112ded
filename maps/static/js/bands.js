// The score classes ("bands"): breaks, colours and labels as GET api/ui/config serves them
// (`bands`, from maps/bands.py, which the report maps and the QGIS styles read too). The browser
// holds no breaks or colours of its own: app.js and expose.js build the vocabulary once from the
// config and hand it to the map, the legends and the lists. Pure: no DOM.

import { band } from './scoring.js';

/**
 * The vocabulary from the config's `bands` = {breaks, colors, no_score, labels: {de, en},
 * no_score_label: {de, en}}. Class k holds breaks[k-1] ≤ score < breaks[k]; class 0 lies below
 * the first break; a score of NaN, null or undefined has none (-1).
 */
export function scoreBands(spec) {
  if (!spec || !Array.isArray(spec.breaks) || !Array.isArray(spec.colors)
    || spec.colors.length !== spec.breaks.length + 1) {
    throw new Error('api/ui/config: no valid score bands');
  }
  const breaks = Object.freeze(spec.breaks.map(Number));
  const colors = Object.freeze([...spec.colors]);
  const of = (score) => band(score ?? NaN, breaks);
  return Object.freeze({
    breaks,
    colors,
    noScore: spec.no_score,
    /** The class of a score (0 … breaks.length), -1 without one. */
    of,
    /** The colour of a score (`noScore` without one). */
    colorOf(score) {
      const b = of(score);
      return b < 0 ? spec.no_score : colors[b];
    },
    /** [from, to) of class k, on the 0–100 scale. */
    range: (k) => [k === 0 ? 0 : breaks[k - 1], k < breaks.length ? breaks[k] : 100],
    /** The legend label of class k (-1: no score) in `lang` (German when the language is unknown). */
    label(k, lang) {
      if (k < 0) return spec.no_score_label?.[lang] ?? spec.no_score_label?.de ?? '';
      return (spec.labels?.[lang] ?? spec.labels?.de ?? [])[k] ?? '';
    },
  });
}
