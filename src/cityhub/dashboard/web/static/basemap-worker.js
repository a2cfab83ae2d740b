// The offline basemap's heavy part, off the page's main thread: fetch the world-atlas
// TopoJSON once, decode it, and answer each city's request with the land (clipped), the
// coastlines and the borders around it as small GeoJSON collections.
/* global topojson */
importScripts('/dashboard/vendor/topojson-client/dist/topojson-client.min.js');

const EMPTY = { type: 'FeatureCollection', features: [] };

// The world-atlas TopoJSON decoded once: every arc as a line with its bounding box, how many
// shapes use it (1: a coastline, 2: a border), and each shape's bounding box. Only what is
// near the city is then handed to MapLibre, which keeps its worker free for the city's data.
function decode(topology) {
  const transform = topology.transform;
  const [sx, sy] = transform ? transform.scale : [1, 1];
  const [tx, ty] = transform ? transform.translate : [0, 0];
  const arcs = topology.arcs.map((arc) => {
    const box = [Infinity, Infinity, -Infinity, -Infinity];
    const line = new Array(arc.length);
    let x = 0;
    let y = 0;
    for (let i = 0; i < arc.length; i += 1) {
      if (transform) {
        x += arc[i][0];
        y += arc[i][1];
      } else {
        [x, y] = arc[i];
      }
      const point = [x * sx + tx, y * sy + ty];
      line[i] = point;
      if (point[0] < box[0]) box[0] = point[0];
      if (point[1] < box[1]) box[1] = point[1];
      if (point[0] > box[2]) box[2] = point[0];
      if (point[1] > box[3]) box[3] = point[1];
    }
    return { line, box, uses: 0 };
  });
  const { countries, land } = topology.objects;
  const object = countries || land;
  const shapes = (object.type === 'GeometryCollection' ? object.geometries : [object]).map((g) => {
    const box = [Infinity, Infinity, -Infinity, -Infinity];
    const visit = (item) => {
      if (Array.isArray(item)) {
        item.forEach(visit);
        return;
      }
      const arc = arcs[item < 0 ? ~item : item];
      arc.uses += 1;
      box[0] = Math.min(box[0], arc.box[0]);
      box[1] = Math.min(box[1], arc.box[1]);
      box[2] = Math.max(box[2], arc.box[2]);
      box[3] = Math.max(box[3], arc.box[3]);
    };
    visit(g.arcs || []);
    return { geometry: g, box };
  });
  return { topology, arcs, shapes, borders: Boolean(countries) };
}

function near(box, area) {
  return !(box[2] < area[0] || box[0] > area[2] || box[3] < area[1] || box[1] > area[3]);
}

function lines(arcs, keep) {
  return {
    type: 'FeatureCollection',
    features: arcs.filter(keep).map((arc) => ({
      type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: arc.line },
    })),
  };
}

// Clip a ring to a rectangle, one edge after the other (Sutherland–Hodgman): the worker then
// cuts only the part of a large country around the city into tiles.
function clipRing(ring, [west, south, east, north]) {
  const edges = [
    [(p) => p[0] >= west, (a, b) => cross(a, b, 0, west)],
    [(p) => p[0] <= east, (a, b) => cross(a, b, 0, east)],
    [(p) => p[1] >= south, (a, b) => cross(a, b, 1, south)],
    [(p) => p[1] <= north, (a, b) => cross(a, b, 1, north)],
  ];
  let points = ring;
  for (const [inside, at] of edges) {
    const out = [];
    for (let i = 0; i < points.length; i += 1) {
      const current = points[i];
      const previous = points[(i + points.length - 1) % points.length];
      if (inside(current)) {
        if (!inside(previous)) out.push(at(previous, current));
        out.push(current);
      } else if (inside(previous)) {
        out.push(at(previous, current));
      }
    }
    points = out;
    if (!points.length) return null;
  }
  points.push(points[0]);
  return points.length >= 4 ? points : null;
}

function cross(a, b, axis, value) {
  const share = (value - a[axis]) / (b[axis] - a[axis]);
  const point = [a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share];
  point[axis] = value;
  return point;
}

function clipLand(collection, area) {
  const features = [];
  for (const feature of collection.features) {
    const g = feature.geometry;
    if (!g) continue;
    const polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
    const kept = polygons
      .map((rings) => rings.map((ring) => clipRing(ring.slice(0, -1), area)).filter(Boolean))
      .filter((rings) => rings.length);
    if (kept.length) {
      features.push({ type: 'Feature', properties: {}, geometry: { type: 'MultiPolygon', coordinates: kept } });
    }
  }
  return { type: 'FeatureCollection', features };
}

let world = null;

async function load(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return decode(await response.json());
}

function around(center) {
  const [lon, lat] = center;
  const area = [lon - 10, lat - 8, lon + 10, lat + 8];
  const shapes = world.shapes.filter((s) => near(s.box, area)).map((s) => s.geometry);
  const land = topojson.feature(world.topology, { type: 'GeometryCollection', geometries: shapes });
  const arcs = world.arcs.filter((arc) => near(arc.box, area));
  return {
    land: clipLand(land, area),
    coast: lines(arcs, (arc) => arc.uses === 1),
    borders: world.borders ? lines(arcs, (arc) => arc.uses > 1) : EMPTY,
  };
}

// Messages: {id, url, center} → {id, land, coast, borders} or {id, error}.
self.onmessage = async ({ data }) => {
  try {
    world ??= load(data.url);
    world = await world;
    self.postMessage({ id: data.id, ...around(data.center) });
  } catch (err) {
    world = null;
    self.postMessage({ id: data.id, error: String(err?.message || err) });
  }
};
