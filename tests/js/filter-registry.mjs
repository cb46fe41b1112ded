// The filter registry as GET api/sites/table serves it (geo/filters.py docs()), for the pure
// tests of filters.js and permalink.js. Not a test file itself (no .test. in the name).
const f = (name, kind, column, extra = {}) => ({ name, kind, column, at_horizon: false, label_de: name, label_en: name,
  description: '', choices: null, upper: null, always_passes: null, profile_default: null, ...extra });

export const SPECS = [
  f('min_area_ha', 'min', 'area_ha', { profile_default: 'min_area_ha' }),
  f('max_area_ha', 'max', 'area_ha'),
  f('max_h2_km', 'max', 'h2_distance_km', { at_horizon: true }),
  f('kind', 'any_of', 'kind', { choices: ['regional_plan', 'brownfield', 'lep'] }),
  f('ags', 'any_of', 'ags'),
  f('kreis', 'any_of', 'kreis_ags'),
  f('min_fibre', 'min', 'fibre_share', { upper: 1 }),
  f('min_5g', 'min', 'mobile_5g_share', { upper: 1 }),
  f('contamination', 'any_of', 'contamination', { choices: ['none', 'suspected', 'confirmed', 'remediated', 'unknown'],
    always_passes: 'not_applicable' }),
];
