// A small TopoJSON decoder (world-atlas countries → GeoJSON), enough for polygons.
// Pure; no DOM; tested with node --test.

function decodeArcs(topo) {
  const t = topo.transform;
  return topo.arcs.map((arc) => {
    let x = 0;
    let y = 0;
    return arc.map((p) => {
      if (!t) return [p[0], p[1]];
      x += p[0];
      y += p[1];
      return [x * t.scale[0] + t.translate[0], y * t.scale[1] + t.translate[1]];
    });
  });
}

function ring(arcs, indexes) {
  const out = [];
  for (const i of indexes) {
    const a = i < 0 ? arcs[~i].slice().reverse() : arcs[i];
    // consecutive arcs share their end point
    out.push(...(out.length ? a.slice(1) : a));
  }
  return out;
}

function geometry(arcs, g) {
  if (g.type === 'Polygon') return { type: 'Polygon', coordinates: g.arcs.map((r) => ring(arcs, r)) };
  if (g.type === 'MultiPolygon') {
    return { type: 'MultiPolygon', coordinates: g.arcs.map((p) => p.map((r) => ring(arcs, r))) };
  }
  return null;
}

function bboxOf(coords, b = [Infinity, Infinity, -Infinity, -Infinity]) {
  if (typeof coords[0] === 'number') {
    b[0] = Math.min(b[0], coords[0]); b[1] = Math.min(b[1], coords[1]);
    b[2] = Math.max(b[2], coords[0]); b[3] = Math.max(b[3], coords[1]);
  } else for (const c of coords) bboxOf(c, b);
  return b;
}

/**
 * The features of one TopoJSON object, optionally only those whose bounding box meets `within`
 * ([west, south, east, north]). Each feature keeps `id` and `properties.name`.
 */
export function features(topo, objectName, within = null) {
  const arcs = decodeArcs(topo);
  const out = [];
  for (const g of topo.objects[objectName].geometries) {
    const geom = geometry(arcs, g);
    if (!geom) continue;
    const b = bboxOf(geom.coordinates);
    if (within && (b[2] < within[0] || b[0] > within[2] || b[3] < within[1] || b[1] > within[3])) continue;
    out.push({ type: 'Feature', id: g.id, properties: { id: String(g.id), name: g.properties?.name ?? '' },
      geometry: geom, bbox: b });
  }
  return out;
}

/** Clip a polygon ring to a box (Sutherland–Hodgman), to keep far-away coast out of the map. */
export function clipRing(r, [w, s, e, n]) {
  const edges = [
    (p) => p[0] >= w, (p) => p[0] <= e, (p) => p[1] >= s, (p) => p[1] <= n,
  ];
  const cut = [
    (a, b) => [w, a[1] + (b[1] - a[1]) * (w - a[0]) / (b[0] - a[0])],
    (a, b) => [e, a[1] + (b[1] - a[1]) * (e - a[0]) / (b[0] - a[0])],
    (a, b) => [a[0] + (b[0] - a[0]) * (s - a[1]) / (b[1] - a[1]), s],
    (a, b) => [a[0] + (b[0] - a[0]) * (n - a[1]) / (b[1] - a[1]), n],
  ];
  let pts = r;
  for (let k = 0; k < 4 && pts.length; k++) {
    const inside = edges[k];
    const next = [];
    for (let i = 0; i < pts.length; i++) {
      const a = pts[i];
      const b = pts[(i + 1) % pts.length];
      if (inside(a)) {
        next.push(a);
        if (!inside(b)) next.push(cut[k](a, b));
      } else if (inside(b)) next.push(cut[k](a, b));
    }
    pts = next;
  }
  if (pts.length && (pts[0][0] !== pts[pts.length - 1][0] || pts[0][1] !== pts[pts.length - 1][1])) pts.push(pts[0]);
  return pts.length >= 4 ? pts : null;
}

/** Features clipped to a box, as a FeatureCollection. */
export function clipped(feats, box) {
  const out = [];
  for (const f of feats) {
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    const kept = polys.map((p) => p.map((r) => clipRing(r, box)).filter(Boolean)).filter((p) => p.length);
    if (kept.length) {
      out.push({ type: 'Feature', properties: f.properties, geometry: { type: 'MultiPolygon', coordinates: kept } });
    }
  }
  return { type: 'FeatureCollection', features: out };
}
