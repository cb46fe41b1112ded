// Non-public sites on the map for signed-in staff. The vector tiles hold only public sites (the
// same tiles serve everyone and may sit in any cache), so the page draws the sites the public
// may not see from the staff's own site table (fid -1: not in the tiles) as points with a purple
// ring at every zoom, coloured by the live score band. They are a second custom layer of
// map-points.js, on top of the map: a re-rank rewrites their band buffer like the public
// points' (no GeoJSON source for the worker, no feature-state), so the signed-in page costs
// what the public one does (issue 18 §4).

import { UNSCORED_COLOR } from './layers.js';
import { createSitePoints } from './map-points.js';

export const STAFF_POINTS = 'staff-site-points';

/** The style of the non-public points (see layers.sitePoints()): drawn at every zoom. */
export function staffPoints(bands) {
  return { id: STAFF_POINTS, maxzoom: Infinity, colors: [...bands.colors], excluded: bands.noScore,
    unscored: UNSCORED_COLOR, radius: [[6, 4], [12, 8]], strokeColor: '#5c1a5c', strokeWidth: [[0, 2.5]] };
}

/** The points of the rows of `prep` that are not in the public tiles, or null when there are none. */
export function createStaffPoints(prep, bands) {
  const rows = [];
  for (let i = 0; i < prep.n; i++) if (prep.fid[i] === -1) rows.push(i);
  return rows.length ? createSitePoints(prep, rows, staffPoints(bands)) : null;
}
