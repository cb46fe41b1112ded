// The 50,000 site points below layers.POINTS_MAXZOOM, drawn as one MapLibre custom layer from the site
// table's lon/lat, coloured by the score band of each row. Why not the tiles' site_points layer:
// MapLibre parses every point feature in a worker and then, for the band in feature-state,
// again on the main thread per state change; on the 50,000-site demo that left ~130 MB of
// garbage in the tile worker and the page at load (bench/ui.py, issue 18 §4). Here the points
// are one vertex buffer (8 bytes a row) and a band buffer (1 byte a row) that a re-rank
// rewrites in one bufferSubData. Hover and click find the point under the pointer in a grid.

const VERT = `
attribute vec2 a_pos;
attribute float a_band;
uniform mat4 u_matrix;
uniform float u_size;
uniform vec4 u_colors[16];
varying vec4 v_color;
void main() {
  gl_Position = u_matrix * vec4(a_pos, 0.0, 1.0);
  gl_PointSize = u_size;
  v_color = u_colors[int(clamp(a_band + 2.0, 0.0, 15.0))];
}`;

// A disc of radius u_radius with a ring of u_stroke (device pixels), antialiased over the pixel
// inside each edge as MapLibre's circle shader does; premultiplied alpha (MapLibre blends with
// ONE, ONE_MINUS_SRC_ALPHA).
const FRAG = `
precision highp float; // as the vertex shader: uniforms shared by both must agree
uniform float u_size;
uniform float u_radius;
uniform float u_stroke;
uniform vec4 u_stroke_color;
varying vec4 v_color;
void main() {
  float d = length(gl_PointCoord - 0.5) * u_size;
  float outer = 1.0 - smoothstep(u_radius + u_stroke - 1.0, u_radius + u_stroke, d);
  float fill = u_stroke < 0.01 ? 1.0 : 1.0 - smoothstep(u_radius - 1.0, u_radius, d);
  vec4 c = mix(u_stroke_color, v_color, fill);
  gl_FragColor = vec4(c.rgb * c.a, c.a) * outer;
}`;

/** '#rrggbb' or 'rgba(r, g, b, a)' as [r, g, b, a] in 0..1. */
export function rgba(color) {
  const m = /^rgba?\(([^)]+)\)$/.exec(color);
  if (m) {
    const [r, g, b, a = 1] = m[1].split(',').map(Number);
    return [r / 255, g / 255, b / 255, a];
  }
  const n = parseInt(color.slice(1), 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255, 1];
}

/** A value of piecewise-linear `stops` ([[zoom, value], …]) at `zoom`, clamped at the ends. */
export function interpolate(stops, zoom) {
  if (zoom <= stops[0][0]) return stops[0][1];
  for (let i = 1; i < stops.length; i++) {
    const [z1, v1] = stops[i];
    if (zoom <= z1) {
      const [z0, v0] = stops[i - 1];
      return v0 + ((v1 - v0) * (zoom - z0)) / (z1 - z0);
    }
  }
  return stops[stops.length - 1][1];
}

/** Web Mercator x, y in 0..1 of a longitude / latitude (as MapLibre's MercatorCoordinate). */
const mercX = (lon) => (180 + lon) / 360;
const mercY = (lat) => (180 - (180 / Math.PI) * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360))) / 360;

const GRID = 128; // cells a side of the hit-test grid

/**
 * The points of `rows` (row indices into the table's `lon`, `lat`) with their mercator position
 * relative to the first one (float32 keeps sub-pixel precision so near an origin), and a grid of
 * them for hit tests (cell → rows, CSR).
 */
export function pointIndex(lon, lat, rows) {
  const m = rows.length;
  const x = new Float64Array(m);
  const y = new Float64Array(m);
  let x0 = Infinity; let y0 = Infinity; let x1 = -Infinity; let y1 = -Infinity;
  for (let k = 0; k < m; k++) {
    x[k] = mercX(lon[rows[k]]);
    y[k] = mercY(lat[rows[k]]);
    if (!(Number.isFinite(x[k]) && Number.isFinite(y[k]))) continue;
    x0 = Math.min(x0, x[k]); y0 = Math.min(y0, y[k]); x1 = Math.max(x1, x[k]); y1 = Math.max(y1, y[k]);
  }
  if (!(x1 >= x0)) { x0 = 0; y0 = 0; x1 = 1; y1 = 1; }
  const origin = [x0, y0];
  const pos = new Float32Array(2 * m);
  const cw = (x1 - x0) / GRID || 1e-9;
  const ch = (y1 - y0) / GRID || 1e-9;
  const cellOf = (k) => {
    if (!(Number.isFinite(x[k]) && Number.isFinite(y[k]))) return -1;
    const cx = Math.min(GRID - 1, Math.floor((x[k] - x0) / cw));
    const cy = Math.min(GRID - 1, Math.floor((y[k] - y0) / ch));
    return cy * GRID + cx;
  };
  const start = new Uint32Array(GRID * GRID + 1);
  for (let k = 0; k < m; k++) {
    pos[2 * k] = x[k] - x0;
    pos[2 * k + 1] = y[k] - y0;
    const c = cellOf(k);
    if (c >= 0) start[c + 1]++;
  }
  for (let c = 0; c < GRID * GRID; c++) start[c + 1] += start[c];
  const fill = start.slice(0, GRID * GRID);
  const members = new Uint32Array(start[GRID * GRID]);
  for (let k = 0; k < m; k++) {
    const c = cellOf(k);
    if (c >= 0) members[fill[c]++] = k;
  }
  /** The point (index into rows) nearest to mercator (px, py) within `tol`, or -1. */
  function nearest(px, py, tol) {
    const ca = Math.max(0, Math.floor((px - tol - x0) / cw));
    const cb = Math.min(GRID - 1, Math.floor((px + tol - x0) / cw));
    const ra = Math.max(0, Math.floor((py - tol - y0) / ch));
    const rb = Math.min(GRID - 1, Math.floor((py + tol - y0) / ch));
    let best = -1;
    let bestD = tol * tol;
    for (let r = ra; r <= rb; r++) {
      for (let c = ca; c <= cb; c++) {
        const cell = r * GRID + c;
        for (let i = start[cell]; i < start[cell + 1]; i++) {
          const k = members[i];
          const d = (x[k] - px) ** 2 + (y[k] - py) ** 2;
          if (d <= bestD) { bestD = d; best = k; }
        }
      }
    }
    return best;
  }
  return { origin, pos, nearest };
}

function compile(gl, type, src) {
  const s = gl.createShader(type);
  gl.shaderSource(s, src);
  gl.compileShader(s);
  return s;
}

// The programs of a WebGL context (the public and the staff points share them). Each status
// query waits until the GPU process has run every command before it: only the link status is
// asked, once per program, and the shaders' logs only when the link failed.
const programs = new WeakMap();

function program(gl, vert, frag, attributes, uniforms) {
  let known = programs.get(gl);
  if (!known) {
    known = new Map();
    programs.set(gl, known);
    // a lost context loses its programs: a restored one compiles them anew
    gl.canvas.addEventListener?.('webglcontextlost', () => programs.delete(gl), { once: true });
  }
  if (known.has(vert + frag)) return known.get(vert + frag);
  const prog = gl.createProgram();
  const shaders = [compile(gl, gl.VERTEX_SHADER, vert), compile(gl, gl.FRAGMENT_SHADER, frag)];
  for (const sh of shaders) gl.attachShader(prog, sh);
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) {
    const logs = [gl.getProgramInfoLog(prog), ...shaders.map((sh) => gl.getShaderInfoLog(sh))].filter(Boolean);
    throw new Error(`site points program: ${logs.join(' ')}`);
  }
  const loc = { prog };
  for (const a of attributes) loc[a] = gl.getAttribLocation(prog, a);
  for (const u of uniforms) loc[u] = gl.getUniformLocation(prog, u);
  known.set(vert + frag, loc);
  return loc;
}

/** Premultiplied colours over what is drawn, no depth or stencil test (as MapLibre blends). */
function blendOver(gl) {
  gl.disable(gl.DEPTH_TEST);
  gl.disable(gl.STENCIL_TEST);
  gl.enable(gl.BLEND);
  gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
}

// The drawn points as one texture over the map (premultiplied, as drawn): copied texel for texel.
const COPY_VERT = `
attribute vec2 a_xy;
void main() { gl_Position = vec4(a_xy, 0.0, 1.0); }`;
const COPY_FRAG = `
precision highp float;
uniform sampler2D u_tex;
uniform vec2 u_res;
void main() { gl_FragColor = texture2D(u_tex, gl_FragCoord.xy / u_res); }`;

/**
 * The custom layer of the site points of `rows` (the public rows: fid ≥ 0) in `prep` (the
 * prepared table), styled by `spec` (layers.sitePoints()). Returns {layer (for map.addLayer),
 * setBands(rowBand: Int8Array by table row), pick(map, point) → table row or -1, visible(map)}.
 *
 * With `spec.texture` the points are drawn into a texture in MapLibre's offscreen pass and the
 * texture onto the map in its frame; a frame with the same view, bands and size only copies the
 * texture. On the software renderer the 50,000 points cost ~125 ms of CPU a frame, the copy a
 * fraction of it, and the map draws a frame for every tile that arrives while it loads
 * (bench/ui.py, issue 18 §4). A few thousand points cost about what the copy does: the staff's
 * non-public points are drawn straight onto the map in every frame.
 */
export function createSitePoints(prep, rows, spec) {
  const index = pointIndex(prep.columns.lon, prep.columns.lat, rows);
  const bands = new Int8Array(rows.length).fill(-2);
  const colors = new Float32Array(16 * 4);
  const put = (i, c) => colors.set(rgba(c), 4 * i);
  for (let i = 0; i < 16; i++) put(i, spec.unscored);
  put(1, spec.excluded);
  spec.colors.forEach((c, k) => put(k + 2, c));
  const stroke = rgba(spec.strokeColor);
  let gl = null;
  let loc = null;
  let copy = null;
  let posBuf = null;
  let bandBuf = null;
  let triBuf = null;
  let tex = null;
  let texSize = [0, 0];
  let fbo = null;
  let dirty = true;
  let map = null;
  // this frame's uniforms (u_matrix, then u_size, u_radius, u_stroke and the drawing buffer's
  // width and height) and those the texture holds (null: none)
  const frame = new Float32Array(21);
  let held = null;

  /** This frame's uniforms into `frame`; false when no point is drawn at this zoom. */
  function prepare(args) {
    const zoom = map.getZoom();
    if (!rows.length || zoom >= spec.maxzoom) return false;
    // mercator 0..1 → clip space, moved to the points' origin (relative-to-centre precision)
    const M = args.defaultProjectionData.mainMatrix;
    const [ox, oy] = index.origin;
    for (let i = 0; i < 12; i++) frame[i] = M[i];
    for (let r = 0; r < 4; r++) frame[12 + r] = M[r] * ox + M[4 + r] * oy + M[12 + r];
    const dpr = map.getPixelRatio();
    const radius = interpolate(spec.radius, zoom) * dpr;
    const ring = interpolate(spec.strokeWidth, zoom) * dpr;
    frame[16] = Math.ceil(2 * (radius + ring) + 2);
    frame[17] = radius;
    frame[18] = ring;
    frame[19] = gl.drawingBufferWidth;
    frame[20] = gl.drawingBufferHeight;
    return true;
  }

  function drawPoints() {
    if (dirty) {
      gl.bindBuffer(gl.ARRAY_BUFFER, bandBuf);
      gl.bufferSubData(gl.ARRAY_BUFFER, 0, bands);
      dirty = false;
      held = null;
    }
    gl.useProgram(loc.prog);
    gl.uniformMatrix4fv(loc.u_matrix, false, frame.subarray(0, 16));
    gl.uniform1f(loc.u_size, frame[16]);
    gl.uniform1f(loc.u_radius, frame[17]);
    gl.uniform1f(loc.u_stroke, frame[18]);
    gl.uniform4fv(loc.u_stroke_color, stroke);
    gl.uniform4fv(loc.u_colors, colors);
    gl.bindBuffer(gl.ARRAY_BUFFER, posBuf);
    gl.enableVertexAttribArray(loc.a_pos);
    gl.vertexAttribPointer(loc.a_pos, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, bandBuf);
    gl.enableVertexAttribArray(loc.a_band);
    gl.vertexAttribPointer(loc.a_band, 1, gl.BYTE, false, 0, 0);
    blendOver(gl);
    gl.drawArrays(gl.POINTS, 0, rows.length);
    gl.disableVertexAttribArray(loc.a_pos);
    gl.disableVertexAttribArray(loc.a_band);
  }

  const same = () => held !== null && !dirty && frame.every((v, i) => v === held[i]);

  const layer = {
    id: spec.id,
    type: 'custom',
    renderingMode: '2d',
    onAdd(m, context) {
      map = m;
      gl = context;
      loc = program(gl, VERT, FRAG, ['a_pos', 'a_band'], ['u_matrix', 'u_size', 'u_colors', 'u_radius', 'u_stroke', 'u_stroke_color']);
      posBuf = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, posBuf);
      gl.bufferData(gl.ARRAY_BUFFER, index.pos, gl.STATIC_DRAW);
      bandBuf = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, bandBuf);
      gl.bufferData(gl.ARRAY_BUFFER, bands, gl.DYNAMIC_DRAW);
      if (spec.texture) {
        copy = program(gl, COPY_VERT, COPY_FRAG, ['a_xy'], ['u_tex', 'u_res']);
        triBuf = gl.createBuffer(); // one triangle over the whole drawing buffer
        gl.bindBuffer(gl.ARRAY_BUFFER, triBuf);
        gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 3, -1, -1, 3]), gl.STATIC_DRAW);
        tex = gl.createTexture();
        texSize = [0, 0];
        fbo = gl.createFramebuffer();
      }
      dirty = false;
      held = null;
    },
    onRemove() {
      for (const b of [posBuf, bandBuf, triBuf]) if (b) gl?.deleteBuffer(b);
      if (tex) gl?.deleteTexture(tex);
      if (fbo) gl?.deleteFramebuffer(fbo);
      gl = null; // the programs stay with the context (shared; freed with it)
    },
    // MapLibre's offscreen pass (before the frame's own framebuffer is bound): the points into
    // the texture, unless it holds them as this frame would draw them
    prerender(context, args) {
      if (!spec.texture || !prepare(args) || same()) return;
      const [w, h] = [frame[19], frame[20]];
      gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
      if (texSize[0] !== w || texSize[1] !== h) { // (re)size the texture to the drawing buffer
        texSize = [w, h];
        gl.bindTexture(gl.TEXTURE_2D, tex);
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, w, h, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
        for (const p of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER]) gl.texParameteri(gl.TEXTURE_2D, p, gl.NEAREST);
        for (const p of [gl.TEXTURE_WRAP_S, gl.TEXTURE_WRAP_T]) gl.texParameteri(gl.TEXTURE_2D, p, gl.CLAMP_TO_EDGE);
        gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
      }
      gl.viewport(0, 0, w, h);
      gl.clearColor(0, 0, 0, 0);
      gl.clear(gl.COLOR_BUFFER_BIT);
      drawPoints();
      held = frame.slice();
    },
    render(context, args) {
      if (!prepare(args)) return;
      if (!same()) { // not drawn into the texture for this frame: straight onto the map
        drawPoints();
        return;
      }
      gl.useProgram(copy.prog);
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, tex);
      gl.uniform1i(copy.u_tex, 0);
      gl.uniform2f(copy.u_res, frame[19], frame[20]);
      gl.bindBuffer(gl.ARRAY_BUFFER, triBuf);
      gl.enableVertexAttribArray(copy.a_xy);
      gl.vertexAttribPointer(copy.a_xy, 2, gl.FLOAT, false, 0, 0);
      blendOver(gl);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
      gl.disableVertexAttribArray(copy.a_xy);
    },
  };

  return {
    layer,
    /** Take the band of every table row (Int8Array, see scoring.band); redraws once. */
    setBands(rowBand) {
      let changed = false;
      for (let k = 0; k < rows.length; k++) {
        const b = rowBand[rows[k]];
        if (bands[k] !== b) { bands[k] = b; changed = true; }
      }
      if (!changed) return;
      dirty = true;
      map?.triggerRepaint();
    },
    /** The table rows drawn and the band each is drawn with (for the tests and bench/ui.py). */
    drawn() {
      return { rows: [...rows], bands: [...bands] };
    },
    /** Whether the points are drawn now (the layer visible, below the zoom of the polygons). */
    visible(m) {
      return m.getZoom() < spec.maxzoom && m.getLayer(spec.id) && m.getLayoutProperty(spec.id, 'visibility') !== 'none';
    },
    /** The table row of the point under `point` (pixels in the map's container), or -1. */
    pick(m, point) {
      if (!this.visible(m)) return -1;
      const ll = m.unproject(point);
      const zoom = m.getZoom();
      const px = interpolate(spec.radius, zoom) + interpolate(spec.strokeWidth, zoom) + 1;
      const k = index.nearest(mercX(ll.lng), mercY(ll.lat), px / (512 * 2 ** zoom));
      return k < 0 ? -1 : rows[k];
    },
  };
}
