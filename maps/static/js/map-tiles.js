// The PMTiles archives behind the map: the pmtiles:// protocol registered with MapLibre (with
// retries), one archive per URL with a cache that forgets failures, and warmUp() for the first
// view. map.js and the exposé's site map share the archives.

import * as maplibregl from 'maplibre-gl';
import { PMTiles, Protocol, SharedPromiseCache } from 'pmtiles';

export const NRW_BOUNDS = [[5.86, 50.32], [9.46, 52.53]];

let protocol = null;
// set while the page is being left: requests cut off by the navigation are no errors
let leaving = false;
addEventListener('pagehide', () => { leaving = true; });
addEventListener('beforeunload', () => { leaving = true; });
addEventListener('pageshow', () => { leaving = false; });
const archives = new Map();

/** Whether the page is being left (a failed request then is no error). */
export const isLeaving = () => leaving;

/**
 * pmtiles' shared cache keeps a failed header or directory fetch as a rejected promise, so one
 * dropped connection would break every later tile of that directory until the page is reloaded.
 * This cache forgets a failure, so that the next request (the retry below) fetches it again.
 * The directory key is the one pmtiles 4.x builds (source key, ETag, offset, length).
 */
class ForgetfulCache extends SharedPromiseCache {
  async getHeader(source) {
    try {
      return await super.getHeader(source);
    } catch (err) {
      this.cache.delete(source.getKey());
      throw err;
    }
  }

  async getDirectory(source, offset, length, header, signal) {
    try {
      return await super.getDirectory(source, offset, length, header, signal);
    } catch (err) {
      const key = `${source.getKey()}|${header.etag || ''}|${offset}|${length}`;
      this.cache.delete(key);
      this.pendingFetches.delete(key);
      throw err;
    }
  }
}

/** A URL made absolute against the page (MapLibre's workers have no base URL). */
export function absolute(url) {
  return new URL(url, document.baseURI).href;
}

/** Register the pmtiles:// protocol (once) and the archive at `tilesUrl`; returns its absolute URL. */
export function registerPmtiles(tilesUrl) {
  if (!protocol) {
    protocol = new Protocol();
    // a range request that fails on the network (a busy server, a dropped connection) is tried
    // twice more before MapLibre marks the tile as failed; an aborted one is not retried
    maplibregl.addProtocol('pmtiles', async (params, abort) => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          return await protocol.tilev4(params, abort);
        } catch (err) {
          if (abort.signal.aborted || err?.name === 'AbortError' || attempt >= 2) throw err;
          await new Promise((r) => { setTimeout(r, 250 * 2 ** attempt); });
        }
      }
    });
  }
  const url = absolute(tilesUrl);
  if (!archives.has(url)) {
    const p = new PMTiles(url, new ForgetfulCache()); // one per archive: map and warmUp share it
    protocol.add(p);
    archives.set(url, p);
  }
  return url;
}

/**
 * Start what the map needs before the rest of the data is in: MapLibre's web worker and the
 * PMTiles header with its root directory (called as soon as api/ui/config has arrived).
 */
export function warmUp(tilesUrl) {
  // at least two tile workers: MapLibre's default (half the cores) is one on a 2-core machine;
  // bench/ui.py there: ready median 3.4 s with two, 3.8 s with one, for about 40 MB more memory
  maplibregl.setWorkerCount(Math.max(2, Math.floor((navigator.hardwareConcurrency || 2) / 2)));
  maplibregl.prewarm();
  if (!tilesUrl) return;
  const p = archives.get(registerPmtiles(tilesUrl));
  // the tiles of the first view (NRW at zoom 6): fetching them now also brings the (leaf)
  // directories into the archive's cache before the map asks
  const z = 6;
  const x = (lon) => Math.floor(((lon + 180) / 360) * 2 ** z);
  const y = (lat) => {
    const r = (lat * Math.PI) / 180;
    return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
  };
  const [[w, s], [e, n]] = NRW_BOUNDS;
  for (let tx = x(w); tx <= x(e); tx++) for (let ty = y(n); ty <= y(s); ty++) p.getZxy(z, tx, ty).catch(() => {});
}
