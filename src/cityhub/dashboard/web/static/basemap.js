// The map's base: an online style or raster tiles when the hub's config names one, else an
// offline style drawn from the world-atlas TopoJSON the hub serves (land, coastlines,
// borders). No glyphs, so no text on the map.
import { perFeature } from './layers.js';

const EMPTY = { type: 'FeatureCollection', features: [] };

const BASE_COLORS = {
  water: '#c9dcea',
  land: '#f3f1ea',
  coast: '#6f8fa8',
  border: '#8b8b8b',
  road: '#b9b4a8',
};

/** The style to start the map with: {style, offline} (offline: land still to be loaded). */
export function baseStyle(mapConfig) {
  if (mapConfig?.style) return { style: mapConfig.style, offline: false };
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': BASE_COLORS.water } }],
  };
  if (mapConfig?.tiles) {
    style.sources.tiles = {
      type: 'raster', tiles: [mapConfig.tiles], tileSize: 256,
      attribution: mapConfig.attribution || undefined,
    };
    style.layers.push({ id: 'tiles', type: 'raster', source: 'tiles' });
    return { style, offline: false };
  }
  for (const id of ['base-land', 'base-coast', 'base-border']) {
    style.sources[id] = { type: 'geojson', data: EMPTY, tolerance: 0.5 };
  }
  style.layers.push(
    {
      id: 'base-land', type: 'fill', source: 'base-land',
      paint: { 'fill-color': perFeature(BASE_COLORS.land) },
    },
    {
      id: 'base-coast', type: 'line', source: 'base-coast',
      paint: { 'line-color': perFeature(BASE_COLORS.coast), 'line-width': perFeature(1) },
    },
    {
      id: 'base-border', type: 'line', source: 'base-border',
      paint: { 'line-color': perFeature(BASE_COLORS.border), 'line-width': perFeature(1.5) },
    },
  );
  return { style, offline: true };
}

/** The data's own roads in grey: shown in place of the traffic colours when those are off. */
export function roadLayer(sourceId) {
  return {
    id: 'base-roads', type: 'line', source: sourceId,
    filter: ['in', ['geometry-type'], ['literal', ['LineString', 'MultiLineString']]],
    layout: { 'line-cap': 'round', 'line-join': 'round', visibility: 'none' },
    paint: { 'line-color': perFeature(BASE_COLORS.road), 'line-width': perFeature(4) },
  };
}

let worker = null;
let asked = 0;
const answers = new Map();

function ask(url, center) {
  if (!worker) {
    worker = new Worker('/dashboard/static/basemap-worker.js');
    worker.onmessage = ({ data }) => {
      answers.get(data.id)?.(data);
      answers.delete(data.id);
    };
  }
  asked += 1;
  const id = asked;
  return new Promise((resolve, reject) => {
    answers.set(id, (data) => (data.error ? reject(new Error(data.error)) : resolve(data)));
    worker.postMessage({ id, url, center });
  });
}

/** Start fetching and decoding the world early, in a worker (while the city's data loads). */
export function prepareWorld(url, center) {
  return url ? ask(url, center) : null;
}

/** Put land, coastlines and borders around the city (about 1,000 km) on the offline map. */
export async function showOfflineBase(map, url, center, prepared = null) {
  if (!url) return;
  const base = await (prepared ?? ask(url, center));
  map.getSource('base-land')?.setData(base.land);
  map.getSource('base-coast')?.setData(base.coast);
  map.getSource('base-border')?.setData(base.borders);
}
