// One store, events out (todomvc's store): every named method changes the state and dispatches
// one `change` event whose detail.keys lists what changed. Modules subscribe; they never call
// each other, so the list never calls the map and the map never calls the list.

export const MAX_COMPARE = 4;
const SHORTLIST_KEY = 'nrw-sites.shortlist';

export class Store extends EventTarget {
  constructor(init) {
    super();
    this.s = {
      lang: 'de',
      profile: 'balanced',
      weights: {},
      year: 2032,
      filters: {}, // every filter of the served registry by its API name (filters.js emptyFilters)
      sel: null, // a site_id, or 'adhoc' for a drawn / dropped polygon
      hover: null,
      cmp: [],
      shortlist: [],
      layers: {},
      adhoc: null, // {feature, name, id ('own:K'), result | error | pending}
      own: {}, // own areas in the comparison: id 'own:K' → {id, name, result}
      ranking: null, // scoring.rank() output plus {key}
      compareOpen: false,
      marked: [], // site ids an opened inquiry newly matches (inquiries.js): marked in the list and map
      ...init,
    };
  }

  get state() {
    return this.s;
  }

  _emit(keys) {
    this.dispatchEvent(new CustomEvent('change', { detail: { keys: new Set(keys), state: this.s } }));
  }

  _set(patch) {
    const keys = Object.keys(patch).filter((k) => this.s[k] !== patch[k]);
    if (!keys.length) return;
    Object.assign(this.s, patch);
    if (keys.includes('shortlist')) this._saveShortlist();
    this._emit(keys);
  }

  setLang(lang) { this._set({ lang }); }

  /** A new profile brings its own weights and H2 horizon. */
  setProfile(profile, weights, year) { this._set({ profile, weights: { ...weights }, year }); }

  setWeight(criterion, w) { this._set({ weights: { ...this.s.weights, [criterion]: w } }); }

  setWeights(weights) { this._set({ weights: { ...weights } }); }

  setYear(year) { this._set({ year }); }

  /** Profile, weights, year and filters at once (an inquiry opened): one change event. */
  setView({ profile, weights, year, filters }) {
    this._set({ profile, weights: { ...weights }, year, filters: { ...filters } });
  }

  setMarked(ids) { this._set({ marked: [...(ids || [])] }); }

  setFilters(patch) { this._set({ filters: { ...this.s.filters, ...patch } }); }

  select(id) { this._set({ sel: id || null }); }

  hover(id) { this._set({ hover: id || null }); }

  toggleCompare(id, on) {
    const has = this.s.cmp.includes(id);
    const want = on ?? !has;
    if (want === has) return;
    if (want && this.s.cmp.length >= MAX_COMPARE) return false;
    this._set({ cmp: want ? [...this.s.cmp, id] : this.s.cmp.filter((x) => x !== id) });
    return true;
  }

  clearCompare() { this._set({ cmp: [] }); }

  openCompare(open) { this._set({ compareOpen: !!open }); }

  toggleShortlist(id, on) {
    const has = this.s.shortlist.includes(id);
    const want = on ?? !has;
    if (want === has) return;
    this._set({ shortlist: want ? [...this.s.shortlist, id] : this.s.shortlist.filter((x) => x !== id) });
  }

  clearShortlist() { this._set({ shortlist: [] }); }

  setLayer(group, on) { this._set({ layers: { ...this.s.layers, [group]: !!on } }); }

  /** The drawn / dropped polygon; a new result of an own area in the comparison updates it there. */
  setAdhoc(adhoc) {
    const o = adhoc?.id && adhoc.result ? this.s.own[adhoc.id] : null;
    if (o) this._set({ adhoc, own: { ...this.s.own, [adhoc.id]: { ...o, result: adhoc.result } } });
    else this._set({ adhoc });
  }

  /** Add the scored own area `adhoc` to the comparison, or take it out; false when it is full. */
  toggleCompareOwn(adhoc) {
    if (!adhoc?.id || !adhoc.result) return false;
    if (this.s.cmp.includes(adhoc.id)) return this.toggleCompare(adhoc.id, false);
    if (this.s.cmp.length >= MAX_COMPARE) return false;
    this.s.own = { ...this.s.own, [adhoc.id]: { id: adhoc.id, name: adhoc.name, result: adhoc.result } };
    return this.toggleCompare(adhoc.id, true);
  }

  setRanking(ranking) { this._set({ ranking }); }

  _saveShortlist() {
    try { localStorage.setItem(SHORTLIST_KEY, JSON.stringify(this.s.shortlist)); } catch { /* private mode */ }
  }

  static savedShortlist() {
    try {
      const v = JSON.parse(localStorage.getItem(SHORTLIST_KEY) || '[]');
      return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
    } catch {
      return [];
    }
  }
}
